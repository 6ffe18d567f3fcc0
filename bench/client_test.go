package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lenta-dev/lenta/schema"
)

// TestPublishRetriesBusyBus: a 503 is retried (50 ms apart, 21 tries at
// most), another refusal is not.
func TestPublishRetriesBusyBus(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int // answer per request; the last one repeats
		wantErr  string
		wantReqs int64
	}{
		{"accepted", []int{202}, "", 1},
		{"busy twice, then accepted", []int{503, 503, 202}, "", 3},
		{"bad request is not retried", []int{400}, "400", 1},
		{"busy until the attempts run out", []int{503}, "503", 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reqs atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(reqs.Add(1))
				w.WriteHeader(tt.statuses[min(n, len(tt.statuses))-1])
			}))
			defer srv.Close()
			c, err := NewClient(srv.URL, strings.Repeat("s", 32))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Publish(context.Background(), []schema.Event{{ID: "e1", Type: schema.Post, Actor: 1, Text: "hi"}})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Publish = %v, want an error with %q", err, tt.wantErr)
			}
			if got := reqs.Load(); got != tt.wantReqs {
				t.Fatalf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}
