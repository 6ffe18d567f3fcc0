package storetest

// RunTimeline's Trim subtests: the count bound, the age bound, both, keep
// 0 and equal TS.

import (
	"fmt"
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

func decade(n int) []timeline.Entry {
	var es []timeline.Entry
	for i := n; i >= 1; i-- {
		es = append(es, entry(int64(10*i), fmt.Sprint("e", i)))
	}
	return es // TS 10n ... 10, newest first
}

// trimSetup writes the same timeline to (Home, 1), (Outbox, 1) and (Home, 2).
func trimSetup(t *testing.T, s timeline.Store, es []timeline.Entry) {
	t.Helper()
	write(t, s, append(append(rows(timeline.Home, 1, es...), rows(timeline.Outbox, 1, es...)...), rows(timeline.Home, 2, es...)...))
}

func trim(t *testing.T, s timeline.Store, keep int, minTS int64) {
	t.Helper()
	must(t, s.Trim(t.Context(), timeline.Home, 1, keep, minTS))
}

func wantOthersUntouched(t *testing.T, s timeline.Store, es []timeline.Entry) {
	t.Helper()
	wantEntries(t, "Outbox(1) after trimming Home(1)", all(t, s, timeline.Outbox, 1), es)
	wantEntries(t, "Home(2) after trimming Home(1)", all(t, s, timeline.Home, 2), es)
}

func tlTrimCount(t *testing.T, s timeline.Store) {
	es := decade(10)
	trimSetup(t, s, es)
	trim(t, s, 20, 0)
	wantEntries(t, "keep more than there is", all(t, s, timeline.Home, 1), es)
	trim(t, s, 4, 0)
	wantEntries(t, "keep 4", all(t, s, timeline.Home, 1), es[:4])
	trim(t, s, 4, 0)
	wantEntries(t, "keep 4 again", all(t, s, timeline.Home, 1), es[:4])
	wantOthersUntouched(t, s, es)
}

func tlTrimAge(t *testing.T, s timeline.Store) {
	es := decade(10)
	trimSetup(t, s, es)
	trim(t, s, 100, 50) // TS 50 stays: only older entries go
	wantEntries(t, "minTS 50", all(t, s, timeline.Home, 1), es[:6])
	trim(t, s, 100, 55)
	wantEntries(t, "minTS 55", all(t, s, timeline.Home, 1), es[:5])
	trim(t, s, 100, 1000)
	wantEntries(t, "minTS past everything", all(t, s, timeline.Home, 1), nil)
	wantOthersUntouched(t, s, es)
}

func tlTrimBoth(t *testing.T, s timeline.Store) {
	es := decade(10)
	trimSetup(t, s, es)
	trim(t, s, 8, 50) // age is the tighter bound
	wantEntries(t, "keep 8, minTS 50", all(t, s, timeline.Home, 1), es[:6])
	trim(t, s, 3, 50) // count is the tighter bound
	wantEntries(t, "keep 3, minTS 50", all(t, s, timeline.Home, 1), es[:3])
	wantOthersUntouched(t, s, es)
}

func tlTrimKeepZero(t *testing.T, s timeline.Store) {
	es := decade(10)
	trimSetup(t, s, es)
	trim(t, s, 0, 0)
	wantEntries(t, "keep 0, minTS 0", all(t, s, timeline.Home, 1), es)
	trim(t, s, 0, 80)
	wantEntries(t, "keep 0, minTS 80", all(t, s, timeline.Home, 1), es[:3])
}

func tlTrimEqualTS(t *testing.T, s timeline.Store) {
	es := []timeline.Entry{entry(10, "d"), entry(10, "c"), entry(10, "b"), entry(10, "a"), entry(9, "z")}
	trimSetup(t, s, es)
	trim(t, s, 2, 0)
	wantEntries(t, "keep 2 of equal TS", all(t, s, timeline.Home, 1), es[:2])
}
