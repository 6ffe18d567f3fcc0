package fanout_test

import (
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// TestMarkOnUnseenObjectRefused: a Class! whose actor may not see the
// object is refused with ErrNotVisible, and adds no row anywhere.
func TestMarkOnUnseenObjectRefused(t *testing.T) {
	for _, c := range []struct {
		name     string
		audience string
		actor    int64
		refused  bool
	}{
		{"private, friend", "private", 2, true},
		{"friends, friend", "friends", 2, false},
		{"friends, stranger", "friends", 3, true},
		{"group, member", "group:g", 2, false},
		{"group, friend not member", "group:g", 4, true},
		{"public, stranger", "public", 3, false},
		{"public, blocked", "public", 5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, fanout.Config{})
			e.apply(
				schema.Event{ID: "g1", Type: schema.Friend, Actor: 1, Target: 2},
				schema.Event{ID: "g2", Type: schema.Friend, Actor: 1, Target: 4},
				schema.Event{ID: "g3", Type: schema.GroupAdd, Actor: 1, Target: 2, Object: "g"},
				schema.Event{ID: "g4", Type: schema.Block, Actor: 1, Target: 5},
				schema.Event{ID: "p", Type: schema.Post, Actor: 1, Object: "o", Text: "t", Audience: c.audience},
			)
			res := e.apply(schema.Event{ID: "c", Type: schema.Class, Actor: c.actor, Target: 1, Object: "o"})
			if !c.refused {
				if len(res.Rejected) != 0 {
					t.Fatalf("rejected: %+v", res.Rejected)
				}
				return
			}
			if len(res.Rejected) != 1 || !strings.HasPrefix(res.Rejected[0].Reason, fanout.NotVisiblePrefix) {
				t.Fatalf("result: %+v", res)
			}
			if res.Deliveries != 0 {
				t.Fatalf("a refused mark delivered %d rows", res.Deliveries)
			}
		})
	}
}
