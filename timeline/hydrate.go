package timeline

// Hydration: the content, counts and object-state checks of a page's
// candidates.

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/visibility"
)

// hydrate loads the content and counts of the candidates and drops those
// whose object is gone, whose broadcast ended, or whose group audience no
// longer includes the viewer.
//
// light (Candidates) reads objects only for the candidates whose showing
// depends on object state besides deletion (Class aggregates, broadcasts,
// group audiences): the items of a post, photo or gift keep no text or
// media and are not checked for deletion (a delete removes their rows at
// fan-out; the page that shows them hydrates them fully).
func (r *Reader) hydrate(ctx context.Context, rel *graph.Relations, viewer int64, cs []candidate, now int64, out []Item, light bool) ([]Item, error) {
	ids := make([]string, len(cs))
	for i := range cs {
		ids[i] = cs[i].e.Object
	}
	var objs []objects.Object
	var err error
	if light {
		objs, err = r.stateOf(ctx, cs, ids)
	} else {
		objs, err = r.content.Get(ctx, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("hydrate objects: %w", err)
	}
	// light: the totals ranking needs; else every kind, the viewer's own
	// reactions and the comment counts, each in one batched read for the
	// whole page.
	var class, totals, comments []int64
	var counts []objects.Counts
	var mine []string
	if light {
		class, totals, err = r.candidateCounts(ctx, ids, now)
	} else {
		counts, mine, err = r.reactions(ctx, viewer, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("reaction counts: %w", err)
	}
	if !light && r.cfg.Comments != nil {
		if comments, err = r.cfg.Comments.CommentCounts(ctx, ids); err != nil {
			return nil, fmt.Errorf("comment counts: %w", err)
		}
		if len(comments) != len(ids) {
			return nil, fmt.Errorf("comment counts: %d counts for %d objects", len(comments), len(ids))
		}
	}
	var rbuf ReactionCounts // the items' reaction lists share one backing array
	out = slices.Grow(out, len(cs))
	var actors []int64 // the aggregates' actor lists share one backing array
	for i := range cs {
		c, o := &cs[i], &objs[i]
		if o.Deleted {
			continue
		}
		if c.e.Kind.Aggregated() && o.Exists() {
			// An aggregate is a view of its object: shown only to a viewer
			// who may see the object itself, by the same rule.
			ok, err := r.visible(ctx, rel, viewer, o, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		if c.e.Kind == KindLive && !(o.Exists() && o.LiveAt(now) || !o.Exists() && !o.Ended && now < c.e.Until) {
			continue
		}
		if c.group != "" {
			in, err := r.graph.InGroup(ctx, c.e.Actor, c.group, viewer)
			if err != nil {
				return nil, fmt.Errorf("group membership: %w", err)
			}
			if !in {
				continue
			}
		}
		it := Item{EventID: c.e.ID, Type: c.e.Kind.String(), Actor: c.e.Actor, Object: c.e.Object,
			TS: c.e.TS, Owner: c.e.Owner}
		if light {
			it.ClassCount, it.ReactionCount = class[i], totals[i]
		} else {
			rbuf = it.setReactions(&counts[i], mine[i], rbuf, len(cs))
		}
		if comments != nil {
			it.CommentCount = comments[i]
		}
		if c.e.Kind.Aggregated() {
			it.ActorCount = len(c.markers)
			n := min(len(c.markers), MaxAggActors)
			if actors == nil {
				actors = make([]int64, 0, MaxAggActors*min(len(cs), 64))
			}
			start := len(actors)
			for j := 0; j < n; j++ {
				actors = append(actors, c.markers[j].Actor)
			}
			it.Actors = actors[start:len(actors):len(actors)]
			if o.Exists() {
				it.ObjectType = string(o.Type)
				it.Text, it.Media = o.Text, o.Media
			}
		} else {
			it.Audience = c.e.Audience
			it.Until = c.e.Until
			it.Live = c.e.Kind == KindLive
			if o.Exists() {
				it.Text, it.Media = o.Text, o.Media
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// visible applies visibility.Check to an object a derived entry shows,
// with the one group lookup a group audience needs.
func (r *Reader) visible(ctx context.Context, rel *graph.Relations, viewer int64, o *objects.Object, now int64) (bool, error) {
	v := visibility.Check(viewer, rel, o, now)
	if !v.OK {
		return false, nil
	}
	if v.Group == "" {
		return true, nil
	}
	in, err := r.graph.InGroup(ctx, o.Author, v.Group, viewer)
	if err != nil {
		return false, fmt.Errorf("group membership: %w", err)
	}
	return in, nil
}
