package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/timeline"
)

type rankedCall struct {
	viewer  int64
	cursor  string
	limit   int
	explain bool
}

type fakeRanked struct {
	calls []rankedCall
	err   error
}

func (f *fakeRanked) Ranked(_ context.Context, viewer int64, cursor string, limit int, explain bool) (ranking.Page, error) {
	f.calls = append(f.calls, rankedCall{viewer, cursor, limit, explain})
	if f.err != nil {
		return ranking.Page{}, f.err
	}
	it := timeline.Item{EventID: "e1", Type: "post", Actor: 2, Object: "e1", TS: testTS}
	if explain {
		it.Explain = &timeline.Explain{Score: 2, TypeWeight: 1, LiveBoost: 1, Affinity: 2, Freshness: 1, Engagement: 1, Diversity: 1}
	}
	return ranking.Page{Items: []timeline.Item{it}, Next: "nxt"}, nil
}

func TestGetFeedOrder(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		ranked      bool // a ranked feed is configured
		err         error
		status      int
		want        string // in the body
		call        *rankedCall
	}{
		{"ranked by default", "?limit=5&cursor=abc", true, nil, 200, `"next_cursor":"nxt"`, &rankedCall{7, "abc", 5, false}},
		{"explain", "?explain=1", true, nil, 200, `"explain":{"score":2,`, &rankedCall{7, "", DefaultPageLimit, true}},
		{"recent", "?order=recent", true, nil, 200, `"items"`, nil},
		{"no ranked feed: newest first", "", false, nil, 200, `"items"`, nil},
		{"no ranked feed: asked for", "?order=ranked", false, nil, 404, "not_found", nil},
		{"bad order", "?order=best", true, nil, 400, "order", nil},
		{"bad explain", "?explain=yes", true, nil, 400, "explain", nil},
		{"bad cursor", "?cursor=x", true, fmt.Errorf("wrapped: %w", timeline.ErrBadCursor), 400, "bad_cursor", &rankedCall{7, "x", DefaultPageLimit, false}},
		{"expired", "?cursor=x", true, ranking.ErrExpired, 410, "cursor_expired", &rankedCall{7, "x", DefaultPageLimit, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := &fakeRanked{err: tc.err}
			e := newEnv(t, func(c *Config) {
				if tc.ranked {
					c.Ranked = fr
				}
			})
			r := e.do(t, "GET", PathFeed+tc.query, map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("status %d body %s, want %d with %q", r.status, r.body, tc.status, tc.want)
			}
			if tc.call != nil && (len(fr.calls) != 1 || fr.calls[0] != *tc.call) {
				t.Fatalf("ranked calls %+v, want %+v", fr.calls, *tc.call)
			}
			if tc.call == nil && len(fr.calls) != 0 {
				t.Fatalf("ranked feed called: %+v", fr.calls)
			}
		})
	}
}
