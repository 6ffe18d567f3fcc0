//go:build invariants

package pebblestore

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// TestInvariantChecksFire breaks each checked invariant behind the store's
// back (raw keys written or deleted, as a buggy writer would) and shows
// that the next write that must check it panics with a Violation naming
// it; the same write on an unbroken store passes its check.
func TestInvariantChecksFire(t *testing.T) {
	ctx := context.Background()
	follow := func(from, to int64, ts int64) []graph.Edge {
		return []graph.Edge{{Rel: graph.Follow, From: from, To: to, On: true, Stamp: schema.Stamp{TS: ts, ID: "f"}}}
	}
	classRow := timeline.Row{NS: timeline.Home, User: 1, Entry: timeline.Entry{
		TS: 10, ID: "c1", Kind: timeline.KindClass, Actor: 2, Object: "o"}}
	act := func(actor, ts int64) notify.Activity {
		return notify.Activity{User: 1, Group: "g", Actor: actor, Kind: "class", Object: "o", TS: ts, EventID: "e"}
	}
	set := func(t *testing.T, s *Store, k, v []byte) { must(t, s.db.Set(k, v, pebble.Sync)) }
	del := func(t *testing.T, s *Store, k []byte) { must(t, s.db.Delete(k, pebble.Sync)) }

	cases := []struct {
		name  string
		setup func(t *testing.T, s *Store) // a correct state, through the API
		brk   func(t *testing.T, s *Store) // the damage; nil: none
		write func(t *testing.T, s *Store) // the write whose check must see it
		want  string                       // in the violation; "" for none
	}{
		{
			name:  "audience counts friends and followers",
			brk:   func(t *testing.T, s *Store) { set(t, s, audienceKey(nil, 7), appendCounter(nil, 5)) },
			write: func(t *testing.T, s *Store) { must(t, s.Graph().SetEdges(ctx, follow(8, 7, 1))) },
			want:  "audience of 7 is 6, but it has 0 friends and 1 followers",
		},
		{
			name:  "follow edge has its reverse row",
			setup: func(t *testing.T, s *Store) { must(t, s.Graph().SetEdges(ctx, follow(8, 7, 1))) },
			brk:   func(t *testing.T, s *Store) { del(t, s, edgeRevKey(nil, uint8(graph.Follow), 7, 8)) },
			write: func(t *testing.T, s *Store) { must(t, s.Graph().SetEdges(ctx, follow(8, 7, 2))) },
			want:  "is On=true but its reverse index row exists=false",
		},
		{
			name: "Class count equals the On marks",
			brk:  func(t *testing.T, s *Store) { set(t, s, classCountKey(nil, "o"), appendCounter(nil, 3)) },
			write: func(t *testing.T, s *Store) {
				_, err := s.Objects().SetMark(ctx, objects.Mark{Object: "o", Actor: 2, Owner: 1, On: true, Stamp: schema.Stamp{TS: 1, ID: "m"}})
				must(t, err)
			},
			want: `Class count of "o" is 4, but 1 marks are On`,
		},
		{
			name: "comment count equals the standing comments and the thread",
			setup: func(t *testing.T, s *Store) {
				_, err := s.Comments().PutComment(ctx, objects.Comment{Object: "o", ID: "c1", Author: 2, Text: "x", TS: 5})
				must(t, err)
			},
			brk: func(t *testing.T, s *Store) { del(t, s, commentThreadKey(nil, "o", 5, "c1")) },
			write: func(t *testing.T, s *Store) {
				_, err := s.Comments().PutComment(ctx, objects.Comment{Object: "o", ID: "c2", Author: 3, Text: "y", TS: 6})
				must(t, err)
			},
			want: `comment count of "o" is 2, but 2 comments stand and the thread holds 1`,
		},
		{
			name:  "class row has its marker",
			setup: func(t *testing.T, s *Store) { must(t, s.Timelines().Write(ctx, []timeline.Row{classRow})) },
			brk: func(t *testing.T, s *Store) {
				del(t, s, markerKey(nil, 1, "o", 2, classRow.Entry.TS, classRow.Entry.ID))
			},
			// Write pairs its own rows, so the check is run on the state as
			// it is now.
			write: func(t *testing.T, s *Store) { s.Timelines().checkMarkers([]timeline.Row{classRow}) },
			want:  "row exists=true but its marker exists=false",
		},
		{
			name:  "marker points at its row",
			setup: func(t *testing.T, s *Store) { must(t, s.Timelines().Write(ctx, []timeline.Row{classRow})) },
			brk: func(t *testing.T, s *Store) {
				set(t, s, markerKey(nil, 1, "o", 2, classRow.Entry.TS, classRow.Entry.ID), appendMarkerVal(nil, 11, "c1"))
			},
			write: func(t *testing.T, s *Store) { s.Timelines().checkMarkers([]timeline.Row{classRow}) },
			want:  `the marker holds (11, "c1")`,
		},
		{
			name: "group head never above the newest activity",
			setup: func(t *testing.T, s *Store) {
				must(t, s.Notify().PutActivities(ctx, []notify.Activity{act(2, 10)}, true))
			},
			brk: func(t *testing.T, s *Store) {
				set(t, s, nHeadKey(nil, 1, "g"), []byte{valueV1, 40}) // varint 20
			},
			write: func(t *testing.T, s *Store) {
				must(t, s.Notify().PutActivities(ctx, []notify.Activity{act(3, 5)}, false))
			},
			want: `notification group "g" of user 1: head row at 20, but 2 activities, the newest at 10`,
		},
	}
	for _, c := range cases {
		for _, broken := range []bool{false, true} {
			name := c.name + "/intact"
			if broken {
				name = c.name + "/broken"
			}
			t.Run(name, func(t *testing.T) {
				s := newStore(t)
				if c.setup != nil {
					c.setup(t, s)
				}
				if broken {
					c.brk(t, s)
				}
				v := invariants.Recover(func() { c.write(t, s) })
				switch {
				case !broken && v != nil:
					t.Fatalf("a check fired on an intact store: %v", v)
				case broken && v == nil:
					t.Fatalf("no check fired, want %q", c.want)
				case broken && !strings.Contains(v.Error(), c.want):
					t.Fatalf("violation %q, want it to say %q", v, c.want)
				}
			})
		}
	}
}
