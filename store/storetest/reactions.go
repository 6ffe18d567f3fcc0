package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/objects"
)

// Reactions: one slot per (object, actor); counts per kind follow the on
// marks; MyReactions reads them back per viewer.

func react(t *testing.T, s objects.Store, object string, actor int64, kind string, on bool, ts int64, id string) objects.Change {
	t.Helper()
	ch, err := s.SetReaction(t.Context(), objects.Mark{Object: object, Actor: actor, Owner: 1, On: on,
		Kind: objects.MarkKind(kind), Stamp: st(ts, id)})
	must(t, err)
	return ch
}

func wantCounts(t *testing.T, s objects.Store, object string, class int64, other ...objects.KindCount) {
	t.Helper()
	got, err := s.ReactionCounts(t.Context(), []string{object})
	must(t, err)
	want := objects.Counts{Class: class, Other: other}
	if got[0].Class != want.Class || !slices.Equal(got[0].Other, want.Other) {
		t.Errorf("ReactionCounts(%q) = %+v, want %+v", object, got[0], want)
	}
	cc, err := s.ClassCounts(t.Context(), []string{object})
	must(t, err)
	if cc[0] != class {
		t.Errorf("ClassCounts(%q) = %d, want %d", object, cc[0], class)
	}
}

func wantMine(t *testing.T, s objects.Store, viewer int64, ids []string, want ...string) {
	t.Helper()
	got, err := s.MyReactions(t.Context(), viewer, ids)
	must(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("MyReactions(%d, %q) = %q, want %q", viewer, ids, got, want)
	}
}

func objReactionLifecycle(t *testing.T, s objects.Store) {
	ch := react(t, s, "rp", 2, "love", true, 10, "r1")
	if !ch.Applied || ch.Before.On || !ch.After.On || ch.After.Kind != "love" || ch.After.Since != st(10, "r1") {
		t.Fatalf("first react: %+v", ch)
	}
	wantCounts(t, s, "rp", 0, objects.KindCount{Kind: "love", N: 1})
	wantMine(t, s, 2, []string{"rp"}, "love")

	// A new kind replaces the old: the count moves, since stays.
	ch = react(t, s, "rp", 2, "wow", true, 20, "r2")
	if !ch.Applied || ch.Before.Kind != "love" || ch.After.Kind != "wow" || ch.After.Since != st(10, "r1") {
		t.Fatalf("replace: %+v", ch)
	}
	wantCounts(t, s, "rp", 0, objects.KindCount{Kind: "wow", N: 1})
	wantMine(t, s, 2, []string{"rp"}, "wow")

	// Class through react is the Class! mark.
	react(t, s, "rp", 2, "class", true, 30, "r3")
	wantCounts(t, s, "rp", 1)
	wantMine(t, s, 2, []string{"rp"}, "class")
	m, err := s.SetMark(t.Context(), objects.Mark{Object: "rp", Actor: 2, On: true, Stamp: st(31, "c4")})
	must(t, err)
	if !m.On || m.Kind != "" || m.Since != st(10, "r1") {
		t.Fatalf("class while class-on: %+v", m)
	}
	wantCounts(t, s, "rp", 1)

	// Re-delivery changes nothing.
	ch = react(t, s, "rp", 2, "class", true, 30, "r3")
	if ch.Applied || ch.After.Stamp != st(31, "c4") {
		t.Fatalf("re-delivered react: %+v", ch)
	}
	wantCounts(t, s, "rp", 1)

	// Undo removes it; the kind is kept on the off mark.
	ch = react(t, s, "rp", 2, "", false, 40, "u1")
	if !ch.Applied || ch.After.On || ch.After.Kind != "" || ch.After.Since != st(10, "r1") {
		t.Fatalf("unreact: %+v", ch)
	}
	wantCounts(t, s, "rp", 0)
	wantMine(t, s, 2, []string{"rp"}, "")

	// A reaction after the undo starts a new since.
	ch = react(t, s, "rp", 2, "sad", true, 50, "r5")
	if ch.After.Since != st(50, "r5") {
		t.Fatalf("react after unreact: %+v", ch)
	}
	wantCounts(t, s, "rp", 0, objects.KindCount{Kind: "sad", N: 1})
}

func objReactionStamps(t *testing.T, s objects.Store) {
	react(t, s, "rs", 3, "lol", true, 10, "r1")
	react(t, s, "rs", 3, "", false, 20, "u1")
	// A late react (older than the undo) is ignored.
	ch := react(t, s, "rs", 3, "love", true, 15, "r0")
	if ch.Applied || ch.After.On {
		t.Fatalf("late react after unreact: %+v", ch)
	}
	wantCounts(t, s, "rs", 0)
	wantMine(t, s, 3, []string{"rs"}, "")
	// An older kind change never overwrites a newer one.
	react(t, s, "rs", 3, "wow", true, 30, "r3")
	if ch := react(t, s, "rs", 3, "sad", true, 25, "r2"); ch.Applied || ch.After.Kind != "wow" {
		t.Fatalf("older replace: %+v", ch)
	}
	wantCounts(t, s, "rs", 0, objects.KindCount{Kind: "wow", N: 1})
	wantMine(t, s, 3, []string{"rs"}, "wow")
}

func objReactionMany(t *testing.T, s objects.Store) {
	kinds := []string{"class", "love", "love", "lol", "class", "love"}
	for i, k := range kinds {
		react(t, s, "rm", int64(10+i), k, true, 100, fmt.Sprint("r", i))
	}
	wantCounts(t, s, "rm", 2, objects.KindCount{Kind: "lol", N: 1}, objects.KindCount{Kind: "love", N: 3})
	// Actor 11 moves love -> class, actor 13 takes lol back.
	react(t, s, "rm", 11, "class", true, 200, "x1")
	react(t, s, "rm", 13, "", false, 200, "x2")
	wantCounts(t, s, "rm", 3, objects.KindCount{Kind: "love", N: 2})
	got, err := s.ReactionCounts(t.Context(), []string{"rm", "nothing", "rm"})
	must(t, err)
	if len(got) != 3 || got[0].Total() != 5 || got[1].Total() != 0 || got[2].Of("love") != 2 {
		t.Errorf("ReactionCounts in order = %+v", got)
	}
}

func objMyReactions(t *testing.T, s objects.Store) {
	react(t, s, "ma", 7, "love", true, 10, "a")
	react(t, s, "mc", 7, "class", true, 10, "c")
	react(t, s, "mb", 8, "wow", true, 10, "b")
	react(t, s, "md", 7, "sad", true, 10, "d")
	react(t, s, "md", 7, "", false, 11, "d2")
	wantMine(t, s, 7, []string{"ma", "mb", "mc", "md", "never", "ma"}, "love", "", "class", "", "", "love")
	wantMine(t, s, 9, []string{"ma", "mb"}, "", "")
	wantMine(t, s, 7, nil)
}
