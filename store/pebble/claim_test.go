package pebblestore

import (
	"testing"
	"time"
)

// The embedded store has no TTL: expired claims must be forgotten (a new
// owner may claim again) and dropped by later claims, index rows included.
func TestClaimsExpireAndArePurged(t *testing.T) {
	s := newStore(t)
	n := s.Notify()
	ctx := t.Context()
	past := time.Now().Add(-time.Second).UnixMilli()
	future := time.Now().Add(time.Hour).UnixMilli()
	const old = 3 * claimPurgeBatch
	for w := range int64(old) {
		won, err := n.Claim(ctx, 1, "g", w, "a", past)
		must(t, err)
		if !won {
			t.Fatalf("first claim of window %d lost", w)
		}
	}
	won, err := n.Claim(ctx, 1, "g", 0, "b", future) // a's claim expired
	must(t, err)
	if !won {
		t.Fatal("an expired claim was not given to a new owner")
	}
	won, err = n.Claim(ctx, 1, "g", 0, "a", future)
	must(t, err)
	if won {
		t.Fatal("a live claim was won by a second owner")
	}
	count := func(table byte) int {
		var c int
		must(t, s.scan(ctx, []byte{table}, []byte{table + 1}, func(_, _ []byte) bool { c++; return true }))
		return c
	}
	for w := range int64(4) { // each claim drops up to claimPurgeBatch expired ones
		_, err := n.Claim(ctx, 2, "g", w, "a", future)
		must(t, err)
	}
	if c, a := count(tPushClaim), count(tPushClaimAge); c != 5 || a != 5 {
		t.Errorf("after the purge: %d claims and %d expiry rows, want the 5 live ones", c, a)
	}
}
