package cassandrastore

import (
	"testing"
	"time"
)

// TestLedgerTTL: Config.LedgerTTL sets the ledger rows' TTL; without it
// the table's default (7 days) applies.
func TestLedgerTTL(t *testing.T) {
	shared(t)
	tests := []struct {
		name string
		ttl  time.Duration
		want int
	}{
		{"table default", 0, 604800},
		{"configured", 90 * time.Minute, 5400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := run.cfg
			cfg.LedgerTTL = tc.ttl
			s, err := Open(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			id := "ttl-" + tc.name
			if err := s.Ledger().Record(t.Context(), []string{id}, nil, 1); err != nil {
				t.Fatal(err)
			}
			var got int
			if err := s.sess.Query(`SELECT TTL(ts) FROM applied_events WHERE id = ?`, id).ScanContext(t.Context(), &got); err != nil {
				t.Fatal(err)
			}
			if got > tc.want || got < tc.want-60 {
				t.Errorf("TTL = %d, want about %d", got, tc.want)
			}
		})
	}
}
