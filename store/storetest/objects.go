package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// RunObjects checks an objects.Store: create-if-absent, tombstones,
// delete and end, last-writer-wins marks and exact Class counts.
func RunObjects(t *testing.T, newStore func(t *testing.T) objects.Store) {
	t.Helper()
	run(t, newStore, []subtest[objects.Store]{
		{"PutCreatesIfAbsent", objPut},
		{"GetInOrderMissingAsZero", objGet},
		{"DeleteUnknownMakesTombstone", objTombstone},
		{"DeleteKeepsContent", objDelete},
		{"End", objEnd},
		{"DeleteAfterEnd", objDeleteAfterEnd},
		{"MarkLifecycle", objMarkLifecycle},
		{"MarksOfManyActors", objManyActors},
		{"UnclassNeverClassed", objUnclassNever},
		{"MarkTieBrokenByID", objMarkTie},
		{"MarkOwnerKeptByChangeNamingNone", objMarkOwnerKept},
		{"MarksBeforeObjectExists", objMarkBeforeObject},
		{"ClassCounts", objClassCounts},
		{"ReactionLifecycle", objReactionLifecycle},
		{"ReactionStampsAndLateUndo", objReactionStamps},
		{"ReactionCountsOfManyActors", objReactionMany},
		{"MyReactionsBatch", objMyReactions},
	})
}

func post(id string, author int64) objects.Object {
	return objects.Object{
		ID: id, Type: schema.Post, Author: author, Audience: schema.AudienceFriends,
		Text: "hello " + id, Media: []string{"m1", "m2"}, TS: 1_700_000_000_000, EventID: "ev-" + id,
	}
}

// sameObject compares objects, nil and empty Media being equal.
func sameObject(a, b objects.Object) bool {
	if len(a.Media) == 0 && len(b.Media) == 0 {
		a.Media, b.Media = nil, nil
	}
	return slices.Equal(a.Media, b.Media) && a.ID == b.ID && a.Type == b.Type &&
		a.Author == b.Author && a.Target == b.Target && a.Audience == b.Audience &&
		a.Text == b.Text && a.TS == b.TS && a.Until == b.Until && a.EventID == b.EventID &&
		a.Deleted == b.Deleted && a.Ended == b.Ended && a.Changed == b.Changed
}

func wantObject(t *testing.T, what string, got, want objects.Object) {
	t.Helper()
	if !sameObject(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func getObject(t *testing.T, s objects.Store, id string) objects.Object {
	t.Helper()
	got, err := s.Get(t.Context(), []string{id})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("Get(%q) returned %d objects", id, len(got))
	}
	return got[0]
}

func put(t *testing.T, s objects.Store, o objects.Object) objects.Object {
	t.Helper()
	got, err := s.Put(t.Context(), o)
	must(t, err)
	return got
}

func objPut(t *testing.T, s objects.Store) {
	o := post("p1", 7)
	o.Target = 9
	wantObject(t, "Put(new)", put(t, s, o), o)
	wantObject(t, "Put(same)", put(t, s, o), o)
	changed := o
	changed.Text = "edited"
	changed.Media = nil
	changed.EventID = "ev-other"
	wantObject(t, "Put(changed copy)", put(t, s, changed), o)
	wantObject(t, "Get", getObject(t, s, "p1"), o)
	if got := getObject(t, s, "p1"); !got.Exists() {
		t.Error("a created object does not Exist")
	}

	live := objects.Object{ID: "l1", Type: schema.Live, Author: 7, Until: 1_700_000_100_000, TS: 1_700_000_000_000, EventID: "ev-l1"}
	wantObject(t, "Put(live)", put(t, s, live), live)
	if got := getObject(t, s, "l1"); !got.LiveAt(live.TS + 1) {
		t.Error("a started broadcast is not live")
	}
}

func objGet(t *testing.T, s objects.Store) {
	a, b := post("a", 1), post("ab", 2)
	put(t, s, a)
	put(t, s, b)
	got, err := s.Get(t.Context(), []string{"ab", "missing", "a", "ab"})
	must(t, err)
	want := []objects.Object{b, {ID: "missing"}, a, b}
	if len(got) != len(want) {
		t.Fatalf("Get returned %d objects, want %d", len(got), len(want))
	}
	for i := range want {
		wantObject(t, fmt.Sprintf("Get[%d]", i), got[i], want[i])
	}
	if got[1].Exists() {
		t.Error("a missing object Exists")
	}
	none, err := s.Get(t.Context(), nil)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("Get(nil) = %v", none)
	}
}

func objTombstone(t *testing.T, s objects.Store) {
	at := st(50, "del")
	got, err := s.Delete(t.Context(), "t1", 7, at)
	must(t, err)
	tomb := objects.Object{ID: "t1", Author: 7, Deleted: true, Changed: at}
	wantObject(t, "Delete(unknown)", got, tomb)
	if got.Exists() {
		t.Error("a tombstone Exists")
	}
	// The late copy of the object never replaces the tombstone.
	late := post("t1", 7)
	wantObject(t, "Put(after tombstone)", put(t, s, late), tomb)
	wantObject(t, "Get(tombstone)", getObject(t, s, "t1"), tomb)
}

func objDelete(t *testing.T, s objects.Store) {
	o := post("p", 3)
	put(t, s, o)
	del := func(at schema.Stamp) objects.Object {
		t.Helper()
		got, err := s.Delete(t.Context(), "p", 3, at)
		must(t, err)
		return got
	}
	want := o
	want.Deleted, want.Changed = true, st(20, "d2")
	wantObject(t, "Delete", del(st(20, "d2")), want)
	wantObject(t, "Get(deleted)", getObject(t, s, "p"), want)
	wantObject(t, "Delete(older)", del(st(10, "d1")), want)
	wantObject(t, "Delete(same)", del(st(20, "d2")), want)
	want.Changed = st(30, "d3")
	wantObject(t, "Delete(newer)", del(st(30, "d3")), want)
	wantObject(t, "Put(after delete)", put(t, s, o), want)
}

func objEnd(t *testing.T, s objects.Store) {
	live := objects.Object{ID: "l", Type: schema.Live, Author: 4, Audience: schema.AudiencePublic, TS: 100, Until: 10_000, EventID: "ev-l"}
	put(t, s, live)
	got, err := s.End(t.Context(), "l", 4, st(200, "end"))
	must(t, err)
	want := live
	want.Ended, want.Changed = true, st(200, "end")
	wantObject(t, "End", got, want)
	if got.LiveAt(300) {
		t.Error("an ended broadcast is live")
	}
	got, err = s.End(t.Context(), "l", 4, st(150, "end0"))
	must(t, err)
	wantObject(t, "End(older)", got, want)

	got, err = s.End(t.Context(), "l2", 4, st(200, "end2"))
	must(t, err)
	tomb := objects.Object{ID: "l2", Author: 4, Ended: true, Changed: st(200, "end2")}
	wantObject(t, "End(unknown)", got, tomb)
	late := live
	late.ID = "l2"
	wantObject(t, "Put(after end tombstone)", put(t, s, late), tomb)
	if o := getObject(t, s, "l2"); o.LiveAt(300) || o.Exists() {
		t.Errorf("an end tombstone is live or exists: %+v", o)
	}
}

func objDeleteAfterEnd(t *testing.T, s objects.Store) {
	live := objects.Object{ID: "l", Type: schema.Live, Author: 4, TS: 100, EventID: "ev-l"}
	put(t, s, live)
	_, err := s.End(t.Context(), "l", 4, st(200, "end"))
	must(t, err)
	got, err := s.Delete(t.Context(), "l", 4, st(300, "del"))
	must(t, err)
	want := live
	want.Ended, want.Deleted, want.Changed = true, true, st(300, "del")
	wantObject(t, "Delete(after End)", got, want)
	wantObject(t, "Get", getObject(t, s, "l"), want)
}

func setMark(t *testing.T, s objects.Store, object string, actor int64, on bool, at schema.Stamp) objects.Mark {
	t.Helper()
	m, err := s.SetMark(t.Context(), objects.Mark{Object: object, Actor: actor, Owner: 9, On: on, Stamp: at})
	must(t, err)
	if m.Object != object || m.Actor != actor {
		t.Errorf("SetMark(%q, %d) returned the mark of %q, %d", object, actor, m.Object, m.Actor)
	}
	return m
}

func wantCount(t *testing.T, s objects.Store, object string, want int64) {
	t.Helper()
	n, err := s.ClassCounts(t.Context(), []string{object})
	must(t, err)
	if len(n) != 1 || n[0] != want {
		t.Errorf("ClassCounts(%q) = %v, want [%d]", object, n, want)
	}
}

func wantMark(t *testing.T, what string, got objects.Mark, on bool, stamp, since schema.Stamp) {
	t.Helper()
	if got.On != on || got.Stamp != stamp || got.Since != since || got.Owner != 9 {
		t.Errorf("%s = %+v, want On %v Stamp %v Since %v Owner 9", what, got, on, stamp, since)
	}
}

func objMarkLifecycle(t *testing.T, s objects.Store) {
	const o, a = "photo", 11
	put(t, s, post(o, 9))
	c1, c2, u1, c3, c4 := st(10, "c1"), st(11, "c2"), st(12, "u1"), st(11, "c3"), st(13, "c4")
	steps := []struct {
		name      string
		on        bool
		at        schema.Stamp
		wantOn    bool
		wantStamp schema.Stamp
		wantSince schema.Stamp
		wantN     int64
	}{
		{"class", true, c1, true, c1, c1, 1},
		{"re-class, same stamp", true, c1, true, c1, c1, 1},
		{"class again while on", true, c2, true, c2, c1, 1},
		{"unclass", false, u1, false, u1, c1, 0},
		{"unclass re-delivered", false, u1, false, u1, c1, 0},
		{"older class after unclass", true, c3, false, u1, c1, 0},
		{"older unclass", false, c1, false, u1, c1, 0},
		{"class again", true, c4, true, c4, c4, 1},
	}
	for _, step := range steps {
		m := setMark(t, s, o, a, step.on, step.at)
		wantMark(t, step.name, m, step.wantOn, step.wantStamp, step.wantSince)
		n, err := s.ClassCounts(t.Context(), []string{o})
		must(t, err)
		if n[0] != step.wantN {
			t.Fatalf("after %q: count = %d, want %d", step.name, n[0], step.wantN)
		}
	}
}

func objManyActors(t *testing.T, s objects.Store) {
	const o = "p"
	for a := int64(1); a <= 50; a++ {
		setMark(t, s, o, a, true, st(a, fmt.Sprint("c", a)))
	}
	wantCount(t, s, o, 50)
	for a := int64(1); a <= 50; a += 5 { // 10 unclass
		setMark(t, s, o, a, false, st(100+a, fmt.Sprint("u", a)))
	}
	wantCount(t, s, o, 40)
	for a := int64(1); a <= 50; a++ { // every class re-delivered
		setMark(t, s, o, a, true, st(a, fmt.Sprint("c", a)))
	}
	wantCount(t, s, o, 40)
	wantCount(t, s, "p2", 0)
}

func objUnclassNever(t *testing.T, s objects.Store) {
	const o = "p"
	setMark(t, s, o, 1, true, st(1, "c1"))
	m := setMark(t, s, o, 999, false, st(5, "u"))
	wantMark(t, "unclass of a never-classed mark", m, false, st(5, "u"), schema.Stamp{})
	wantCount(t, s, o, 1)
	setMark(t, s, o, 999, false, st(6, "u2"))
	setMark(t, s, o, 999, true, st(4, "late")) // older than the unclass
	wantCount(t, s, o, 1)
	setMark(t, s, o, 1, false, st(2, "u1"))
	setMark(t, s, o, 1, false, st(3, "u1b"))
	wantCount(t, s, o, 0)
}

func objMarkTie(t *testing.T, s objects.Store) {
	const o = "p"
	setMark(t, s, o, 1, true, st(10, "b"))
	m := setMark(t, s, o, 1, false, st(10, "a"))
	wantMark(t, "older unclass on a ts tie", m, true, st(10, "b"), st(10, "b"))
	wantCount(t, s, o, 1)
	m = setMark(t, s, o, 1, false, st(10, "c"))
	wantMark(t, "newer unclass on a ts tie", m, false, st(10, "c"), st(10, "b"))
	wantCount(t, s, o, 0)
}

func objMarkBeforeObject(t *testing.T, s objects.Store) {
	setMark(t, s, "later", 1, true, st(1, "c"))
	wantCount(t, s, "later", 1)
	put(t, s, post("later", 9))
	wantCount(t, s, "later", 1)
	if o := getObject(t, s, "later"); !o.Exists() {
		t.Error("a mark stopped the object from being created")
	}
}

func objClassCounts(t *testing.T, s objects.Store) {
	// Prefixes of one another must not share counts.
	for i, o := range []string{"o", "o1", "o10"} {
		for a := range int64(i + 1) {
			setMark(t, s, o, a+1, true, st(1, fmt.Sprint(o, "-", a)))
		}
	}
	got, err := s.ClassCounts(t.Context(), []string{"o10", "unknown", "o", "o1", "o"})
	must(t, err)
	if want := []int64{3, 0, 1, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("ClassCounts = %v, want %v", got, want)
	}
	none, err := s.ClassCounts(t.Context(), nil)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("ClassCounts(nil) = %v", none)
	}
}
