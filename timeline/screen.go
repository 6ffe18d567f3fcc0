package timeline

// Screening: the filters a timeline entry passes before hydration (blocks,
// audiences, the Class aggregation rule).

import (
	"cmp"
	"context"
	"slices"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// classScreen is the part of screen's Class rule that needs no markers.
func classScreen(rel *graph.Relations, e *Entry) bool {
	return !rel.IsBlocked(e.Actor) && !(e.Owner != 0 && rel.IsBlocked(e.Owner)) && rel.IsFriend(e.Actor)
}

// screen applies the filters that need no content: blocks, audiences and
// the Class aggregation rule (a class row shows only if it is the newest
// valid marker of its object; pinned, as when re-reading a ranked snapshot,
// it shows while any valid marker is left). Markers come through mc.
func (r *Reader) screen(ctx context.Context, rel *graph.Relations, viewer int64, e Entry, pinned bool, mc *markerCache) (candidate, bool, error) {
	c := candidate{e: e}
	if rel.IsBlocked(e.Actor) || (e.Owner != 0 && rel.IsBlocked(e.Owner)) {
		return c, false, nil
	}
	if e.Kind.Aggregated() {
		if !rel.IsFriend(e.Actor) {
			return c, false, nil
		}
		i, err := mc.get(ctx, r.store, viewer, MarkerObject(e.Kind, e.Object))
		if err != nil {
			return c, false, err
		}
		// Filtered and sorted in place, once per object: the cache then
		// holds the valid markers, which filtering again keeps as they are.
		ms := mc.ms[i]
		valid := ms[:0]
		for _, m := range ms {
			if rel.IsFriend(m.Actor) && !rel.IsBlocked(m.Actor) {
				valid = append(valid, m)
			}
		}
		slices.SortFunc(valid, func(a, b Marker) int {
			if c := cmp.Compare(b.TS, a.TS); c != 0 {
				return c
			}
			return cmp.Compare(b.EventID, a.EventID)
		})
		mc.ms[i] = valid
		if len(valid) == 0 || (!pinned && valid[0].EventID != e.ID) {
			return c, false, nil
		}
		c.markers = valid
		return c, true, nil
	}
	if e.Actor == viewer || (e.Kind == KindGift && e.Owner == viewer) {
		return c, true, nil
	}
	kind, group, ok := schema.ParseAudience(e.Audience)
	if !ok {
		return c, false, nil
	}
	friend := rel.IsFriend(e.Actor)
	switch kind {
	case schema.ToPublic:
		return c, friend || (e.Kind != KindGift && rel.Follows(e.Actor)), nil
	case schema.ToFriends:
		return c, friend, nil
	case schema.ToGroup:
		c.group = group
		return c, friend, nil
	}
	return c, false, nil
}
