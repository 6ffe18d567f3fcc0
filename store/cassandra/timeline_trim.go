package cassandrastore

// Timeline trims: the count and age bounds of one timeline, as one range
// delete, with the class_markers entries of the rows they remove.

import (
	"context"
	"math"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/timeline"
)

// Trim keeps the newest keep entries of one timeline (keep <= 0: no count
// bound) and removes every entry older than minTS (math.MinInt64: no age
// bound). It reads the clustering keys of the newest keep+1 rows to find
// the count cut, takes the later of that and the age cut, and removes
// everything below it with ONE range delete "(ts, id) < cut" (one range
// tombstone). Nothing is written when nothing is below the cut. For a Home
// timeline the rows below the cut are read first so that the class_markers
// entries of class rows go too (rows past their TTL are already gone, and
// so are their markers, which share the TTL).
func (t *TimelineStore) Trim(ctx context.Context, ns timeline.NS, user int64, keep int, minTS int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := t.s
	var cut timeline.Position // everything strictly below goes
	haveCut := false
	if minTS > math.MinInt64 {
		cut, haveCut = timeline.Position{TS: minTS}, true // (ts, id) < (minTS, "")  <=>  ts < minTS
	}
	if keep > 0 {
		iter := s.sess.Query(trimHead, user, int8(ns), keep+1).PageSize(keep + 1).Idempotent(true).IterContext(ctx)
		var p, last timeline.Position
		n := 0
		for iter.Scan(&p.TS, &p.ID) {
			if p.ID == "" {
				continue // a partition with only its static version and no rows
			}
			n++
			if n == keep {
				last = p
			}
		}
		if err := iter.Close(); err != nil {
			return wrap("trim: read head", err)
		}
		if n > keep && (!haveCut || cut.Before(last)) {
			cut, haveCut = last, true
		}
	}
	if !haveCut {
		return nil
	}
	var refs []markerRef
	if ns == timeline.Home {
		iter := s.sess.Query(trimTail, user, int8(ns), cut.TS, cut.ID).Idempotent(true).IterContext(ctx)
		var (
			m    markerRef
			kind int8
			rows int
		)
		for iter.Scan(&m.ts, &m.id, &kind, &m.object, &m.actor) {
			rows++
			if timeline.Kind(kind).Aggregated() {
				m.user = user
				m.object = timeline.MarkerObject(timeline.Kind(kind), m.object)
				refs = append(refs, m)
			}
		}
		if err := iter.Close(); err != nil {
			return wrap("trim: read tail", err)
		}
		if rows == 0 {
			return nil
		}
	} else {
		var ts int64
		err := s.sess.Query(trimAny, user, int8(ns), cut.TS, cut.ID).Idempotent(true).ScanContext(ctx, &ts)
		if err == gocql.ErrNotFound {
			return nil
		}
		if err != nil {
			return wrap("trim: read tail", err)
		}
	}
	if err := s.exec(ctx, trimCut, user, int8(ns), cut.TS, cut.ID); err != nil {
		return wrap("trim", err)
	}
	return wrap("trim: delete markers", s.deleteMarkers(ctx, refs))
}
