package storetest

import (
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
)

// RunLedger checks a fanout.Ledger: Seen reports exactly what Record
// recorded, in the order asked.
func RunLedger(t *testing.T, newStore func(t *testing.T) fanout.Ledger) {
	t.Helper()
	run(t, newStore, []subtest[fanout.Ledger]{
		{"UnknownIsNotSeen", ledgerUnknown},
		{"RecordThenSeen", ledgerRecord},
		{"RecordIsIdempotent", ledgerIdempotent},
		{"PrefixIDsAreDistinct", ledgerPrefixes},
		{"EmptyCalls", ledgerEmpty},
	})
}

func wantSeen(t *testing.T, l fanout.Ledger, ids []string, want ...bool) {
	t.Helper()
	got, err := l.Seen(t.Context(), ids)
	must(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("Seen(%q) = %v, want %v", ids, got, want)
	}
}

func ledgerUnknown(t *testing.T, l fanout.Ledger) {
	wantSeen(t, l, []string{"a", "b"}, false, false)
}

func ledgerRecord(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), []string{"a", "b"}, 1_700_000_000_000))
	wantSeen(t, l, []string{"a", "x", "b", "a"}, true, false, true, true)
	must(t, l.Record(t.Context(), []string{"x"}, 1_700_000_000_001))
	wantSeen(t, l, []string{"a", "x", "b", "y"}, true, true, true, false)
}

func ledgerIdempotent(t *testing.T, l fanout.Ledger) {
	for range 3 {
		must(t, l.Record(t.Context(), []string{"a", "a"}, 1_700_000_000_000))
	}
	must(t, l.Record(t.Context(), []string{"a"}, 1_700_000_000_500)) // later ts
	wantSeen(t, l, []string{"a"}, true)
}

func ledgerPrefixes(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), []string{"e1"}, 1_700_000_000_000))
	wantSeen(t, l, []string{"e", "e1", "e10"}, false, true, false)
}

func ledgerEmpty(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), nil, 1_700_000_000_000))
	got, err := l.Seen(t.Context(), nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Seen(nil) = %v", got)
	}
}
