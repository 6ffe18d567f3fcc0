package fanout_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// TestSemanticsTable walks the event table of docs/events.md one row at a
// time, through the engine and the feed reader, on one base graph: 1 is
// friends with 2 and 3, 4 follows 1, 5 knows nobody. Each case lists every
// user's feed as "type:object" (with "#n" for an item's Class count when
// it is not 0) and the refusals it expects.
func TestSemanticsTable(t *testing.T) {
	type feeds map[int64]string // user -> sorted, space-separated items
	for _, tc := range []struct {
		name    string
		events  []schema.Event
		want    feeds
		refused []string // "event id:reason code"
	}{
		{name: "post: author, friends and followers",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"}},
			want:   feeds{1: "post:p", 2: "post:p", 3: "post:p", 4: "post:p", 5: ""}},
		{name: "post to friends: no followers",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x", Audience: "friends"}},
			want:   feeds{1: "post:p", 2: "post:p", 3: "post:p", 4: "", 5: ""}},
		{name: "photo: as a post",
			events: []schema.Event{{ID: "ph", Type: schema.Photo, Actor: 1, Media: []string{"m"}}},
			want:   feeds{1: "photo:ph", 2: "photo:ph", 3: "photo:ph", 4: "photo:ph", 5: ""}},
		{name: "gift: giver, giver's friends and the recipient, not followers",
			events: []schema.Event{{ID: "g", Type: schema.Gift, Actor: 1, Target: 5}},
			want:   feeds{1: "gift:g", 2: "gift:g", 3: "gift:g", 4: "", 5: "gift:g"}},
		{name: "private gift: no feed entry",
			events: []schema.Event{{ID: "g", Type: schema.Gift, Actor: 1, Target: 5, Audience: "private"}},
			want:   feeds{1: "", 2: "", 3: "", 4: "", 5: ""}},
		{name: "live: shown while live",
			events: []schema.Event{{ID: "l", Type: schema.Live, Actor: 1}},
			want:   feeds{1: "live:l", 2: "live:l", 3: "live:l", 4: "live:l", 5: ""}},
		{name: "live_end: gone from every feed",
			events: []schema.Event{{ID: "l", Type: schema.Live, Actor: 1}, {ID: "e", Type: schema.LiveEnd, Actor: 1, Object: "l"}},
			want:   feeds{1: "", 2: "", 3: "", 4: "", 5: ""}},
		{name: "class: the count, and an aggregate for the marker's friends",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "c", Type: schema.Class, Actor: 2, Target: 1, Object: "p"}},
			want: feeds{1: "class:p#1 post:p#1", 2: "post:p#1", 3: "post:p#1", 4: "post:p#1", 5: ""}},
		{name: "unclass: count and aggregate undone",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "c", Type: schema.Class, Actor: 2, Target: 1, Object: "p"},
				{ID: "u", Type: schema.Unclass, Actor: 2, Target: 1, Object: "p"}},
			want: feeds{1: "post:p", 2: "post:p", 3: "post:p", 4: "post:p", 5: ""}},
		{name: "delete: gone from every feed it reached",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "d", Type: schema.Delete, Actor: 1, Object: "p"}},
			want: feeds{1: "", 2: "", 3: "", 4: "", 5: ""}},
		{name: "delete by another user: refused, nothing changes",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "d", Type: schema.Delete, Actor: 2, Object: "p"}},
			want:    feeds{1: "post:p", 2: "post:p", 3: "post:p", 4: "post:p"},
			refused: []string{"d:" + fanout.ReasonNotOwner}},
		{name: "friend: each one's recent items merged into the other's feed",
			events: []schema.Event{{ID: "q", Type: schema.Post, Actor: 5, Text: "x", Audience: "friends"},
				{ID: "f", Type: schema.Friend, Actor: 5, Target: 2}},
			want: feeds{2: "post:q", 5: "post:q", 1: "", 3: ""}},
		{name: "unfriend: the other's items leave the feed",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "q", Type: schema.Post, Actor: 1, Text: "x", Audience: "friends"},
				{ID: "x", Type: schema.Unfriend, Actor: 2, Target: 1}},
			want: feeds{1: "post:p post:q", 2: "", 3: "post:p post:q", 4: "post:p"}},
		{name: "unfriend while following: public items stay",
			events: []schema.Event{{ID: "w", Type: schema.Follow, Actor: 2, Target: 1},
				{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "q", Type: schema.Post, Actor: 1, Text: "x", Audience: "friends"},
				{ID: "x", Type: schema.Unfriend, Actor: 2, Target: 1}},
			want: feeds{2: "post:p", 3: "post:p post:q"}},
		{name: "follow: recent public items merged, friends-only ones not",
			events: []schema.Event{{ID: "a", Type: schema.Post, Actor: 5, Text: "x"},
				{ID: "b", Type: schema.Post, Actor: 5, Text: "x", Audience: "friends"},
				{ID: "w", Type: schema.Follow, Actor: 2, Target: 5}},
			want: feeds{2: "post:a", 5: "post:a post:b"}},
		{name: "unfollow: the public items leave",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "x", Type: schema.Unfollow, Actor: 4, Target: 1}},
			want: feeds{4: "", 2: "post:p"}},
		{name: "block: each one's items hidden from the other, friendship ended",
			events: []schema.Event{{ID: "p", Type: schema.Post, Actor: 1, Text: "x"},
				{ID: "q", Type: schema.Post, Actor: 3, Text: "x"},
				{ID: "b", Type: schema.Block, Actor: 1, Target: 3},
				{ID: "r", Type: schema.Post, Actor: 1, Text: "x", Audience: "friends"}},
			want: feeds{1: "post:p post:r", 3: "post:q", 2: "post:p post:r"}},
		{name: "block: a later friendship across it is refused",
			events: []schema.Event{{ID: "b", Type: schema.Block, Actor: 5, Target: 2},
				{ID: "f", Type: schema.Friend, Actor: 2, Target: 5}},
			refused: []string{"f:" + fanout.ReasonBlocked}},
		{name: "unblock: the block lifts, the friendship does not come back",
			events: []schema.Event{{ID: "b", Type: schema.Block, Actor: 1, Target: 3},
				{ID: "ub", Type: schema.Unblock, Actor: 1, Target: 3},
				{ID: "p", Type: schema.Post, Actor: 1, Text: "x", Audience: "friends"}},
			want: feeds{3: "", 2: "post:p"}},
		{name: "group audience: the group's members who are friends",
			events: []schema.Event{{ID: "ga", Type: schema.GroupAdd, Actor: 1, Target: 2, Object: "close"},
				{ID: "p", Type: schema.Post, Actor: 1, Text: "x", Audience: "group:close"}},
			want: feeds{1: "post:p", 2: "post:p", 3: "", 4: ""}},
		{name: "group_remove: the group's items leave that member",
			events: []schema.Event{{ID: "ga", Type: schema.GroupAdd, Actor: 1, Target: 2, Object: "close"},
				{ID: "p", Type: schema.Post, Actor: 1, Text: "x", Audience: "group:close"},
				{ID: "gr", Type: schema.GroupRemove, Actor: 1, Target: 2, Object: "close"}},
			want: feeds{1: "post:p", 2: ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fanout.Config{})
			e.apply(
				schema.Event{ID: "base-f12", Type: schema.Friend, Actor: 1, Target: 2},
				schema.Event{ID: "base-f13", Type: schema.Friend, Actor: 1, Target: 3},
				schema.Event{ID: "base-w41", Type: schema.Follow, Actor: 4, Target: 1},
			)
			res := e.apply(tc.events...)
			var refused []string
			for _, r := range res.Rejected {
				refused = append(refused, r.EventID+":"+r.Code)
			}
			if !slices.Equal(refused, tc.refused) {
				t.Errorf("refused %v, want %v", refused, tc.refused)
			}
			for user, want := range tc.want {
				var got []string
				for _, it := range e.feed(user) {
					s := it.Type + ":" + it.Object
					if it.ClassCount != 0 {
						s += fmt.Sprintf("#%d", it.ClassCount)
					}
					got = append(got, s)
				}
				slices.Sort(got)
				if g := strings.Join(got, " "); g != want {
					t.Errorf("feed of %d: %q, want %q", user, g, want)
				}
			}
		})
	}
}
