package storetest

// RunTimeline's class marker subtests: Markers, MarkersOf, and a delete
// removing only its own row's marker.

import (
	"cmp"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

func markers(t *testing.T, s timeline.Store, user int64, object string) []timeline.Marker {
	t.Helper()
	ms, err := s.Markers(t.Context(), user, object)
	must(t, err)
	slices.SortFunc(ms, func(a, b timeline.Marker) int { return cmp.Compare(a.Actor, b.Actor) })
	return ms
}

func wantMarkers(t *testing.T, s timeline.Store, user int64, object string, want ...timeline.Marker) {
	t.Helper()
	got := markers(t, s, user, object)
	if len(got) != len(want) || (len(got) > 0 && !slices.Equal(got, want)) {
		t.Errorf("Markers(%d, %q) = %+v, want %+v", user, object, got, want)
	}
}

func tlMarkers(t *testing.T, s timeline.Store) {
	write(t, s, append(append(append(
		rows(timeline.Home, 1,
			classEntry(10, "c10", 20, "o"),
			classEntry(11, "c11", 10, "o"),
			classEntry(12, "c12", 30, "o1"),
			entry(13, "p13")), // a post: not a marker
		rows(timeline.Home, 1, timeline.Entry{TS: 14, ID: "p14", Kind: timeline.KindPost, Actor: 40, Object: "o"})...),
		rows(timeline.Home, 2, classEntry(10, "c10", 40, "o"))...),
		rows(timeline.Outbox, 1, classEntry(15, "c15", 50, "o"))...)) // outbox: not indexed
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 10, TS: 11, EventID: "c11"}, timeline.Marker{Actor: 20, TS: 10, EventID: "c10"})
	wantMarkers(t, s, 1, "o1", timeline.Marker{Actor: 30, TS: 12, EventID: "c12"})
	wantMarkers(t, s, 2, "o", timeline.Marker{Actor: 40, TS: 10, EventID: "c10"})
	wantMarkers(t, s, 1, "none")
	wantMarkers(t, s, 3, "o")

	r := rows(timeline.Home, 1, classEntry(11, "c11", 10, "o"))
	must(t, s.Delete(t.Context(), r))
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 20, TS: 10, EventID: "c10"})
	write(t, s, r) // written again: indexed again
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 10, TS: 11, EventID: "c11"}, timeline.Marker{Actor: 20, TS: 10, EventID: "c10"})
}

// tlMarkersOf: MarkersOf returns, in order, what Markers returns for each
// object (repeated, missing, prefix-sharing and empty ids included).
func tlMarkersOf(t *testing.T, s timeline.Store) {
	write(t, s, append(append(
		rows(timeline.Home, 1,
			classEntry(10, "c10", 20, "o"),
			classEntry(11, "c11", 10, "o"),
			classEntry(12, "c12", 30, "o1"),
			classEntry(13, "c13", 40, "oo"),
			entry(14, "p14")),
		rows(timeline.Home, 2, classEntry(10, "c10", 40, "o"))...),
		rows(timeline.Home, 3, classEntry(10, "c10", 50, "o"))...))
	objects := []string{"oo", "none", "o", "o1", "o", "", "p14"}
	got, err := s.MarkersOf(t.Context(), 1, objects)
	must(t, err)
	if len(got) != len(objects) {
		t.Fatalf("MarkersOf returned %d lists for %d objects", len(got), len(objects))
	}
	for i, o := range objects {
		ms := slices.Clone(got[i])
		slices.SortFunc(ms, func(a, b timeline.Marker) int { return cmp.Compare(a.Actor, b.Actor) })
		want := markers(t, s, 1, o)
		if len(ms) != len(want) || (len(ms) > 0 && !slices.Equal(ms, want)) {
			t.Errorf("MarkersOf(1)[%d] (%q) = %+v, want %+v", i, o, ms, want)
		}
	}
	if len(got[2]) != 2 || len(got[1]) != 0 {
		t.Errorf("MarkersOf(1) = %+v", got)
	}
	empty, err := s.MarkersOf(t.Context(), 1, nil)
	must(t, err)
	if len(empty) != 0 {
		t.Errorf("MarkersOf(1, nil) = %+v", empty)
	}
}

func tlMarkerOwnRow(t *testing.T, s timeline.Store) {
	e1, e2 := classEntry(100, "E1", 10, "o"), classEntry(200, "E2", 10, "o")
	write(t, s, rows(timeline.Home, 1, e1))
	write(t, s, rows(timeline.Home, 1, e2)) // re-class after an unclass
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 10, TS: 200, EventID: "E2"})
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, e1)))
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 10, TS: 200, EventID: "E2"})
	must(t, s.Delete(t.Context(), rows(timeline.Home, 1, e2)))
	wantMarkers(t, s, 1, "o")
}

// tlCommentMarkers: comment rows are indexed like Class rows but under
// timeline.MarkerObject(KindComment, object), apart from the object's
// Class markers; a delete, given only the position, and a trim remove
// them with their rows.
func tlCommentMarkers(t *testing.T, s timeline.Store) {
	comment := func(ts int64, id string, actor int64, object string) timeline.Entry {
		return timeline.Entry{TS: ts, ID: id, Kind: timeline.KindComment, Actor: actor, Object: object, Owner: 99}
	}
	ck := timeline.MarkerObject(timeline.KindComment, "o")
	write(t, s, rows(timeline.Home, 1,
		classEntry(10, "c10", 20, "o"),
		comment(11, "m11", 20, "o"),
		comment(12, "m12", 20, "o"), // a second comment of 20: the newest is its marker
		comment(13, "m13", 30, "o")))
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 20, TS: 10, EventID: "c10"})
	wantMarkers(t, s, 1, ck, timeline.Marker{Actor: 20, TS: 12, EventID: "m12"}, timeline.Marker{Actor: 30, TS: 13, EventID: "m13"})
	got, err := s.MarkersOf(t.Context(), 1, []string{ck, "o"})
	must(t, err)
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
		t.Fatalf("MarkersOf(comments, class) = %+v", got)
	}
	// Deleting by position only (Kind 0) finds the row's kind itself.
	must(t, s.Delete(t.Context(), []timeline.Row{{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: 12, ID: "m12"}}}))
	wantMarkers(t, s, 1, ck, timeline.Marker{Actor: 20, TS: 11, EventID: "m11"}, timeline.Marker{Actor: 30, TS: 13, EventID: "m13"})
	wantMarkers(t, s, 1, "o", timeline.Marker{Actor: 20, TS: 10, EventID: "c10"})
	// Trimming to the newest entry drops the older rows' markers too.
	must(t, s.Trim(t.Context(), timeline.Home, 1, 1, 0))
	wantMarkers(t, s, 1, ck, timeline.Marker{Actor: 30, TS: 13, EventID: "m13"})
	wantMarkers(t, s, 1, "o")
}
