package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

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

// snapshotPurgeMax bounds the expired snapshots one PutSnapshot deletes:
// more than one per call, so purging outpaces creation.
const snapshotPurgeMax = 8

func affinityPairKey(b []byte, viewer, author int64) []byte {
	b = append(b, tAffinity)
	b = appendI64(b, viewer)
	return appendI64(b, author)
}

func snapshotKey(b []byte, viewer int64, id uint64) []byte {
	b = append(b, tSnapshot)
	b = appendI64(b, viewer)
	return binary.BigEndian.AppendUint64(b, id)
}

func snapshotAgeKey(b []byte, expires, viewer int64, id uint64) []byte {
	b = append(b, tSnapshotAge)
	b = appendI64(b, expires)
	b = appendI64(b, viewer)
	return binary.BigEndian.AppendUint64(b, id)
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

// snapPurgeMark remembers where the expired snapshots still to purge
// begin in the snapshotAge index (a key): the keys before it are purged,
// and their tombstones stay in the memtable and in L0 until a compaction
// drops them. Starting every purge scan at the index's start would step
// over all of them on each PutSnapshot (a scan that grows with the traffic
// since the last compaction); starting at the mark steps over none.
//
// Every snapshot is written through this Store, so the mark is exact. A
// put that is not expired on the purge clock (which never goes back) sorts
// after the range of every purge scan begun so far. A put already expired
// on it (a caller whose clock is far behind: tests) is queued, once
// committed, in pending, which the next puts delete by key without a scan;
// when pending is full it lowers the mark to its key instead (and keeps a
// concurrent purge from raising the mark past it).
type snapPurgeMark struct {
	mu      sync.Mutex
	from    ageKey // purge scans start here; empty: at the index's start
	now     int64  // the purge clock: the latest now handed out
	gen     uint64 // bumped whenever from is lowered
	pending []ageKey
}

// snapPendingMax bounds snapPurgeMark.pending.
const snapPendingMax = 256

// ageKey is a snapshotAge key, a prefix of one, or one followed by 0x00.
type ageKey struct {
	b [1 + 8 + 8 + 8 + 1]byte
	n int
}

func (k *ageKey) bytes() []byte { return k.b[:k.n] }

func (k *ageKey) set(b []byte) { k.n = copy(k.b[:], b) }

// PutSnapshot stores a ranked snapshot and purges a few expired ones.
func (r *RankingStore) PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) > ranking.MaxSnapshotBytes {
		return fmt.Errorf("pebblestore: snapshot of %d bytes is over %d", len(data), ranking.MaxSnapshotBytes)
	}
	var own ageKey
	own.set(snapshotAgeKey(own.b[:0], expires, viewer, id))
	var popped [snapshotPurgeMax]ageKey
	m := &r.s.snapPurge
	m.mu.Lock()
	if m.from.n == 0 {
		m.from.set([]byte{tSnapshotAge})
	}
	m.now = max(m.now, time.Now().UnixMilli())
	np := copy(popped[:], m.pending[max(len(m.pending)-snapshotPurgeMax, 0):])
	m.pending = m.pending[:len(m.pending)-np]
	from, now, gen := m.from, m.now, m.gen
	m.mu.Unlock()
	expired := expires < now

	b := r.s.db.NewBatch()
	var kb [1 + 8 + 8]byte
	// The value (expires, data) is written straight into the batch: no
	// copy of the snapshot on the heap.
	sk := snapshotKey(kb[:0], viewer, id)
	op := b.SetDeferred(len(sk), 8+len(data))
	copy(op.Key, sk)
	copy(op.Value[copy(op.Value, appendI64(kb[:0], expires)):], data)
	err := op.Finish()
	if err == nil {
		err = b.Set(own.bytes(), nil, nil)
	}
	for i := 0; i < np && err == nil; i++ {
		err = deleteSnapshotInto(b, popped[i].bytes())
	}
	next := from
	if err == nil {
		err = r.purgeInto(ctx, b, &next, now, snapshotPurgeMax-np)
	}
	if err == nil {
		err = commit(b, r.s.wo)
	} else {
		_ = b.Close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		// Keep the popped ones for another put.
		m.pending = append(m.pending, popped[:min(np, snapPendingMax-len(m.pending))]...)
		return fmt.Errorf("pebblestore: put snapshot: %w", err)
	}
	if m.gen == gen && bytes.Compare(next.bytes(), m.from.bytes()) > 0 {
		m.from = next // no put lowered the mark meanwhile
	}
	if expired { // its key was not in the scan, and may be past the mark
		if len(m.pending) < snapPendingMax {
			m.pending = append(m.pending, own)
		} else if bytes.Compare(own.bytes(), m.from.bytes()) < 0 {
			m.from = own
			m.gen++
		}
	}
	return nil
}

// deleteSnapshotInto adds the deletion of the snapshot of age key k (and
// of k) to b.
func deleteSnapshotInto(b *pebble.Batch, k []byte) error {
	if len(k) != 1+8+8+8 {
		return nil
	}
	var kb [1 + 8 + 8]byte
	viewer, id := decodeI64(k[9:17]), binary.BigEndian.Uint64(k[17:])
	if err := b.Delete(snapshotKey(kb[:0], viewer, id), nil); err != nil {
		return err
	}
	return b.Delete(k, nil)
}

// purgeInto adds the deletion of up to max snapshots whose age keys are at
// or after *from and expire before now to b, and moves *from to where the
// next purge can start: just after the last one deleted, or to now when
// none expiring before now is left.
func (r *RankingStore) purgeInto(ctx context.Context, b *pebble.Batch, from *ageKey, now int64, max int) error {
	var hi [1 + 8]byte
	upper := appendI64(append(hi[:0], tSnapshotAge), now)
	if max <= 0 || bytes.Compare(from.bytes(), upper) >= 0 {
		return nil
	}
	it, err := r.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: from.bytes(), UpperBound: upper})
	if err != nil {
		return err
	}
	next := *from
	n := 0
	ok := it.First()
	for ; ok && n < max; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+8+8+8 {
			continue
		}
		if err = deleteSnapshotInto(b, k); err != nil {
			break
		}
		next.set(k)
		next.b[next.n] = 0 // the smallest key after k
		next.n++
		n++
	}
	if err == nil {
		err = it.Error()
	}
	if err == nil && !ok {
		next.set(upper) // nothing expiring before now is left
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	*from = next
	return nil
}

// Snapshot appends a stored, unexpired snapshot to dst.
func (r *RankingStore) Snapshot(ctx context.Context, viewer int64, id uint64, now int64, dst []byte) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return dst, false, err
	}
	var kb [17]byte
	v, closer, err := r.s.db.Get(snapshotKey(kb[:0], viewer, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, fmt.Errorf("pebblestore: snapshot: %w", err)
	}
	defer closer.Close()
	if len(v) < 8 {
		return dst, false, errors.New("pebblestore: snapshot: short value")
	}
	if decodeI64(v) <= now {
		return dst, false, nil
	}
	return append(dst, v[8:]...), true, nil
}
