//go:build invariants

package pebblestore

import (
	"context"
	"fmt"
	"testing"

	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/timeline"
)

// TestTrimKeepsClassRowsWithTheirMarkers races Trim of a Home timeline over
// its cap with Writes of older Class rows to it: every row must keep its
// marker and every marker its row, both after each Write (the Write check)
// and at rest. Before, a row written between Trim's scan and its commit
// could go while its marker stayed (the DeleteRange), or stay while its
// marker went (the point path's scan of the marker index).
func TestTrimKeepsClassRowsWithTheirMarkers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		batch  int // Class rows per Write, all older than what the cap keeps
		writes int
	}{
		// Mostly a few rows to go per trim: the point path.
		{"point deletes", 1, 5000},
		// More than trimPointMax rows to go per trim: the DeleteRange.
		{"range delete", trimPointMax + 100, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tl := s.Timelines()
			ctx := context.Background()
			var rs []timeline.Row
			for i := range 200 {
				rs = append(rs, timeline.Row{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: int64(1000 + i), ID: fmt.Sprint("n", i), Kind: timeline.KindClass, Actor: int64(i), Object: "o"}})
			}
			must(t, tl.Write(ctx, rs))
			var (
				v    *invariants.Violation
				done = make(chan struct{})
			)
			go func() {
				defer close(done)
				batch := make([]timeline.Row, tc.batch)
				for i := range tc.writes {
					for j := range batch {
						n := i*tc.batch + j
						batch[j] = timeline.Row{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: int64(n % 500), ID: fmt.Sprint("o", n), Kind: timeline.KindClass, Actor: int64(n % 7), Object: "o"}}
					}
					if v = invariants.Recover(func() { _ = tl.Write(ctx, batch) }); v != nil {
						return
					}
				}
			}()
			trims := 0
		loop:
			for {
				select {
				case <-done:
					break loop
				default:
				}
				must(t, tl.Trim(ctx, timeline.Home, 1, 100, 0))
				trims++
			}
			if v != nil { // written before done was closed
				t.Fatal(v)
			}
			rows, markers := map[string]bool{}, map[string]bool{}
			lo := rowPrefix(nil, uint8(timeline.Home), 1)
			must(t, s.scan(ctx, lo, prefixEnd(nil, lo), func(k, _ []byte) bool {
				rows[fmt.Sprint(decodeInv64(k[rowPrefixLen:]), string(appendUninvID(nil, k[rowPrefixLen+8:])))] = true
				return true
			}))
			lo = markerPrefix(nil, 1, "o")
			must(t, s.scan(ctx, lo, prefixEnd(nil, lo), func(_, v []byte) bool {
				ts, id, err := decodeMarkerVal(v)
				must(t, err)
				markers[fmt.Sprint(ts, string(id))] = true
				return true
			}))
			for r := range rows {
				if !markers[r] {
					t.Errorf("row %s has no marker (after %d trims)", r, trims)
				}
			}
			for m := range markers {
				if !rows[m] {
					t.Errorf("marker %s has no row (after %d trims)", m, trims)
				}
			}
		})
	}
}
