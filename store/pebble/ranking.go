package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/ranking"
)

// Ranking tables (key -> value), beside those listed in keys.go:
//
//	0x90 affinity     viewer i64, author i64, ts inv64, event id(tail) -> weight f64 bits, until i64
//	0x91 snapshot     viewer i64, id u64                              -> expires i64, data
//	0x92 snapshotAge  expires i64, viewer i64, id u64                 -> empty
//
// Invariants:
//   - the affinity rows of one (viewer, author) pair sort newest first. A
//     row's key holds its event id, so a re-delivered interaction
//     overwrites itself. Writes are blind; about one write in trimEvery
//     (picked by its event id's hash) then trims its pair to the newest
//     ranking.MaxPerPair rows and drops those whose Until is before the
//     new row's TS (they no longer count). A pair thus holds at most
//     MaxPerPair plus the writes since its last trim; readers read the
//     newest MaxPerPair, so the surplus is only space. A trim needs no
//     lock: it deletes only rows that are out of the newest MaxPerPair or
//     expired in its snapshot, and a concurrent write can only add newer
//     rows or rewrite a row with the same value.
//   - snapshotAge has one key per snapshot; PutSnapshot deletes up to
//     snapshotPurgeMax expired snapshots (both keys) per call, so expired
//     ones never pile up without any background goroutine.
const (
	tAffinity    byte = 0x90
	tSnapshot    byte = 0x91
	tSnapshotAge byte = 0x92
)

func affinityPairKey(b []byte, viewer, author int64) []byte {
	b = append(b, tAffinity)
	b = appendI64(b, viewer)
	return appendI64(b, author)
}

// RankingStore implements ranking.AffinityStore and ranking.SnapshotStore.
type RankingStore struct{ s *Store }

var (
	_ ranking.AffinityStore = (*RankingStore)(nil)
	_ ranking.SnapshotStore = (*RankingStore)(nil)
)

// Ranking is the ranking stores' view.
func (s *Store) Ranking() *RankingStore { return &RankingStore{s: s} }

// trimEvery: about one interaction write in trimEvery trims its pair.
// Trimming is an iterator over the pair (a seek in every level), which
// cost as much as the write itself when every write did it.
const trimEvery = 8

// AddInteractions records interactions in one batch, keeping each pair
// bounded (see the invariants above).
func (r *RankingStore) AddInteractions(ctx context.Context, in []ranking.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	kb := r.s.getBuf()
	defer r.s.putBuf(kb)
	var vb [16]byte
	trim := 0
	err := r.s.write(r.s.wo, func(b *pebble.Batch) error {
		for i := range in {
			x := &in[i]
			if !validKeyID(x.EventID) {
				return fmt.Errorf("pebblestore: interaction: %w", errBadID)
			}
			*kb = affinityPairKey((*kb)[:0], x.Viewer, x.Author)
			*kb = appendInv64(*kb, x.TS)
			*kb = append(*kb, x.EventID...)
			v := binary.BigEndian.AppendUint64(vb[:0], math.Float64bits(x.Weight))
			v = binary.BigEndian.AppendUint64(v, uint64(x.Until))
			if err := b.Set(*kb, v, nil); err != nil {
				return fmt.Errorf("pebblestore: put interaction: %w", err)
			}
			if picksTrim(x.EventID) {
				trim++
			}
		}
		return nil
	})
	if err != nil || trim == 0 {
		return err
	}
	for i := range in {
		if x := &in[i]; picksTrim(x.EventID) {
			*kb = affinityPairKey((*kb)[:0], x.Viewer, x.Author)
			if err := r.trim(ctx, *kb, x.TS); err != nil {
				return err
			}
		}
	}
	return nil
}

// picksTrim reports whether a write of this event trims its pair: FNV-1a
// of the id, one in trimEvery.
func picksTrim(eventID string) bool {
	h := uint32(2166136261)
	for i := 0; i < len(eventID); i++ {
		h = (h ^ uint32(eventID[i])) * 16777619
	}
	return h%trimEvery == 0
}

// trim deletes the rows of one pair beyond the newest MaxPerPair and those
// whose Until is before ts.
func (r *RankingStore) trim(ctx context.Context, prefix []byte, ts int64) error {
	upper := prefixEnd(nil, prefix)
	it, err := r.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: trim interactions: %w", err)
	}
	b := r.s.db.NewBatch()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
		v, err := it.ValueAndErr()
		if err != nil {
			break
		}
		if n > ranking.MaxPerPair || (len(v) == 16 && int64(binary.BigEndian.Uint64(v[8:])) < ts) {
			if err := b.Delete(it.Key(), nil); err != nil {
				break
			}
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("pebblestore: trim interactions: %w", err)
	}
	if b.Empty() {
		return b.Close()
	}
	return commit(b, r.s.wo)
}

// Interactions reads the newest interactions of viewer with each author
// through one iterator.
func (r *RankingStore) Interactions(ctx context.Context, viewer int64, authors []int64, since int64,
	fn func(i int, ts int64, weight float64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(authors) == 0 {
		return nil
	}
	kb := r.s.getBuf()
	defer r.s.putBuf(kb)
	lo := affinityPairKey(make([]byte, 0, 17), viewer, authors[0])
	hi := prefixEnd(make([]byte, 0, 17), affinityPairKey(make([]byte, 0, 17), viewer, authors[len(authors)-1]))
	it, err := r.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("pebblestore: interactions: %w", err)
	}
	// A merge join of the viewer's rows (sorted by author) with authors
	// (sorted): most authors have no row, and a SeekGE costs a seek in
	// every level, so the walk seeks only to skip a run of rows of
	// unwanted authors; an author without rows costs nothing.
	const pairLen = 1 + 8 + 8
	i := 0
	ok := it.First()
	for ok && i < len(authors) {
		k := it.Key()
		if len(k) < pairLen+8 {
			ok = it.Next()
			continue
		}
		a := decodeI64(k[1+8 : pairLen])
		if a > authors[i] {
			// Authors up to a have no rows: skip them without a seek.
			j, _ := slices.BinarySearch(authors[i:], a)
			i += j
			continue
		}
		if a < authors[i] {
			// Rows of an author not asked for: step over a few, then seek.
			stepped := 0
			for ok && a < authors[i] && stepped < 8 {
				ok = it.Next()
				stepped++
				if ok {
					if k = it.Key(); len(k) >= pairLen {
						a = decodeI64(k[1+8 : pairLen])
					}
				}
			}
			if ok && a < authors[i] {
				*kb = affinityPairKey((*kb)[:0], viewer, authors[i])
				ok = it.SeekGE(*kb)
			}
			continue
		}
		// a == authors[i]: its rows, newest first, at most MaxPerPair.
		n := 0
		for ok && n < ranking.MaxPerPair {
			k = it.Key()
			if len(k) < pairLen+8 || decodeI64(k[1+8:pairLen]) != a {
				break
			}
			ts := decodeInv64(k[pairLen:])
			if ts < since {
				break // newest first: the rest are older
			}
			v, err := it.ValueAndErr()
			if err != nil {
				ok = false
				break
			}
			if len(v) >= 8 {
				fn(i, ts, math.Float64frombits(binary.BigEndian.Uint64(v)))
			}
			n++
			ok = it.Next()
		}
		i++ // the next author's rows come after this one's
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pebblestore: interactions: %w", err)
	}
	return nil
}
