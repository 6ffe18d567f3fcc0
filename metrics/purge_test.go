package metrics

import (
	"strings"
	"testing"
)

// TestPurgedCountsPerTable: rows purged add up per table, and a second
// Purged() shares the first one's counter instead of panicking.
func TestPurgedCountsPerTable(t *testing.T) {
	r := New()
	p := r.Purged()
	p("ledger", 4096)
	p("ledger", 4)
	r.Purged()("notify_index", 3)
	out := scrape(t, r)
	for _, want := range []string{
		`lenta_store_purged_rows_total{table="ledger"} 4100`,
		`lenta_store_purged_rows_total{table="notify_index"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
