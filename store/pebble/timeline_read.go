package pebblestore

// Timeline reads: versions, pages and the Class marker index. timeline.go
// holds the writes, timeline_trim.go the trims.

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
