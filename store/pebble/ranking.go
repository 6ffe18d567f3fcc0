package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
//   - the affinity rows of one (viewer, author) pair sort newest first; a
//     write keeps at most ranking.MaxPerPair of them and drops those whose
//     Until is before the new row's TS (they no longer count), under the
//     pair's lock stripe. A row's key holds its event id, so a re-delivered
//     interaction overwrites itself.
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

// AddInteractions records interactions, keeping each pair bounded.
func (r *RankingStore) AddInteractions(ctx context.Context, in []ranking.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	kb := r.s.getBuf()
	defer r.s.putBuf(kb)
	var vb [16]byte
	for i := range in {
		x := &in[i]
		if !validKeyID(x.EventID) {
			return fmt.Errorf("pebblestore: interaction: %w", errBadID)
		}
		*kb = affinityPairKey((*kb)[:0], x.Viewer, x.Author)
		stripe := r.s.locks.of(*kb)
		r.s.locks[stripe].Lock()
		err := r.addLocked(ctx, kb, vb[:0], x)
		r.s.locks[stripe].Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// addLocked writes one interaction and trims its pair; the pair's stripe
// is held. kb holds the pair prefix on entry.
func (r *RankingStore) addLocked(ctx context.Context, kb *[]byte, vb []byte, x *ranking.Interaction) error {
	plen := len(*kb)
	*kb = appendInv64(*kb, x.TS)
	*kb = append(*kb, x.EventID...)
	vb = binary.BigEndian.AppendUint64(vb, math.Float64bits(x.Weight))
	vb = binary.BigEndian.AppendUint64(vb, uint64(x.Until))
	if err := r.s.db.Set(*kb, vb, r.s.wo); err != nil {
		return fmt.Errorf("pebblestore: put interaction: %w", err)
	}
	prefix := (*kb)[:plen]
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
		if n > ranking.MaxPerPair || (len(v) == 16 && int64(binary.BigEndian.Uint64(v[8:])) < x.TS) {
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
	for i, a := range authors {
		*kb = affinityPairKey((*kb)[:0], viewer, a)
		n := 0
		for ok := it.SeekGE(*kb); ok && n < ranking.MaxPerPair && bytes.HasPrefix(it.Key(), *kb); ok = it.Next() {
			k := it.Key()
			if len(k) < len(*kb)+8 {
				continue
			}
			ts := decodeInv64(k[len(*kb):])
			if ts < since {
				break // newest first: the rest are older
			}
			v, err := it.ValueAndErr()
			if err != nil {
				break
			}
			if len(v) >= 8 {
				fn(i, ts, math.Float64frombits(binary.BigEndian.Uint64(v)))
			}
			n++
		}
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

// PutSnapshot stores a ranked snapshot and purges a few expired ones.
func (r *RankingStore) PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) > ranking.MaxSnapshotBytes {
		return fmt.Errorf("pebblestore: snapshot of %d bytes is over %d", len(data), ranking.MaxSnapshotBytes)
	}
	b := r.s.db.NewBatch()
	v := make([]byte, 0, 8+len(data))
	v = appendI64(v, expires)
	v = append(v, data...)
	err := b.Set(snapshotKey(nil, viewer, id), v, nil)
	if err == nil {
		err = b.Set(snapshotAgeKey(nil, expires, viewer, id), nil, nil)
	}
	if err == nil {
		err = r.purgeInto(ctx, b, time.Now().UnixMilli())
	}
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("pebblestore: put snapshot: %w", err)
	}
	return commit(b, r.s.wo)
}

// purgeInto adds the deletion of up to snapshotPurgeMax snapshots expired
// before now to b.
func (r *RankingStore) purgeInto(ctx context.Context, b *pebble.Batch, now int64) error {
	it, err := r.s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: []byte{tSnapshotAge}, UpperBound: appendI64([]byte{tSnapshotAge}, now)})
	if err != nil {
		return err
	}
	n := 0
	for ok := it.First(); ok && n < snapshotPurgeMax; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+8+8+8 {
			continue
		}
		viewer, id := decodeI64(k[9:17]), binary.BigEndian.Uint64(k[17:])
		if err = b.Delete(snapshotKey(nil, viewer, id), nil); err == nil {
			err = b.Delete(k, nil)
		}
		if err != nil {
			break
		}
		n++
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
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
