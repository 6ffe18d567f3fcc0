package pebblestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/store/storetest"
)

func TestRankingSuite(t *testing.T) {
	storetest.RunRanking(t, func(t *testing.T) storetest.RankingStore { return newStore(t).Ranking() })
}

// TestSnapshotPurgeMark: every expired snapshot is purged by later puts,
// including one put after the purge mark moved past its expiry, and the
// live ones stay.
func TestSnapshotPurgeMark(t *testing.T) {
	s := newStore(t)
	r := s.Ranking()
	ctx := context.Background()
	past := time.Now().Add(-time.Hour).UnixMilli()
	future := time.Now().Add(time.Hour).UnixMilli()
	countAge := func() int {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tSnapshotAge}, UpperBound: []byte{tSnapshotAge + 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	for i := range 20 {
		if err := r.PutSnapshot(ctx, 1, uint64(100+i), []byte{1}, past+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 { // the same expiry: the mark moves within it
		if err := r.PutSnapshot(ctx, 3, uint64(100+i), []byte{3}, past); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if err := r.PutSnapshot(ctx, 2, uint64(200+i), []byte{2}, future); err != nil {
			t.Fatal(err)
		}
	}
	if n := countAge(); n != 10 {
		t.Fatalf("%d snapshots indexed after the purges, want the 10 live ones", n)
	}
	// Expires before the mark (which has moved past every expired one).
	if err := r.PutSnapshot(ctx, 1, 999, []byte{1}, past-time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if err := r.PutSnapshot(ctx, 2, 300, []byte{2}, future); err != nil {
		t.Fatal(err)
	}
	if n := countAge(); n != 11 {
		t.Fatalf("%d snapshots indexed, want the 11 live ones", n)
	}
	// The queue of expired puts is full: the next one lowers the mark.
	var dummy ageKey
	dummy.set(snapshotAgeKey(nil, past, 9, 9))
	for range snapPendingMax {
		s.snapPurge.pending = append(s.snapPurge.pending, dummy)
	}
	if err := r.PutSnapshot(ctx, 1, 998, []byte{1}, past-2*time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	for i := range snapPendingMax/snapshotPurgeMax + 2 {
		if err := r.PutSnapshot(ctx, 2, uint64(400+i), []byte{2}, future); err != nil {
			t.Fatal(err)
		}
	}
	if n, want := countAge(), 11+snapPendingMax/snapshotPurgeMax+2; n != want {
		t.Fatalf("%d snapshots indexed, want the %d live ones", n, want)
	}
	if _, found, err := r.Snapshot(ctx, 2, 205, time.Now().UnixMilli(), nil); err != nil || !found {
		t.Fatalf("live snapshot: found %v, %v", found, err)
	}
}

// TestInteractionPairStaysBounded: one pair written one interaction at a
// time (as the hook does) holds at most MaxPerPair plus the writes since
// its last sampled trim, and the expired rows go with a trim.
func TestInteractionPairStaysBounded(t *testing.T) {
	s := newStore(t)
	r := s.Ranking()
	ctx := context.Background()
	count := func() int {
		n := 0
		p := affinityPairKey(nil, 1, 2)
		if err := s.scan(ctx, p, prefixEnd(nil, p), func(_, _ []byte) bool { n++; return true }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const writes = 2000
	base := time.Now().UnixMilli() - writes
	most, trims := 0, 0
	for i := range writes {
		id := fmt.Sprintf("c%05d", i)
		if picksTrim(id) {
			trims++
		}
		x := ranking.Interaction{Viewer: 1, Author: 2, EventID: id, TS: base + int64(i), Weight: 1, Until: base + writes + 10}
		if err := r.AddInteractions(ctx, []ranking.Interaction{x}); err != nil {
			t.Fatal(err)
		}
		most = max(most, count())
	}
	if trims < writes/trimEvery/2 {
		t.Fatalf("%d trims in %d writes: the sampling is off", trims, writes)
	}
	if most > ranking.MaxPerPair+8*trimEvery {
		t.Errorf("the pair held up to %d rows, want at most MaxPerPair + %d", most, 8*trimEvery)
	}
	// Everything expires: the next trim drops all but the new row.
	for i := writes; ; i++ {
		id := fmt.Sprintf("c%05d", i)
		x := ranking.Interaction{Viewer: 1, Author: 2, EventID: id, TS: base + writes + 100, Weight: 1, Until: base + writes + 200}
		if err := r.AddInteractions(ctx, []ranking.Interaction{x}); err != nil {
			t.Fatal(err)
		}
		if picksTrim(id) {
			break
		}
	}
	if n := count(); n > trimEvery*8 {
		t.Errorf("%d rows after a trim past every row's Until", n)
	}
}
