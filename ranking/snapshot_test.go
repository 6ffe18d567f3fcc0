package ranking

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/lenta-dev/lenta/timeline"
)

// v1Snapshot is the version 1 encoding (every factor a float64), as
// orders written before version 2 are stored.
func v1Snapshot(tail timeline.Position, items []timeline.Item, ranked []Ranked) []byte {
	dst := []byte{snapshotV1}
	dst = binary.AppendVarint(dst, tail.TS)
	dst = appendSnapStr(dst, tail.ID)
	dst = binary.AppendUvarint(dst, uint64(len(ranked)))
	for i := range ranked {
		it := &items[ranked[i].Index]
		dst = binary.AppendVarint(dst, it.TS)
		dst = appendSnapStr(dst, it.EventID)
		dst = append(dst, byte(timeline.ParseKind(it.Type)))
		dst = binary.AppendVarint(dst, it.Actor)
		dst = appendSnapStr(dst, it.Object)
		dst = binary.AppendVarint(dst, it.Owner)
		dst = binary.AppendVarint(dst, it.Until)
		dst = appendSnapStr(dst, it.Audience)
		x := &ranked[i].Explain
		for _, f := range [explainFloats]float64{x.Score, x.TypeWeight, x.LiveBoost, x.Affinity, x.Freshness, x.Engagement, x.Diversity} {
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
		}
	}
	return dst
}

// snapshotFixture: 60 candidates of every kind from 7 authors (so
// diversity reaches its floor), with Class counts and affinities.
func snapshotFixture(t *testing.T) (*Ranker, int64, []timeline.Item, []Ranked) {
	t.Helper()
	rk := newRanker(t)
	now := int64(1_700_000_000_000)
	kinds := []string{"post", "photo", "class", "gift", "live"}
	var items []timeline.Item
	var sums []float64
	for i := range 60 {
		it := timeline.Item{EventID: fmt.Sprintf("e%02d", i), Type: kinds[i%len(kinds)], Actor: int64(2 + i%7),
			Object: fmt.Sprintf("o%02d", i), TS: now - int64(i)*137_000, ClassCount: int64(i * i % 97),
			Audience: "public"}
		switch it.Type {
		case "class":
			it.Owner, it.Actors = int64(9+i%3), []int64{it.Actor, 30}
		case "gift":
			it.Owner = 1
		case "live":
			it.Live, it.Until = true, now+3600_000
		}
		items = append(items, it)
		sums = append(sums, float64(i%9)*1.7-2)
	}
	return rk, now, items, rk.Rank(now, items, sums)
}

func decodeAll(t *testing.T, data []byte, rk *Ranker) ([]timeline.Entry, []timeline.Explain, timeline.Position) {
	t.Helper()
	var sr snapReader
	if err := sr.init(data, rk); err != nil {
		t.Fatal(err)
	}
	es := make([]timeline.Entry, sr.count)
	xs := make([]timeline.Explain, sr.count)
	for i := range es {
		if err := sr.next(true, &es[i], &xs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return es, xs, sr.tail
}

// Version 2 keeps only the factors' inputs; the factors it gives back are
// the ranked ones bit for bit, and the entries are the candidates'.
func TestSnapshotV2FactorsAreExact(t *testing.T) {
	rk, now, items, ranked := snapshotFixture(t)
	tail := timeline.Position{TS: 5, ID: "tail"}
	data := appendSnapshot(nil, now, tail, items, ranked)
	es, xs, gotTail := decodeAll(t, data, rk)
	if gotTail != tail || len(es) != len(ranked) {
		t.Fatalf("tail %v, %d entries; want %v, %d", gotTail, len(es), tail, len(ranked))
	}
	floors := 0
	for i, r := range ranked {
		if want := timeline.EntryOf(&items[r.Index]); es[i] != want {
			t.Errorf("entry %d: %+v, want %+v", i, es[i], want)
		}
		if !reflect.DeepEqual(xs[i], r.Explain) {
			t.Errorf("entry %d (%s): factors %+v, ranked %+v", i, es[i].ID, xs[i], r.Explain)
		}
		if r.Explain.Diversity == rk.cfg.DiversityFloor {
			floors++
		}
	}
	if floors == 0 {
		t.Fatal("the fixture never reaches the diversity floor")
	}
	v1 := v1Snapshot(tail, items, ranked)
	t.Logf("%d entries: v2 %d bytes (%.1f an entry), v1 %d bytes (%.1f)", len(ranked), len(data),
		float64(len(data))/float64(len(ranked)), len(v1), float64(len(v1))/float64(len(ranked)))
	if len(data) >= len(v1)*2/3 {
		t.Errorf("v2 takes %d bytes, v1 %d: not smaller by a third", len(data), len(v1))
	}
}

// Orders stored before version 2 still read, their factors as stored.
func TestSnapshotV1StillReads(t *testing.T) {
	rk, _, items, ranked := snapshotFixture(t)
	tail := timeline.Position{TS: 5, ID: "tail"}
	es, xs, gotTail := decodeAll(t, v1Snapshot(tail, items, ranked), rk)
	if gotTail != tail || len(es) != len(ranked) {
		t.Fatalf("tail %v, %d entries", gotTail, len(es))
	}
	for i, r := range ranked {
		if want := timeline.EntryOf(&items[r.Index]); es[i] != want || !reflect.DeepEqual(xs[i], r.Explain) {
			t.Fatalf("entry %d: %+v %+v; want %+v %+v", i, es[i], xs[i], want, r.Explain)
		}
	}
}
