package storetest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

// RunTimeline checks a timeline.Store: idempotent writes, (TS desc, ID
// desc) order, keyset paging, separated timelines, deletes, the class
// marker index and trimming.
//
// Trim's keep <= 0 means "no count bound" (only minTS applies): a zero cap
// must never wipe a timeline.
func RunTimeline(t *testing.T, newStore func(t *testing.T) timeline.Store) {
	t.Helper()
	run(t, newStore, []subtest[timeline.Store]{
		{"RoundTripAllFields", tlRoundTrip},
		{"WriteIsIdempotent", tlIdempotent},
		{"OneCallManyTimelinesInAnyOrder", tlOneCallMany},
		{"PageOrder", tlOrder},
		{"KeysetContinuation", tlContinuation},
		{"PageStrictlyAfterAnyPosition", tlAfterAny},
		{"PageLimit", tlLimit},
		{"HomeAndOutboxSeparated", tlNamespaces},
		{"UsersSeparated", tlUsers},
		{"Delete", tlDelete},
		{"Markers", tlMarkers},
		{"MarkerRemovedOnlyWithItsRow", tlMarkerOwnRow},
		{"MarkersOf", tlMarkersOf},
		{"CommentMarkersApartFromClass", tlCommentMarkers},
		{"TrimByCount", tlTrimCount},
		{"TrimByAge", tlTrimAge},
		{"TrimByCountAndAge", tlTrimBoth},
		{"TrimKeepZeroIsNoCountBound", tlTrimKeepZero},
		{"TrimOnEqualTS", tlTrimEqualTS},
		{"VersionChangesWithEveryWriteAndDelete", tlVersion},
		{"DeleteAllLeavesAnEmptyPage", tlDeleteAll},
	})
}

func entry(ts int64, id string) timeline.Entry {
	return timeline.Entry{TS: ts, ID: id, Kind: timeline.KindPost, Actor: 7, Object: "o-" + id, Audience: "public"}
}

func classEntry(ts int64, id string, actor int64, object string) timeline.Entry {
	return timeline.Entry{TS: ts, ID: id, Kind: timeline.KindClass, Actor: actor, Object: object, Owner: 99}
}

func rows(ns timeline.NS, user int64, es ...timeline.Entry) []timeline.Row {
	out := make([]timeline.Row, len(es))
	for i, e := range es {
		out[i] = timeline.Row{NS: ns, User: user, Entry: e}
	}
	return out
}

func write(t *testing.T, s timeline.Store, r []timeline.Row) {
	t.Helper()
	must(t, s.Write(t.Context(), r))
}

func page(t *testing.T, s timeline.Store, ns timeline.NS, user int64, after timeline.Position, limit int) []timeline.Entry {
	t.Helper()
	es, err := s.Page(t.Context(), ns, user, after, limit)
	must(t, err)
	if len(es) > limit && limit >= 0 {
		t.Fatalf("Page(limit %d) returned %d entries", limit, len(es))
	}
	return es
}

// all reads a whole timeline in one page.
func all(t *testing.T, s timeline.Store, ns timeline.NS, user int64) []timeline.Entry {
	t.Helper()
	return page(t, s, ns, user, timeline.Position{}, 10_000)
}

// sorted returns es in timeline order (TS desc, ID desc).
func sorted(es []timeline.Entry) []timeline.Entry {
	out := slices.Clone(es)
	slices.SortFunc(out, func(a, b timeline.Entry) int {
		if c := cmp.Compare(b.TS, a.TS); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

func wantEntries(t *testing.T, what string, got, want []timeline.Entry) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, positions(got), positions(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("%s: first difference at %d: got %+v, want %+v", what, i, got[i], want[i])
				break
			}
		}
	}
}

func positions(es []timeline.Entry) string {
	s := "["
	for i, e := range es {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d/%s", e.TS, e.ID)
	}
	return s + "]"
}

func tlRoundTrip(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{
		{TS: 1_700_000_000_123, ID: "ev-1", Kind: timeline.KindPost, Actor: 1 << 40, Object: "obj-1", Audience: "group:close"},
		{TS: 1_700_000_000_122, ID: "ev-2", Kind: timeline.KindGift, Actor: 3, Object: "gift-9", Owner: 4, Audience: "friends"},
		{TS: 1_700_000_000_121, ID: "ev-3", Kind: timeline.KindLive, Actor: 5, Object: "live-1", Until: 1_700_000_900_000},
		{TS: 1_700_000_000_120, ID: "ev-4", Kind: timeline.KindClass, Actor: 6, Object: "obj-1", Owner: 1 << 40},
		{TS: 1_700_000_000_119, ID: "ev-5", Kind: timeline.KindPhoto, Actor: 7, Object: "ph", Audience: "private"},
	}
	write(t, s, rows(timeline.Home, 1, es...))
	wantEntries(t, "Page", all(t, s, timeline.Home, 1), es)
}

func tlIdempotent(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{entry(3, "c"), entry(2, "b"), entry(1, "a")}
	write(t, s, rows(timeline.Home, 1, es...))
	write(t, s, rows(timeline.Home, 1, es...))
	write(t, s, rows(timeline.Home, 1, es[1], es[1], es[0]))
	wantEntries(t, "Page after re-writes", all(t, s, timeline.Home, 1), es)
	must(t, s.Write(t.Context(), nil))
}

// tlOneCallMany writes the rows of many timelines in one call, in no
// order (as a fan-out batch does, event by event), one of them twice (a
// re-delivery within the batch): every timeline reads in its order, with
// each row once.
func tlOneCallMany(t *testing.T, s timeline.Store) {
	var rs []timeline.Row
	want := map[int64][]timeline.Entry{}
	for ev := int64(0); ev < 6; ev++ {
		for _, u := range []int64{9, 2, 1 << 40, 5, 3} {
			e := entry(100-ev*7%13, fmt.Sprintf("e%d", ev))
			rs = append(rs, timeline.Row{NS: timeline.Home, User: u, Entry: e})
			want[u] = append(want[u], e)
		}
	}
	rs = append(rs, rs[3])
	write(t, s, rs)
	for u, es := range want {
		wantEntries(t, fmt.Sprintf("Page of user %d", u), all(t, s, timeline.Home, u), sorted(es))
	}
}

func tlOrder(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{
		entry(100, "b"), entry(50, "z"), entry(100, "a"), entry(200, "x"),
		entry(100, "ab"), entry(100, "c"), entry(100, "B"), entry(1<<41, "big"), entry(99, "zz"),
	}
	write(t, s, rows(timeline.Home, 1, es...))
	want := sorted(es)
	wantEntries(t, "Page", all(t, s, timeline.Home, 1), want)
	if want[0].ID != "big" || want[len(want)-1].ID != "z" {
		t.Fatalf("test oracle is wrong: %s", positions(want))
	}
}

// manyEntries is a timeline with runs of equal TS and ids that are
// prefixes of one another.
func manyEntries() []timeline.Entry {
	var es []timeline.Entry
	for i := range 37 {
		es = append(es, entry(int64(1000+i/4), fmt.Sprintf("e%d", i%7*3)))
	}
	es = append(es, entry(1000, "e"), entry(1000, "e1"), entry(1000, "e10"))
	// Drop duplicate positions (the same (TS, ID) is one row).
	slices.SortFunc(es, func(a, b timeline.Entry) int {
		if c := cmp.Compare(a.TS, b.TS); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return slices.CompactFunc(es, func(a, b timeline.Entry) bool { return a.Pos() == b.Pos() })
}

func tlContinuation(t *testing.T, s timeline.Store) {
	es := manyEntries()
	write(t, s, rows(timeline.Home, 1, es...))
	want := sorted(es)
	for _, size := range []int{1, 2, 3, 5, 7, len(want) - 1, len(want), len(want) + 5} {
		var got []timeline.Entry
		after := timeline.Position{}
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				t.Fatalf("page size %d: paging does not end", size)
			}
			p := page(t, s, timeline.Home, 1, after, size)
			if len(p) == 0 {
				break
			}
			got = append(got, p...)
			after = p[len(p)-1].Pos()
		}
		wantEntries(t, fmt.Sprintf("pages of %d, joined", size), got, want)
	}
}

func tlAfterAny(t *testing.T, s timeline.Store) {
	es := manyEntries()
	write(t, s, rows(timeline.Home, 1, es...))
	full := sorted(es)
	afters := []timeline.Position{
		{TS: 1005, ID: ""}, {TS: 1005, ID: "e12"}, {TS: 1005, ID: "e13"}, {TS: 1005, ID: "zzz"},
		{TS: 1000, ID: "e1"}, {TS: 1000, ID: "e"}, {TS: 1000, ID: "e0"}, {TS: 1000, ID: "d"},
		{TS: 5000, ID: "a"}, {TS: 999, ID: "z"}, {TS: 1, ID: ""}, full[0].Pos(), full[len(full)-1].Pos(),
	}
	for _, after := range afters {
		var want []timeline.Entry
		for _, e := range full {
			if e.Pos().Before(after) {
				want = append(want, e)
			}
		}
		wantEntries(t, fmt.Sprintf("Page after %d/%q", after.TS, after.ID), page(t, s, timeline.Home, 1, after, 1000), want)
	}
}

func tlLimit(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{entry(3, "c"), entry(2, "b"), entry(1, "a")}
	write(t, s, rows(timeline.Home, 1, es...))
	if got := page(t, s, timeline.Home, 1, timeline.Position{}, 0); len(got) != 0 {
		t.Errorf("Page(limit 0) = %s", positions(got))
	}
	wantEntries(t, "Page(limit 2)", page(t, s, timeline.Home, 1, timeline.Position{}, 2), es[:2])
	wantEntries(t, "Page of an empty timeline", all(t, s, timeline.Home, 2), nil)
}

func tlNamespaces(t *testing.T, s timeline.Store) {
	home := []timeline.Entry{entry(2, "h2"), entry(1, "h1")}
	out := []timeline.Entry{entry(3, "o3"), entry(1, "o1")}
	write(t, s, append(rows(timeline.Home, 1, home...), rows(timeline.Outbox, 1, out...)...))
	wantEntries(t, "Home", all(t, s, timeline.Home, 1), home)
	wantEntries(t, "Outbox", all(t, s, timeline.Outbox, 1), out)
}

func tlUsers(t *testing.T, s timeline.Store) {
	users := []int64{1, 2, 255, 256, 257, 1 << 32, -1}
	var rs []timeline.Row
	for i, u := range users {
		rs = append(rs, rows(timeline.Home, u, entry(int64(10+i), fmt.Sprint("u", i)), entry(5, "shared"))...)
	}
	write(t, s, rs)
	for i, u := range users {
		want := []timeline.Entry{entry(int64(10+i), fmt.Sprint("u", i)), entry(5, "shared")}
		wantEntries(t, fmt.Sprintf("Home(%d)", u), all(t, s, timeline.Home, u), want)
	}
}

func tlDelete(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{entry(5, "e"), entry(4, "d"), entry(3, "c"), entry(2, "b"), entry(1, "a")}
	write(t, s, rows(timeline.Home, 1, es...))
	write(t, s, rows(timeline.Home, 2, es...))
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, es[1], es[3], entry(9, "missing"))))
	// A row is named by its position alone.
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, timeline.Entry{TS: 5, ID: "e"})))
	must(t, s.Delete(t.Context(), nil))
	wantEntries(t, "Home(1) after Delete", all(t, s, timeline.Home, 1), []timeline.Entry{es[2], es[4]})
	wantEntries(t, "Home(2) untouched", all(t, s, timeline.Home, 2), es)
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, es[1]))) // again
}

func version(t *testing.T, s timeline.Store, ns timeline.NS, user int64) uint64 {
	t.Helper()
	v, err := s.Version(t.Context(), ns, user)
	must(t, err)
	return v
}

// tlVersion: every Write and Delete gives the timelines it touches a value
// never seen before (also for a re-written row and a delete of a missing
// row: a version may change without the rows changing, never the other
// way round); other timelines keep theirs; a timeline never written is 0.
func tlVersion(t *testing.T, s timeline.Store) {
	if v := version(t, s, timeline.Home, 1); v != 0 {
		t.Fatalf("Version of a timeline never written = %d, want 0", v)
	}
	seen := map[uint64]string{}
	step := func(what string) uint64 {
		t.Helper()
		v := version(t, s, timeline.Home, 1)
		if v == 0 {
			t.Fatalf("after %s: Version = 0", what)
		}
		if prev, dup := seen[v]; dup {
			t.Fatalf("after %s: Version %d is the one it had after %s", what, v, prev)
		}
		seen[v] = what
		return v
	}
	write(t, s, rows(timeline.Home, 1, entry(10, "a")))
	step("first write")
	other := version(t, s, timeline.Home, 2)
	outbox := version(t, s, timeline.Outbox, 1)
	write(t, s, rows(timeline.Home, 1, entry(5, "older"))) // below the head: still a change
	step("a write below the head")
	write(t, s, rows(timeline.Home, 1, entry(5, "older"))) // the same row again
	step("the same write again")
	write(t, s, append(rows(timeline.Home, 1, entry(11, "b"), entry(12, "c")), rows(timeline.Home, 3, entry(1, "x"))...))
	step("a write of several timelines")
	if v := version(t, s, timeline.Home, 3); v == 0 {
		t.Fatal("Version of the other timeline in the same write = 0")
	}
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, entry(5, "older"))))
	step("delete")
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, timeline.Entry{TS: 11, ID: "b"})))
	step("delete by position")
	if v := version(t, s, timeline.Home, 2); v != other {
		t.Fatalf("Home(2) was not written but its Version went %d -> %d", other, v)
	}
	if v := version(t, s, timeline.Outbox, 1); v != outbox {
		t.Fatalf("Outbox(1) was not written but its Version went %d -> %d", outbox, v)
	}
}

// tlDeleteAll: a timeline whose rows are all deleted pages as empty (a
// store that keeps the version beside the rows must not page it as a row).
func tlDeleteAll(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{entry(2, "b"), entry(1, "a")}
	write(t, s, rows(timeline.Home, 1, es...))
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, es...)))
	if got := all(t, s, timeline.Home, 1); len(got) != 0 {
		t.Fatalf("Home(1) after deleting every row = %s, want empty", positions(got))
	}
	must(t, s.Trim(t.Context(), timeline.Home, 1, 1, math.MinInt64))
	if v := version(t, s, timeline.Home, 1); v == 0 {
		t.Fatal("Version after writes and deletes = 0")
	}
}
