package timeline

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
)

// MaxWindow bounds Window: the most candidates one ranked read assembles.
const MaxWindow = 2000

// Window returns up to n items of viewer's feed from the top, newest
// first, filtered, aggregated and hydrated exactly as Page does: the
// candidates a ranker orders. Tail is the position to continue after in
// timeline order once those are used up; it is the top when the feed has
// nothing older.
func (r *Reader) Window(ctx context.Context, viewer int64, n int) (items []Item, tail Position, err error) {
	if n <= 0 || n > MaxWindow {
		return nil, Position{}, fmt.Errorf("window %d is outside 1..%d", n, MaxWindow)
	}
	p, err := r.page(ctx, viewer, nil, Position{}, n, false)
	if err != nil {
		return nil, Position{}, err
	}
	return p.Items, p.Next, nil
}

// Candidates is Window for ranking: the same entries, screened the same
// way, with the Class counts and aggregates a ranker needs, but content
// (text, media) only where it decides whether an item shows: objects are
// read for Class aggregates and broadcasts only. A page built from them
// must be hydrated (Hydrate), which also drops an item whose object was
// deleted and whose row the fan-out has not removed yet. rel is the
// viewer's relations when this request has read them already (Head's), so
// the window is screened with the very relations its version hashed and
// the relations version is not read twice; nil reads them.
func (r *Reader) Candidates(ctx context.Context, viewer int64, rel *graph.Relations, n int) (items []Item, tail Position, err error) {
	if n <= 0 || n > MaxWindow {
		return nil, Position{}, fmt.Errorf("window %d is outside 1..%d", n, MaxWindow)
	}
	p, err := r.page(ctx, viewer, rel, Position{}, n, true)
	if err != nil {
		return nil, Position{}, err
	}
	return p.Items, p.Next, nil
}

// Hydrate re-reads entries that a reader returned before (a ranked
// snapshot), in the given order: it applies today's filters (blocks,
// audiences, deletions, ended broadcasts) and hydrates the survivors. A
// Class aggregate stays while any of its markers is still valid, even if a
// newer Class has moved the object's newest row, so a snapshot keeps
// showing the object it listed.
func (r *Reader) Hydrate(ctx context.Context, viewer int64, entries []Entry) ([]Item, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	rel, err := r.relations(ctx, viewer)
	if err != nil {
		return nil, err
	}
	return r.HydrateWith(ctx, viewer, &rel, entries)
}

// HydrateWith is Hydrate with the viewer's relations already read in this
// request (Head's): what the viewer may see is still decided now.
func (r *Reader) HydrateWith(ctx context.Context, viewer int64, rel *graph.Relations, entries []Entry) ([]Item, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	// The markers of all the Class entries in one read.
	var mc markerCache
	var objs []string
	for i := range entries {
		if e := &entries[i]; e.Kind.Aggregated() && classScreen(rel, e) {
			objs = append(objs, MarkerObject(e.Kind, e.Object))
		}
	}
	if err := mc.load(ctx, r.store, viewer, objs); err != nil {
		return nil, err
	}
	cs := make([]candidate, 0, len(entries))
	for _, e := range entries {
		c, keep, err := r.screen(ctx, rel, viewer, e, true, &mc)
		if err != nil {
			return nil, err
		}
		if keep {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return r.hydrate(ctx, rel, viewer, cs, r.cfg.Now().UnixMilli(), nil, false)
}

// ParseKind is the Kind named s (Kind.String's inverse); 0 if unknown.
func ParseKind(s string) Kind {
	for k := KindPost; k <= KindComment; k++ {
		if kindNames[k] == s {
			return k
		}
	}
	return 0
}

// EntryOf is the timeline entry an item was made from.
func EntryOf(it *Item) Entry {
	return Entry{TS: it.TS, ID: it.EventID, Kind: ParseKind(it.Type), Actor: it.Actor, Object: it.Object,
		Owner: it.Owner, Until: it.Until, Audience: it.Audience}
}

// stateOf reads, for light hydration, the objects of the candidates that
// need their state (needsState); the others are left zero (not Exists,
// not Deleted). objs is in the order of ids.
func (r *Reader) stateOf(ctx context.Context, cs []candidate, ids []string) ([]objects.Object, error) {
	objs := make([]objects.Object, len(cs))
	var want []string
	var at []int
	for i := range cs {
		if needsState(&cs[i]) {
			want = append(want, ids[i])
			at = append(at, i)
		}
	}
	if len(want) == 0 {
		return objs, nil
	}
	got, err := r.content.Get(ctx, want)
	if err != nil {
		return nil, err
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("%d objects for %d ids", len(got), len(want))
	}
	for k, i := range at {
		objs[i] = got[k]
	}
	return objs, nil
}

// needsState: whether a candidate may be shown depends on its object's
// state besides deletion (an aggregate on the object's visibility, a
// broadcast on whether it ended).
func needsState(c *candidate) bool {
	return c.e.Kind.Aggregated() || c.e.Kind == KindLive
}
