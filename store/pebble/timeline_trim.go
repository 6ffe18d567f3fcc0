package pebblestore

// Timeline trims: the count and age bounds of one timeline, with the
// markers of the rows they remove.

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/timeline"
)

// trimPointMax is the most rows Trim removes with point deletes.
const trimPointMax = 1024

// Trim keeps the newest keep entries of one timeline (keep <= 0: no count
// bound) and removes every entry older than minTS. The cut is found by
// walking at most keep keys and one seek, never by scanning what goes: up
// to trimPointMax rows are point-deleted, more go in one DeleteRange.
//
// Markers go with their Home class rows, and a concurrent Write of a Class
// row never separates the two: the point path deletes exactly the rows it
// read and the markers named by those rows' values (a row written after
// the scan stays, and so does its marker); the bulk path, whose DeleteRange
// also covers rows it never read, runs under the user's home lock held
// exclusively, which Write holds shared while it commits Class rows.
func (t *TimelineStore) Trim(ctx context.Context, ns timeline.NS, user int64, keep int, minTS int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done, err := t.trim(ctx, ns, user, keep, minTS, false)
	if err != nil || done {
		return err
	}
	if ns == timeline.Home {
		mu := &t.s.homeLocks[t.s.homeLocks.ofUser(user)]
		mu.Lock()
		defer mu.Unlock()
	}
	_, err = t.trim(ctx, ns, user, keep, minTS, true)
	return err
}

// trim is one attempt of Trim. Without bulk it removes nothing and
// reports false when more than trimPointMax rows would go.
func (t *TimelineStore) trim(ctx context.Context, ns timeline.NS, user int64, keep int, minTS int64, bulk bool) (done bool, err error) {
	s := t.s
	prefix := rowPrefix(nil, uint8(ns), user)
	end := prefixEnd(nil, prefix)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: end})
	if err != nil {
		return false, fmt.Errorf("pebblestore: trim: %w", err)
	}
	var cut []byte // the first key to remove; every key from it on goes
	if minTS > math.MinInt64 {
		// TS < minTS  <=>  TS <= minTS-1  <=>  key >= prefix+inv64(minTS-1).
		age := appendInv64(append([]byte(nil), prefix...), minTS-1)
		if it.SeekGE(age) {
			cut = append(cut[:0], it.Key()...)
		}
	}
	if keep > 0 {
		ok := it.First()
		for n := 0; ok && n < keep; n++ {
			if cut != nil && bytes.Compare(it.Key(), cut) >= 0 {
				break // the age cut already covers the rest
			}
			ok = it.Next()
		}
		if ok && (cut == nil || bytes.Compare(it.Key(), cut) < 0) {
			cut = append(cut[:0], it.Key()...)
		}
	}
	// Few rows to go (the usual case: a timeline just over its cap) are
	// point-deleted; more are removed with one DeleteRange. Range tombstones
	// are kept for bulk removal because each new one in the memtable makes
	// the next iterator of any reader re-fragment them all.
	var (
		flat []byte // the row keys to point-delete, back to back
		ends []int  // where each of them ends in flat
		mks  []byte // the markers of the Home class rows among them
		mke  []int
	)
	over := false
	if cut != nil {
		for ok := it.SeekGE(cut); ok; ok = it.Next() {
			if len(ends) == trimPointMax {
				over = true
				break
			}
			k := it.Key()
			flat = append(flat, k...)
			ends = append(ends, len(flat))
			if ns != timeline.Home {
				continue
			}
			if mks, err = appendRowMarker(mks, user, k, it); err != nil {
				break
			}
			if len(mks) > 0 && (len(mke) == 0 || mke[len(mke)-1] != len(mks)) {
				mke = append(mke, len(mks))
			}
		}
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("pebblestore: trim: %w", err)
	}
	if cut == nil {
		return true, nil // nothing to remove
	}
	if over && !bulk {
		return false, nil
	}
	b := s.db.NewBatch()
	if over {
		err = b.DeleteRange(cut, end, nil)
		if err == nil && ns == timeline.Home {
			err = t.trimMarkers(ctx, b, user, cut)
		}
	} else {
		err = deleteFlat(b, flat, ends)
		if err == nil {
			err = deleteFlat(b, mks, mke)
		}
	}
	if err != nil {
		_ = b.Close()
		return false, fmt.Errorf("pebblestore: trim: %w", err)
	}
	return true, commit(b, s.wo)
}

// appendRowMarker appends to mks the marker key of the Home row at it (key
// k) if it is a Class row, and nothing otherwise.
func appendRowMarker(mks []byte, user int64, k []byte, it *pebble.Iterator) ([]byte, error) {
	v, err := it.ValueAndErr()
	if err != nil {
		return mks, err
	}
	var ev entryView
	if err := decodeEntryVal(v, &ev); err != nil {
		return mks, err
	}
	if !ev.kind.Aggregated() {
		return mks, nil
	}
	if len(k) < rowPrefixLen+8+1 {
		return mks, corrupt("row key")
	}
	ts := decodeInv64(k[rowPrefixLen:])
	id := string(appendUninvID(nil, k[rowPrefixLen+8:]))
	return markerKey(mks, user, timeline.MarkerObject(ev.kind, string(ev.object)), ev.actor, ts, id), nil
}

// deleteFlat adds to b the deletion of each key of flat (ends as Trim
// collects them).
func deleteFlat(b *pebble.Batch, flat []byte, ends []int) error {
	start := 0
	for _, end := range ends {
		if err := b.Delete(flat[start:end], nil); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// trimMarkers adds to b the removal of the user's markers of rows at or
// after the cut (the rows a trim removes).
func (t *TimelineStore) trimMarkers(ctx context.Context, b *pebble.Batch, user int64, cut []byte) (err error) {
	lower := appendI64([]byte{tMarker}, user)
	upper := prefixEnd(nil, lower)
	it, err := t.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: trim markers: %w", err)
	}
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("pebblestore: trim markers: %w", cerr)
		}
	}()
	var rk []byte
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblestore: trim markers: %w", err)
		}
		ts, id, err := decodeMarkerVal(v)
		if err != nil {
			return fmt.Errorf("pebblestore: trim markers: %w", err)
		}
		rk = rowKey(rk[:0], uint8(timeline.Home), user, ts, string(id))
		if bytes.Compare(rk, cut) >= 0 {
			if err := b.Delete(it.Key(), nil); err != nil {
				return fmt.Errorf("pebblestore: trim markers: %w", err)
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestore: trim markers: %w", err)
	}
	return nil
}
