package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
)

// TestPostEventsNoSpace: a publisher refusing for a full disk gives 507
// insufficient_storage with Retry-After and the figures; other errors stay 503.
func TestPostEventsNoSpace(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		status   int
		code     string
		mentions []string
	}{
		{"below watermark", fmt.Errorf("publish: %w", &fanout.NoSpaceError{Path: "/data", Free: 3 << 20, Min: 512 << 20}),
			507, codeInsufficientStorage, []string{"3.0 MiB free", "512 MiB watermark"}},
		{"bare ErrNoSpace", fanout.ErrNoSpace, 507, codeInsufficientStorage, []string{"too full"}},
		{"other failure", fmt.Errorf("log closed"), 503, codeUnavailable, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.pub.err = tc.err
			r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(e.token(t, 7, false)), "Content-Type": jsonCT},
				mustJSON(t, post("e1", 7)))
			if r.status != tc.status || r.header.Get("Retry-After") == "" {
				t.Fatalf("status %d retry-after %q: %s", r.status, r.header.Get("Retry-After"), r.body)
			}
			eb := r.errBody(t)
			if eb.Code != tc.code {
				t.Fatalf("code %q, want %q", eb.Code, tc.code)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(eb.Error, m) {
					t.Fatalf("message %q does not mention %q", eb.Error, m)
				}
			}
		})
	}
}
