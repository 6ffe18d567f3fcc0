package fanout_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// What a follow or a friendship merges into the new reader's home
// timeline, as stored rows: the reader's read-time checks would hide a
// friends-only item from a follower and an item past the timeline's max
// age, so the feed alone cannot tell whether the merge copied them. The
// rows can (and a copied row costs space until the next trim).
func TestMergeCopiesOnlyWhatTheReaderMaySee(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edge  schema.Type
		want  []string
		extra string
	}{
		{"follow: public items only", schema.Follow, []string{"pub"}, "a follower sees no friends-only item"},
		{"friend: public and friends-only items", schema.Friend, []string{"fri", "pub"}, "a friend sees both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fanout.Config{Policy: timeline.Policy{Cap: 800, MaxAge: 24 * time.Hour}})
			old := e.now.Add(-48 * time.Hour).UnixMilli()
			e.apply(
				schema.Event{ID: "old", Type: schema.Post, Actor: 1, Text: "past the max age", TS: old},
				schema.Event{ID: "pub", Type: schema.Post, Actor: 1, Text: "public"},
				schema.Event{ID: "fri", Type: schema.Post, Actor: 1, Text: "friends only", Audience: "friends"},
				schema.Event{ID: "edge", Type: tc.edge, Actor: 2, Target: 1},
			)
			rows, err := e.st.Timelines().Page(context.Background(), timeline.Home, 2, timeline.Position{}, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("user 2's home rows %v, want %v (%s; nothing past the max age)", got, tc.want, tc.extra)
			}
		})
	}
}

// An item that grew older than the timeline's max age while it sat in
// its author's outbox is not merged: the next trim would drop it, and the
// reader hides it meanwhile.
func TestMergeSkipsItemsPastTheMaxAge(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{
		Policy: timeline.Policy{Cap: 800, MaxAge: 24 * time.Hour}, Now: func() time.Time { return now }})
	apply := func(evs ...schema.Event) {
		t.Helper()
		for i := range evs {
			evs[i].TS = now.UnixMilli()
			if err := evs[i].Normalize(now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := engine.Apply(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	apply(schema.Event{ID: "aging", Type: schema.Post, Actor: 1, Text: "will be two days old"})
	now = now.Add(47 * time.Hour)
	apply(schema.Event{ID: "fresh", Type: schema.Post, Actor: 1, Text: "an hour old"})
	now = now.Add(time.Hour)
	apply(schema.Event{ID: "follow", Type: schema.Follow, Actor: 2, Target: 1})
	rows, err := st.Timelines().Page(context.Background(), timeline.Home, 2, timeline.Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "fresh" {
		t.Errorf("user 2's home rows %+v, want only the item younger than the max age", rows)
	}
}
