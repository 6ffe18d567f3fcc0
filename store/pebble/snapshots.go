package pebblestore

// Ranked snapshots: PutSnapshot with its bounded purge of expired ones,
// and Snapshot. ranking.go lists the tables.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/ranking"
)

// snapshotPurgeMax bounds the expired snapshots one PutSnapshot deletes:
// more than one per call, so purging outpaces creation.
const snapshotPurgeMax = 8

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
