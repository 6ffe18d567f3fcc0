package cassandrastore

// Timeline reads: pages and the class_markers index. timeline.go holds
// the statements, the writes and the versions, timeline_trim.go the trims.

import (
	"context"
	"math"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// pageRow is Page's scan target.
type pageRow struct {
	ts, actor, owner, until int64
	kind                    int8
	id, obj, aud            []byte
}

// maxPageAlloc caps the entries preallocated for one page.
const maxPageAlloc = 128

// Page returns up to limit entries strictly after position after, newest
// first: one slice query "(ts, id) < (after)" with LIMIT and page size
// limit. The ids, objects and audiences of a page share one allocation.
func (t *TimelineStore) Page(ctx context.Context, ns timeline.NS, user int64, after timeline.Position, limit int) ([]timeline.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	s := t.s
	var q *gocql.Query
	if after.IsTop() {
		q = s.sess.Query(pageTop, user, int8(ns), limit)
	} else {
		q = s.sess.Query(pageAfter, user, int8(ns), after.TS, after.ID, limit)
	}
	iter := q.PageSize(limit).Idempotent(true).IterContext(ctx)
	out := make([]timeline.Entry, 0, min(limit, maxPageAlloc))
	type span struct{ id, obj, aud [2]int32 }
	var spansBuf [32]span
	spans := spansBuf[:0]
	var arenaBuf [1024]byte
	ab := arenaBuf[:0]
	// One scan target and one dest slice for the whole page: Scan's
	// variadic argument would otherwise allocate per row, and the byte
	// buffers are reused by the driver (text into a non-nil *[]byte).
	r := &pageRow{id: make([]byte, 0, 64), obj: make([]byte, 0, 64), aud: make([]byte, 0, 16)}
	dest := [...]any{&r.ts, &r.id, &r.kind, &r.actor, &r.obj, &r.owner, &r.until, &r.aud}
	for len(out) < limit && iter.Scan(dest[:]...) {
		if len(r.id) == 0 {
			continue // a partition with only its static version and no rows
		}
		var sp span
		sp.id[0] = int32(len(ab))
		ab = append(ab, r.id...)
		sp.id[1] = int32(len(ab))
		sp.obj[0] = sp.id[1]
		ab = append(ab, r.obj...)
		sp.obj[1] = int32(len(ab))
		a := schema.InternAudience(r.aud)
		if a == "" && len(r.aud) > 0 {
			sp.aud[0] = int32(len(ab))
			ab = append(ab, r.aud...)
			sp.aud[1] = int32(len(ab))
		}
		spans = append(spans, sp)
		out = append(out, timeline.Entry{TS: r.ts, Kind: timeline.Kind(r.kind), Actor: r.actor,
			Owner: r.owner, Until: r.until, Audience: a})
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("page", err)
	}
	if len(ab) > math.MaxInt32 {
		return nil, wrap("page", errPageTooLarge)
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
// entry (the partition is clustered by actor, then newest first).
func (t *TimelineStore) Markers(ctx context.Context, user int64, object string) ([]timeline.Marker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if object == "" {
		return nil, nil
	}
	iter := t.s.sess.Query(selectMarker, user, object).Idempotent(true).IterContext(ctx)
	var out []timeline.Marker
	m := new(timeline.Marker)
	dest := [...]any{&m.Actor, &m.TS, &m.EventID}
	for iter.Scan(dest[:]...) {
		if n := len(out); n > 0 && out[n-1].Actor == m.Actor {
			continue // an older entry of the same actor
		}
		out = append(out, *m)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("markers", err)
	}
	return out, nil
}

// MarkersOf returns the markers of each object, in order: one query per
// object, run concurrently (as ClassCounts does).
func (t *TimelineStore) MarkersOf(ctx context.Context, user int64, objects []string) ([][]timeline.Marker, error) {
	out := make([][]timeline.Marker, len(objects))
	err := t.s.each(ctx, len(objects), func(i int) error {
		ms, err := t.Markers(ctx, user, objects[i])
		out[i] = ms
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
