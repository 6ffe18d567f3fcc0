package cassandrastore

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/timeline"
)

// TimelineStore implements timeline.Store on timeline_rows and
// class_markers.
type TimelineStore struct{ s *Store }

var _ timeline.Store = (*TimelineStore)(nil)

// Statements. Query strings are constants: the driver prepares each once
// per node and routes it by the token of its bound partition key.
const (
	insertRow = `INSERT INTO timeline_rows (uid, ns, ts, id, kind, actor, object, owner, until, audience)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`
	// insertRowV is insertRow that also sets the partition's version
	// (static: one cell per timeline, no extra partition written).
	insertRowV = `INSERT INTO timeline_rows (uid, ns, ts, id, kind, actor, object, owner, until, audience, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`
	setVersion    = `UPDATE timeline_rows SET version = ? WHERE uid = ? AND ns = ?`
	selectVersion = `SELECT version FROM timeline_rows WHERE uid = ? AND ns = ? LIMIT 1`
	deleteRow     = `DELETE FROM timeline_rows WHERE uid = ? AND ns = ? AND ts = ? AND id = ?`
	selectRowKV   = `SELECT kind, object, actor FROM timeline_rows WHERE uid = ? AND ns = ? AND ts = ? AND id = ?`
	pageTop       = `SELECT ts, id, kind, actor, object, owner, until, audience FROM timeline_rows
WHERE uid = ? AND ns = ? LIMIT ?`
	pageAfter = `SELECT ts, id, kind, actor, object, owner, until, audience FROM timeline_rows
WHERE uid = ? AND ns = ? AND (ts, id) < (?, ?) LIMIT ?`
	trimHead = `SELECT ts, id FROM timeline_rows WHERE uid = ? AND ns = ? LIMIT ?`
	trimTail = `SELECT ts, id, kind, object, actor FROM timeline_rows WHERE uid = ? AND ns = ? AND (ts, id) < (?, ?)`
	trimAny  = `SELECT ts FROM timeline_rows WHERE uid = ? AND ns = ? AND (ts, id) < (?, ?) LIMIT 1`
	trimCut  = `DELETE FROM timeline_rows WHERE uid = ? AND ns = ? AND (ts, id) < (?, ?)`

	insertMarker = `INSERT INTO class_markers (uid, object, actor, ts, id) VALUES (?, ?, ?, ?, ?) USING TTL ?`
	deleteMarker = `DELETE FROM class_markers WHERE uid = ? AND object = ? AND actor = ? AND ts = ? AND id = ?`
	selectMarker = `SELECT actor, ts, id FROM class_markers WHERE uid = ? AND object = ?`
)

// batchRows caps the rows of one single-partition batch (~60 bytes each),
// under Cassandra's 5 KiB batch size warning.
const batchRows = 64

// maxTTL is Cassandra's largest TTL (20 years).
const maxTTL = 20 * 365 * 24 * 3600

// ttl is the TTL in seconds of a row made at ts (unix ms): what is left of
// Policy.MaxAge at now, at least 1s; 0 (no TTL) when MaxAge is off.
func (s *Store) ttl(ts, now int64) int {
	if s.maxAge <= 0 {
		return 0
	}
	left := s.maxAge - (now - ts) // ms; overflow-free for any sane ts
	if left <= 1000 {
		return 1
	}
	secs := (left + 999) / 1000
	return int(min(secs, maxTTL))
}

func isClassRow(r *timeline.Row) bool {
	return r.NS == timeline.Home && r.Entry.Kind.Aggregated()
}

// task is one statement (or one single-partition batch) of a multi-row
// call: rows ord[lo:hi] of one partition, or the class marker of row
// ord[lo].
type task struct {
	lo, hi int32
	marker bool
}

// writeScratch is the reusable planning memory of Write and Delete.
type writeScratch struct {
	ord   []int32 // row indexes, grouped by partition
	tasks []task
}

func (s *Store) getScratch() *writeScratch {
	if w, ok := s.scratch.Get().(*writeScratch); ok {
		return w
	}
	return &writeScratch{}
}

func (s *Store) putScratch(w *writeScratch) {
	if cap(w.ord) > 1<<16 {
		return // do not pin a rare huge plan
	}
	w.ord, w.tasks = w.ord[:0], w.tasks[:0]
	s.scratch.Put(w)
}

// plan groups rows by partition (uid, ns): one task per partition, or per
// batchRows rows of a partition with more; then one task per class marker
// when markers is set. The caller's slice is never reordered.
func (w *writeScratch) plan(rows []timeline.Row, markers bool) {
	w.ord = w.ord[:0]
	for i := range rows {
		w.ord = append(w.ord, int32(i))
	}
	slices.SortFunc(w.ord, func(a, b int32) int {
		ra, rb := &rows[a], &rows[b]
		if c := cmp.Compare(ra.User, rb.User); c != 0 {
			return c
		}
		if c := cmp.Compare(ra.NS, rb.NS); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // keep the caller's order within a partition
	})
	w.tasks = w.tasks[:0]
	for lo := 0; lo < len(w.ord); {
		r := &rows[w.ord[lo]]
		hi := lo + 1
		for hi < len(w.ord) && hi-lo < batchRows {
			q := &rows[w.ord[hi]]
			if q.User != r.User || q.NS != r.NS {
				break
			}
			hi++
		}
		w.tasks = append(w.tasks, task{lo: int32(lo), hi: int32(hi)})
		lo = hi
	}
	if !markers {
		return
	}
	for j, i := range w.ord {
		if isClassRow(&rows[i]) {
			w.tasks = append(w.tasks, task{lo: int32(j), hi: int32(j + 1), marker: true})
		}
	}
}

// Write upserts rows, one statement per row (an unlogged single-partition
// batch when a partition gets several), pipelined with at most MaxInFlight
// in flight. Home class rows also get their class_markers entry. Rows are
// written USING TTL (see Config.Policy).
func (t *TimelineStore) Write(ctx context.Context, rows []timeline.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range rows {
		if rows[i].Entry.ID == "" {
			return wrap("write row", errBadID)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	s := t.s
	now := s.cfg.Now().UnixMilli()
	w := s.getScratch()
	defer s.putScratch(w)
	w.plan(rows, true)
	version := newVersion()
	err := s.each(ctx, len(w.tasks), func(i int) error {
		tk := w.tasks[i]
		if tk.marker {
			r := &rows[w.ord[tk.lo]]
			e := &r.Entry
			return s.exec(ctx, insertMarker, r.User, timeline.MarkerObject(e.Kind, e.Object), e.Actor, e.TS, e.ID, s.ttl(e.TS, now))
		}
		if tk.hi-tk.lo == 1 {
			r := &rows[w.ord[tk.lo]]
			e := &r.Entry
			return s.exec(ctx, insertRowV, r.User, int8(r.NS), e.TS, e.ID, int8(e.Kind), e.Actor,
				e.Object, e.Owner, e.Until, e.Audience, version, s.ttl(e.TS, now))
		}
		b := s.sess.Batch(gocql.UnloggedBatch)
		b.Entries = make([]gocql.BatchEntry, 0, tk.hi-tk.lo)
		for _, j := range w.ord[tk.lo:tk.hi] {
			r := &rows[j]
			e := &r.Entry
			b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: insertRowV, Idempotent: true,
				Args: []any{r.User, int8(r.NS), e.TS, e.ID, int8(e.Kind), e.Actor,
					e.Object, e.Owner, e.Until, e.Audience, version, s.ttl(e.TS, now)}})
		}
		return b.ExecContext(ctx)
	})
	return wrap("write rows", err)
}

// markerRef names one class_markers entry.
type markerRef struct {
	user   int64
	object string
	actor  int64
	ts     int64
	id     string
}

func (s *Store) deleteMarkers(ctx context.Context, refs []markerRef) error {
	return s.each(ctx, len(refs), func(i int) error {
		m := &refs[i]
		return s.exec(ctx, deleteMarker, m.user, m.object, m.actor, m.ts, m.id)
	})
}

// Delete removes rows and the class_markers entries of Home class rows.
// A Home row given without its kind (or a class row without its object)
// is looked up first, so callers may name a row by position only.
func (t *TimelineStore) Delete(ctx context.Context, rows []timeline.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := t.s
	// Rows with an empty id cannot exist; drop them.
	valid := rows
	for i := range rows {
		if rows[i].Entry.ID == "" {
			valid = make([]timeline.Row, 0, len(rows))
			for j := range rows {
				if rows[j].Entry.ID != "" {
					valid = append(valid, rows[j])
				}
			}
			break
		}
	}
	rows = valid
	if len(rows) == 0 {
		return nil
	}
	refs, err := t.classRefs(ctx, rows)
	if err != nil {
		return err
	}
	w := s.getScratch()
	defer s.putScratch(w)
	w.plan(rows, false)
	version := newVersion()
	err = s.each(ctx, len(w.tasks)+len(refs), func(i int) error {
		if i >= len(w.tasks) {
			m := &refs[i-len(w.tasks)]
			return s.exec(ctx, deleteMarker, m.user, m.object, m.actor, m.ts, m.id)
		}
		// One single-partition batch per timeline: the rows' deletes and
		// the new version, applied together.
		tk := w.tasks[i]
		first := &rows[w.ord[tk.lo]]
		b := s.sess.Batch(gocql.UnloggedBatch)
		b.Entries = make([]gocql.BatchEntry, 0, tk.hi-tk.lo+1)
		for _, j := range w.ord[tk.lo:tk.hi] {
			r := &rows[j]
			b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: deleteRow, Idempotent: true,
				Args: []any{r.User, int8(r.NS), r.Entry.TS, r.Entry.ID}})
		}
		b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: setVersion, Idempotent: true,
			Args: []any{version, first.User, int8(first.NS)}})
		return b.ExecContext(ctx)
	})
	return wrap("delete rows", err)
}

// classRefs lists the class_markers entries of the Home class rows among
// rows, reading the stored row where the caller did not say what it is.
func (t *TimelineStore) classRefs(ctx context.Context, rows []timeline.Row) ([]markerRef, error) {
	s := t.s
	var refs []markerRef
	var unknown []int
	for i := range rows {
		r := &rows[i]
		if r.NS != timeline.Home {
			continue
		}
		e := &r.Entry
		switch {
		case e.Kind.Aggregated() && e.Object != "":
			refs = append(refs, markerRef{user: r.User, object: timeline.MarkerObject(e.Kind, e.Object), actor: e.Actor, ts: e.TS, id: e.ID})
		case e.Kind == 0 || e.Kind.Aggregated():
			unknown = append(unknown, i)
		}
	}
	if len(unknown) == 0 {
		return refs, nil
	}
	found := make([]markerRef, len(unknown))
	err := s.each(ctx, len(unknown), func(k int) error {
		r := &rows[unknown[k]]
		var kind int8
		var m markerRef
		err := s.sess.Query(selectRowKV, r.User, int8(r.NS), r.Entry.TS, r.Entry.ID).Idempotent(true).
			ScanContext(ctx, &kind, &m.object, &m.actor)
		if err == gocql.ErrNotFound || (err == nil && !timeline.Kind(kind).Aggregated()) {
			return nil
		}
		if err != nil {
			return err
		}
		m.object = timeline.MarkerObject(timeline.Kind(kind), m.object)
		m.user, m.ts, m.id = r.User, r.Entry.TS, r.Entry.ID
		found[k] = m
		return nil
	})
	if err != nil {
		return nil, wrap("delete rows: read row", err)
	}
	for _, m := range found {
		if m.id != "" {
			refs = append(refs, m)
		}
	}
	return refs, nil
}

// newVersion is a fresh timeline version: random, positive, never 0 (0
// means "never written"). Two writers drawing the same one is a 2^-62
// event, and costs only a stale cached view until the next write.
func newVersion() int64 { return int64(rand.Uint64()>>2) | 1 }

// Version implements timeline.Store: the partition's static version cell
// (null, for a partition never written since schema 7, reads as 0).
func (t *TimelineStore) Version(ctx context.Context, ns timeline.NS, user int64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var v *int64
	err := t.s.sess.Query(selectVersion, user, int8(ns)).Idempotent(true).ScanContext(ctx, &v)
	if errors.Is(err, gocql.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("version", err)
	}
	if v == nil {
		return 0, nil
	}
	return uint64(*v), nil
}
