package pebblestore

// The timeline view and its writes: rows, Class markers and versions.
// timeline_read.go holds the reads, timeline_trim.go the trims.

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/timeline"
)

// TimelineStore implements timeline.Store.
type TimelineStore struct{ s *Store }

var _ timeline.Store = (*TimelineStore)(nil)

func isClassRow(r *timeline.Row) bool {
	return r.NS == timeline.Home && r.Entry.Kind.Aggregated()
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
			w.users = append(w.users, s.homeLocks.ofUser(r.User))
			k := len(w.arena)
			w.arena = markerKey(w.arena, r.User, timeline.MarkerObject(r.Entry.Kind, r.Entry.Object), r.Entry.Actor, r.Entry.TS, r.Entry.ID)
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
	// Class rows and their markers commit under their users' home locks,
	// shared: a bulk Trim of one of those timelines (exclusive) either saw
	// both or runs after them, so its DeleteRange never takes a row whose
	// marker it did not scan. A point Trim needs no lock (see Trim).
	var held []int
	if classRows > 0 {
		held = s.homeLocks.rlock(w.users)
	}
	err := commit(b, s.wo)
	if held != nil {
		s.homeLocks.runlock(held)
	}
	if err != nil {
		return err
	}
	if invariants.Enabled && classRows > 0 {
		t.checkMarkers(rows)
	}
	return nil
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
			if e.Kind.Aggregated() {
				mk = markerKey(mk[:0], r.User, timeline.MarkerObject(e.Kind, e.Object), e.Actor, e.TS, e.ID)
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
