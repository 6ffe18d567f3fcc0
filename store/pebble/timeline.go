package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// TimelineStore implements timeline.Store.
type TimelineStore struct{ s *Store }

var _ timeline.Store = (*TimelineStore)(nil)

func isClassRow(r *timeline.Row) bool {
	return r.NS == timeline.Home && r.Entry.Kind == timeline.KindClass
}

// Write upserts rows of any number of timelines in one batch. Home class
// rows also write their marker (user, object, actor, ts, id), blind.
//
// The batch holds its keys in ascending order (rows, then markers, then
// versions: their tables' order; the same key twice keeps its call order,
// so the last one wins as before). Pebble applies a batch to the memtable
// with one skiplist inserter that starts each search from the previous
// key's splice, so sorted keys cost a short walk each instead of a search
// from the top: a fan-out batch names hundreds of timelines in event
// order, and the memtable insert was half of the engine's CPU.
func (t *TimelineStore) Write(ctx context.Context, rows []timeline.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	s := t.s
	w := t.s.writes.Get().(*sortedWrite)
	defer t.s.writes.Put(w)
	w.reset()
	classRows := 0
	for i := range rows {
		r := &rows[i]
		if !validKeyID(r.Entry.ID) {
			return fmt.Errorf("pebblestore: write row %q: %w", r.Entry.ID, errBadID)
		}
		k := len(w.arena)
		w.arena = rowKey(w.arena, uint8(r.NS), r.User, r.Entry.TS, r.Entry.ID)
		v := len(w.arena)
		w.arena = appendEntryVal(w.arena, &r.Entry)
		w.added(k, v)
		if isClassRow(r) {
			classRows++
		}
	}
	if classRows > 0 {
		// The markers are written blind: one per row, so nothing needs
		// reading.
		for i := range rows {
			r := &rows[i]
			if !isClassRow(r) {
				continue
			}
			k := len(w.arena)
			w.arena = markerKey(w.arena, r.User, r.Entry.Object, r.Entry.Actor, r.Entry.TS, r.Entry.ID)
			v := len(w.arena)
			w.arena = appendMarkerVal(w.arena, r.Entry.TS, r.Entry.ID)
			w.added(k, v)
		}
	}
	b := s.db.NewBatchWithSize(len(w.arena) + 16*len(w.ents) + 64)
	if err := w.fill(b); err != nil {
		_ = b.Close()
		return fmt.Errorf("pebblestore: write row: %w", err)
	}
	// Versions (table 0x32) sort after rows and markers.
	if err := t.bumpVersions(b, rows); err != nil {
		_ = b.Close()
		return err
	}
	return commit(b, s.wo)
}

// Delete removes rows and the markers that point at them. The kind, object
// and actor of a Home row are read from the stored row (falling back to
// the given entry), so callers need only name the row.
func (t *TimelineStore) Delete(ctx context.Context, rows []timeline.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	s := t.s
	var k, v, mk []byte
	b := s.db.NewBatch()
	for i := range rows {
		r := &rows[i]
		if !validKeyID(r.Entry.ID) {
			continue // no such row can exist
		}
		k = rowKey(k[:0], uint8(r.NS), r.User, r.Entry.TS, r.Entry.ID)
		if r.NS == timeline.Home {
			e := r.Entry
			if e.Kind == 0 { // only the position was given: read the rest
				var found bool
				var err error
				v, found, err = s.getCopy(k, v[:0])
				if err == nil && found {
					err = decodeRow(k, v, &e)
				}
				if err != nil {
					_ = b.Close()
					return fmt.Errorf("pebblestore: delete row: %w", err)
				}
			}
			if e.Kind == timeline.KindClass {
				mk = markerKey(mk[:0], r.User, e.Object, e.Actor, e.TS, e.ID)
				if err := b.Delete(mk, nil); err != nil {
					_ = b.Close()
					return fmt.Errorf("pebblestore: delete marker: %w", err)
				}
			}
		}
		if err := b.Delete(k, nil); err != nil {
			_ = b.Close()
			return fmt.Errorf("pebblestore: delete row: %w", err)
		}
	}
	if err := t.bumpVersions(b, rows); err != nil {
		_ = b.Close()
		return err
	}
	return commit(b, s.wo)
}

// bumpVersions adds to b a new version for each timeline rows touch, in
// the same batch as the rows: a reader that sees the rows sees the
// version, and the other way round. One version is drawn per call; the
// timelines are deduplicated on the way (rows usually come grouped by
// timeline, so only a run change costs a lookup).
func (t *TimelineStore) bumpVersions(b *pebble.Batch, rows []timeline.Row) error {
	v := t.s.tlVersion.Add(1)
	var val [8]byte
	binary.BigEndian.PutUint64(val[:], v)
	type tl struct {
		ns   timeline.NS
		user int64
	}
	var (
		seenBuf [16]tl
		seen    = seenBuf[:0] // the distinct timelines, while few
		many    map[tl]struct{}
		last    tl
	)
	var kb [1 + 1 + 8]byte
	for i := range rows {
		r := &rows[i]
		if !validKeyID(r.Entry.ID) {
			continue
		}
		k := tl{r.NS, r.User}
		if i > 0 && k == last {
			continue // the run being written
		}
		last = k
		switch {
		case many != nil:
			if _, dup := many[k]; dup {
				continue
			}
			many[k] = struct{}{}
		case slices.Contains(seen, k):
			continue
		case len(seen) < cap(seenBuf):
			seen = append(seen, k)
		default: // a big fan-out: a set from here on
			many = make(map[tl]struct{}, len(rows))
			for _, x := range seen {
				many[x] = struct{}{}
			}
			many[k] = struct{}{}
		}
		if err := b.Set(tlVersionKey(kb[:0], uint8(r.NS), r.User), val[:], nil); err != nil {
			return fmt.Errorf("pebblestore: timeline version: %w", err)
		}
	}
	return nil
}

// Version implements timeline.Store.
func (t *TimelineStore) Version(ctx context.Context, ns timeline.NS, user int64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var kb [1 + 1 + 8]byte
	v, closer, err := t.s.db.Get(tlVersionKey(kb[:0], uint8(ns), user))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pebblestore: timeline version: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("pebblestore: timeline version: %w", corrupt("version value"))
	}
	return binary.BigEndian.Uint64(v), nil
}

// maxPageAlloc caps the entries preallocated for one page.
const maxPageAlloc = 128

// Page returns up to limit entries strictly after position after, newest
// first. All the page's strings share one allocation.
func (t *TimelineStore) Page(ctx context.Context, ns timeline.NS, user int64, after timeline.Position, limit int) ([]timeline.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	s := t.s
	bounds, arena := s.getBuf(), s.getBuf()
	defer s.putBuf(bounds)
	defer s.putBuf(arena)
	// bounds holds the lower bound then the upper bound.
	bb := rowPrefix((*bounds)[:0], uint8(ns), user)
	if !after.IsTop() {
		// rowKey(after)+0x00 is the smallest key strictly after it.
		bb = append(appendInvID(appendInv64(bb, after.TS), after.ID), 0)
	}
	nl := len(bb)
	bb = prefixEnd(bb, bb[:rowPrefixLen])
	*bounds = bb
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: bb[:nl], UpperBound: bb[nl:]})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: page: %w", err)
	}
	out := make([]timeline.Entry, 0, min(limit, maxPageAlloc))
	// Strings are first gathered as offsets into arena, then cut from one
	// string made of the arena.
	type span struct{ id, obj, aud [2]int32 }
	var spansBuf [32]span
	spans := spansBuf[:0]
	ab := (*arena)[:0]
	var ev entryView
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err == nil {
			err = decodeEntryVal(v, &ev)
		}
		if err == nil && len(k) < rowPrefixLen+9 {
			err = corrupt("row key")
		}
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("pebblestore: page: %w", err)
		}
		var sp span
		sp.id[0] = int32(len(ab))
		ab = appendUninvID(ab, k[rowPrefixLen+8:])
		sp.id[1] = int32(len(ab))
		sp.obj[0] = sp.id[1]
		ab = append(ab, ev.object...)
		sp.obj[1] = int32(len(ab))
		aud := schema.InternAudience(ev.audience)
		if aud == "" && len(ev.audience) > 0 {
			sp.aud[0] = int32(len(ab))
			ab = append(ab, ev.audience...)
			sp.aud[1] = int32(len(ab))
		}
		spans = append(spans, sp)
		out = append(out, timeline.Entry{
			TS:       decodeInv64(k[rowPrefixLen:]),
			Kind:     ev.kind,
			Actor:    ev.actor,
			Owner:    ev.owner,
			Until:    ev.until,
			Audience: aud,
		})
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	*arena = ab
	if err != nil {
		return nil, fmt.Errorf("pebblestore: page: %w", err)
	}
	if len(ab) > math.MaxInt32 {
		return nil, corrupt("page too large")
	}
	str := string(ab)
	for i := range out {
		sp := &spans[i]
		out[i].ID = str[sp.id[0]:sp.id[1]]
		out[i].Object = str[sp.obj[0]:sp.obj[1]]
		if sp.aud[1] > 0 {
			out[i].Audience = str[sp.aud[0]:sp.aud[1]]
		}
	}
	return out, nil
}

// Markers returns the class index for (user, object): each actor's newest
// marker. It is MarkersOf for one object.
func (t *TimelineStore) Markers(ctx context.Context, user int64, object string) ([]timeline.Marker, error) {
	out, err := t.MarkersOf(ctx, user, []string{object})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// MarkersOf returns the markers of each object, in order, through one
// iterator over the user's marker index (a seek per object, in key order).
// All the markers share one slice and their event ids one allocation.
func (t *TimelineStore) MarkersOf(ctx context.Context, user int64, objects []string) ([][]timeline.Marker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]timeline.Marker, len(objects))
	if len(objects) == 0 {
		return out, nil
	}
	s := t.s
	kb, arena := s.getBuf(), s.getBuf()
	defer s.putBuf(kb)
	defer s.putBuf(arena)
	keys := s.keys(kb, len(objects), func(b []byte, i int) []byte { return markerPrefix(b, user, objects[i]) })
	order := make([]int, len(objects))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	upper := prefixEnd(nil, keys[order[len(order)-1]])
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: keys[order[0]], UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: markers: %w", err)
	}
	type span struct{ obj, first, end int } // markers [first, end) of objects[obj]
	spans := make([]span, 0, len(objects))
	var all []timeline.Marker
	var ends []int32 // of the event ids in the arena
	ab := (*arena)[:0]
	for _, i := range order {
		sp := span{obj: i, first: len(all)}
		for ok := it.SeekGE(keys[i]); ok && bytes.HasPrefix(it.Key(), keys[i]); ok = it.Next() {
			actor := markerActor(it.Key(), len(keys[i]))
			if len(all) > sp.first && all[len(all)-1].Actor == actor {
				continue // an older class row of the same actor
			}
			v, verr := it.ValueAndErr()
			var ts int64
			var id []byte
			if verr == nil {
				ts, id, verr = decodeMarkerVal(v)
			}
			if verr != nil {
				_ = it.Close()
				return nil, fmt.Errorf("pebblestore: markers: %w", verr)
			}
			ab = append(ab, id...)
			ends = append(ends, int32(len(ab)))
			all = append(all, timeline.Marker{Actor: actor, TS: ts})
		}
		sp.end = len(all)
		spans = append(spans, sp)
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	*arena = ab
	if err != nil {
		return nil, fmt.Errorf("pebblestore: markers: %w", err)
	}
	if len(ab) > math.MaxInt32 {
		return nil, corrupt("markers too large")
	}
	str := string(ab)
	start := int32(0)
	for j := range all {
		all[j].EventID = str[start:ends[j]]
		start = ends[j]
	}
	for _, sp := range spans {
		if sp.end > sp.first {
			out[sp.obj] = all[sp.first:sp.end:sp.end]
		}
	}
	return out, nil
}

// trimPointMax is the most rows Trim removes with point deletes.
const trimPointMax = 1024

// Trim keeps the newest keep entries of one timeline (keep <= 0: no count
// bound) and removes every entry older than minTS. The cut is found by
// walking at most keep keys and one seek, never by scanning what goes: up
// to trimPointMax rows are point-deleted, more go in one DeleteRange. Markers
// of removed Home class rows are removed too (a scan of the user's marker
// index, not of the timeline).
func (t *TimelineStore) Trim(ctx context.Context, ns timeline.NS, user int64, keep int, minTS int64) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := t.s
	prefix := rowPrefix(nil, uint8(ns), user)
	end := prefixEnd(nil, prefix)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: end})
	if err != nil {
		return fmt.Errorf("pebblestore: trim: %w", err)
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
		flat []byte // the keys to point-delete, back to back
		ends []int  // where each of them ends in flat
	)
	bulk := false
	if cut != nil {
		for ok := it.SeekGE(cut); ok; ok = it.Next() {
			if len(ends) == trimPointMax {
				bulk = true
				break
			}
			flat = append(flat, it.Key()...)
			ends = append(ends, len(flat))
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pebblestore: trim: %w", err)
	}
	if cut == nil {
		return nil // nothing to remove
	}
	b := s.db.NewBatch()
	if bulk {
		err = b.DeleteRange(cut, end, nil)
	} else {
		start := 0
		for _, end := range ends {
			if err = b.Delete(flat[start:end], nil); err != nil {
				break
			}
			start = end
		}
	}
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("pebblestore: trim: %w", err)
	}
	if ns != timeline.Home {
		return commit(b, s.wo)
	}
	if err := t.trimMarkers(ctx, b, user, cut); err != nil {
		_ = b.Close()
		return err
	}
	return commit(b, s.wo)
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
