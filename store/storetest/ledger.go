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
		{"DigestIsKept", ledgerDigest},
		{"NoDigestIsUnknown", ledgerNoDigest},
	})
}

func wantSeen(t *testing.T, l fanout.Ledger, ids []string, want ...bool) {
	t.Helper()
	marks, err := l.Seen(t.Context(), ids)
	must(t, err)
	got := make([]bool, len(marks))
	for i, m := range marks {
		got[i] = m.Found
	}
	if !slices.Equal(got, want) {
		t.Errorf("Seen(%q) = %v, want %v", ids, got, want)
	}
}

func ledgerUnknown(t *testing.T, l fanout.Ledger) {
	wantSeen(t, l, []string{"a", "b"}, false, false)
}

func ledgerRecord(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), []string{"a", "b"}, nil, 1_700_000_000_000))
	wantSeen(t, l, []string{"a", "x", "b", "a"}, true, false, true, true)
	must(t, l.Record(t.Context(), []string{"x"}, nil, 1_700_000_000_001))
	wantSeen(t, l, []string{"a", "x", "b", "y"}, true, true, true, false)
}

func ledgerIdempotent(t *testing.T, l fanout.Ledger) {
	for range 3 {
		must(t, l.Record(t.Context(), []string{"a", "a"}, nil, 1_700_000_000_000))
	}
	must(t, l.Record(t.Context(), []string{"a"}, nil, 1_700_000_000_500)) // later ts
	wantSeen(t, l, []string{"a"}, true)
}

func ledgerPrefixes(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), []string{"e1"}, nil, 1_700_000_000_000))
	wantSeen(t, l, []string{"e", "e1", "e10"}, false, true, false)
}

func ledgerEmpty(t *testing.T, l fanout.Ledger) {
	must(t, l.Record(t.Context(), nil, nil, 1_700_000_000_000))
	got, err := l.Seen(t.Context(), nil)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Seen(nil) = %v", got)
	}
}

func wantMarks(t *testing.T, l fanout.Ledger, ids []string, want ...fanout.LedgerMark) {
	t.Helper()
	got, err := l.Seen(t.Context(), ids)
	must(t, err)
	if !slices.Equal(got, want) {
		t.Errorf("Seen(%q) = %+v, want %+v", ids, got, want)
	}
}

func ledgerDigest(t *testing.T, l fanout.Ledger) {
	// Digests use the whole 64 bits (Cassandra stores them as signed).
	must(t, l.Record(t.Context(), []string{"a", "b"}, []uint64{1, 0xfedcba9876543210}, 1_700_000_000_000))
	wantMarks(t, l, []string{"a", "b", "c"},
		fanout.LedgerMark{Found: true, Digest: 1},
		fanout.LedgerMark{Found: true, Digest: 0xfedcba9876543210},
		fanout.LedgerMark{})
	// Re-recording with the same digest is idempotent.
	must(t, l.Record(t.Context(), []string{"b"}, []uint64{0xfedcba9876543210}, 1_700_000_000_500))
	wantMarks(t, l, []string{"b"}, fanout.LedgerMark{Found: true, Digest: 0xfedcba9876543210})
}

func ledgerNoDigest(t *testing.T, l fanout.Ledger) {
	// A row without digest (as written before digests) is found with
	// digest 0: unknown.
	must(t, l.Record(t.Context(), []string{"old", "new"}, []uint64{0, 7}, 1_700_000_000_000))
	wantMarks(t, l, []string{"old", "new"},
		fanout.LedgerMark{Found: true},
		fanout.LedgerMark{Found: true, Digest: 7})
}
