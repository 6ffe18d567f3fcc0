package ranking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/timeline"
)

// ErrExpired is returned for a ranked cursor whose snapshot is gone (older
// than Config.SnapshotTTL): the client reloads the feed from the top.
var ErrExpired = errors.New("ranked cursor expired: reload the feed from the top")

// Timeline is what the ranked reader needs of timeline.Reader.
type Timeline interface {
	// Candidates is the window a ranker orders (timeline.Reader.Candidates:
	// screened, counted, content only where it decides what shows).
	Candidates(ctx context.Context, viewer int64, rel *graph.Relations, n int) ([]timeline.Item, timeline.Position, error)
	Hydrate(ctx context.Context, viewer int64, entries []timeline.Entry) ([]timeline.Item, error)
	Page(ctx context.Context, viewer int64, after timeline.Position, limit int) (timeline.Page, error)
	// Head reads the viewer's relations and a version that changes
	// whenever Window's entries may have (see timeline.Head).
	Head(ctx context.Context, viewer int64) (timeline.Head, error)
	// HydrateWith is Hydrate with relations Head read in this request.
	HydrateWith(ctx context.Context, viewer int64, rel *graph.Relations, entries []timeline.Entry) ([]timeline.Item, error)
}

// Page is one ranked page; Next is the cursor of the next one ("" at the
// end).
type Page struct {
	Items []timeline.Item
	Next  string
}

// Feed serves ranked pages. Reader implements it.
type Feed interface {
	Ranked(ctx context.Context, viewer int64, cursor string, limit int, explain bool) (Page, error)
}

// Reader serves the ranked feed: the first page ranks the candidate window
// and stores the rest of the order as a snapshot; cursors walk the
// snapshot, then the timeline past the window in timeline order. It is
// safe for concurrent use.
type Reader struct {
	tl      Timeline
	aff     AffinityStore
	snaps   SnapshotStore
	cursors *Cursors
	rk      *Ranker
	now     func() time.Time
	pool    sync.Pool // *readScratch

	cache       OrderCache // nil: every first page ranks
	cacheMaxAge int64      // ms
	counters    cacheCounters
}

// readScratch is one read's reusable memory.
type readScratch struct {
	table affinityTable
	sums  []float64
	rank  rankScratch
	buf   []byte
	ents  []timeline.Entry
	xs    []timeline.Explain
}

// NewReader wires a ranked reader; now may be nil (time.Now).
func NewReader(tl Timeline, aff AffinityStore, snaps SnapshotStore, cursors *Cursors, rk *Ranker, now func() time.Time, opts ...ReaderOption) *Reader {
	if now == nil {
		now = time.Now
	}
	r := &Reader{tl: tl, aff: aff, snaps: snaps, cursors: cursors, rk: rk, now: now}
	r.pool.New = func() any { return &readScratch{} }
	for _, o := range opts {
		o(r)
	}
	return r
}

var _ Feed = (*Reader)(nil)

// Ranked returns up to limit items of viewer's ranked feed, from the top
// (cursor "") or from a cursor a previous page returned. With explain each
// ranked item carries its score and factors.
func (r *Reader) Ranked(ctx context.Context, viewer int64, cursor string, limit int, explain bool) (Page, error) {
	if limit <= 0 || limit > timeline.MaxPageLimit {
		return Page{}, fmt.Errorf("limit %d is outside 1..%d", limit, timeline.MaxPageLimit)
	}
	if cursor == "" {
		return r.first(ctx, viewer, limit, explain)
	}
	c, err := r.cursors.Decode(viewer, cursor)
	if err != nil {
		return Page{}, err
	}
	if c.Snapshot == 0 {
		return r.tail(ctx, viewer, c.Tail, limit)
	}
	return r.fromSnapshot(ctx, viewer, c, limit, explain)
}

// first serves a first page: from the viewer's cached order when the
// viewer's version is the one it was built from (and it is not too old),
// else by ranking the candidate window.
func (r *Reader) first(ctx context.Context, viewer int64, limit int, explain bool) (Page, error) {
	now := r.now().UnixMilli()
	var (
		version uint64
		rel     *graph.Relations
	)
	if r.cache != nil {
		// Read before the window: a write landing in between makes the
		// order look older than it is (a needless miss next time), never
		// newer.
		h, err := r.tl.Head(ctx, viewer)
		if err != nil {
			return Page{}, fmt.Errorf("ranked feed version: %w", err)
		}
		version, rel = h.Version, &h.Relations
		if o, ok := r.cache.Get(viewer); ok && o.Version == h.Version && now >= o.Built && now-o.Built < r.cacheMaxAge {
			r.counters.firstHits.Add(1)
			return r.serve(ctx, viewer, rel, o, 0, limit, explain)
		}
		r.counters.firstMisses.Add(1)
	}
	items, tail, err := r.tl.Candidates(ctx, viewer, rel, r.rk.cfg.Window)
	if err != nil {
		return Page{}, fmt.Errorf("ranked candidates: %w", err)
	}
	sc := r.pool.Get().(*readScratch)
	defer r.pool.Put(sc)

	// Affinities: one batched read for every user the candidates name.
	t := &sc.table
	t.reset()
	for i := range items {
		relatedUsers(&items[i], func(u int64) {
			if u != viewer {
				t.users = append(t.users, u)
			}
		})
	}
	slices.Sort(t.users)
	t.users = slices.Compact(t.users)
	if err := t.load(ctx, r.aff, r.rk, viewer, now); err != nil {
		return Page{}, err
	}
	sc.sums = slices.Grow(sc.sums[:0], len(items))[:len(items)]
	for i := range items {
		best := 0.0
		relatedUsers(&items[i], func(u int64) { best = max(best, t.of(u)) })
		sc.sums[i] = best
	}
	ranked := r.rk.rank(now, items, sc.sums, &sc.rank)

	// The whole order is the snapshot: a cursor's offset counts from its
	// top, so the cached order serves first pages as well as next ones.
	sc.buf = appendSnapshot(sc.buf[:0], now, tail, items, ranked)
	if len(sc.buf) > MaxSnapshotBytes {
		return Page{}, fmt.Errorf("ranked snapshot of %d bytes is over %d", len(sc.buf), MaxSnapshotBytes)
	}
	o := &Order{Version: version, Built: now, Data: bytes.Clone(sc.buf)}
	if cap(sc.buf) > 256<<10 {
		sc.buf = nil // do not pin a rare huge buffer in the pool
	}
	if r.cache != nil {
		r.cache.Set(viewer, o)
	}
	// The candidates carry no content: the page shown is hydrated from the
	// order like any other (which also stores the order once a cursor
	// names it).
	return r.serve(ctx, viewer, rel, o, 0, limit, explain)
}

// store writes o to the snapshot store under a new id, which it sets.
// Only an order that a cursor will name is stored.
func (r *Reader) store(ctx context.Context, viewer int64, o *Order) error {
	id := rand.Uint64() | 1 // never 0: 0 means "the tail"
	expires := r.now().UnixMilli() + timeDur(r.rk.cfg.SnapshotTTL).Milliseconds()
	if err := r.snaps.PutSnapshot(ctx, viewer, id, o.Data, expires); err != nil {
		return fmt.Errorf("store ranked snapshot: %w", err)
	}
	o.Snapshot, o.Expires = id, expires
	r.counters.stored.Add(1)
	return nil
}

// fromSnapshot continues a ranked walk at a cursor: the order comes from
// the cache when it holds this snapshot, else from the store.
func (r *Reader) fromSnapshot(ctx context.Context, viewer int64, c Cursor, limit int, explain bool) (Page, error) {
	now := r.now().UnixMilli()
	if r.cache != nil {
		if o, ok := r.cache.Get(viewer); ok && o.Snapshot == c.Snapshot {
			if now >= o.Expires {
				return Page{}, ErrExpired // as the store would say
			}
			r.counters.nextHits.Add(1)
			return r.serve(ctx, viewer, nil, o, c.Offset, limit, explain)
		}
		r.counters.nextMisses.Add(1)
	}
	sc := r.pool.Get().(*readScratch)
	defer r.pool.Put(sc)
	data, found, err := r.snaps.Snapshot(ctx, viewer, c.Snapshot, now, sc.buf[:0])
	if err != nil {
		return Page{}, fmt.Errorf("read ranked snapshot: %w", err)
	}
	defer func() {
		sc.buf = data[:0]
		if cap(sc.buf) > 256<<10 {
			sc.buf = nil // do not pin a rare huge buffer in the pool
		}
	}()
	if !found {
		return Page{}, ErrExpired
	}
	return r.serve(ctx, viewer, nil, &Order{Snapshot: c.Snapshot, Data: data}, c.Offset, limit, explain)
}

// serve is a page of an order from offset: its entries re-checked and
// re-hydrated (an item deleted or ended since is left out; nothing is
// repeated or skipped), in order. An order not stored yet (a cached first
// page's) is stored when the page hands out a cursor into it. rel, when
// not nil, are the viewer's relations read earlier in this request.
func (r *Reader) serve(ctx context.Context, viewer int64, rel *graph.Relations, o *Order, offset, limit int, explain bool) (Page, error) {
	var sr snapReader
	if err := sr.init(o.Data, r.rk); err != nil {
		return Page{}, err
	}
	if offset > sr.count {
		return Page{}, fmt.Errorf("%w: offset past the snapshot", timeline.ErrBadCursor)
	}
	for range offset {
		if err := sr.next(false, nil, nil); err != nil {
			return Page{}, err
		}
	}
	sc := r.pool.Get().(*readScratch)
	defer r.pool.Put(sc)
	out := Page{Items: make([]timeline.Item, 0, limit)}
	for len(out.Items) < limit && sr.read < sr.count {
		need := min(limit-len(out.Items), sr.count-sr.read)
		sc.ents = slices.Grow(sc.ents[:0], need)[:need]
		sc.xs = slices.Grow(sc.xs[:0], need)[:need]
		for i := range need {
			if err := sr.next(true, &sc.ents[i], &sc.xs[i]); err != nil {
				return Page{}, err
			}
		}
		var got []timeline.Item
		var err error
		if rel != nil {
			got, err = r.tl.HydrateWith(ctx, viewer, rel, sc.ents)
		} else {
			got, err = r.tl.Hydrate(ctx, viewer, sc.ents)
		}
		if err != nil {
			return Page{}, fmt.Errorf("ranked page: %w", err)
		}
		// Hydrate keeps order and only drops: pair the survivors with
		// their explain factors by event id.
		j := 0
		for _, it := range got {
			for j < need && sc.ents[j].ID != it.EventID {
				j++
			}
			if explain && j < need {
				x := sc.xs[j]
				it.Explain = &x
			}
			out.Items = append(out.Items, it)
		}
	}
	clear(sc.ents) // drop string references before pooling
	switch {
	case sr.read < sr.count:
		if o.Snapshot == 0 {
			// A cached order reused by a first page: store it now that a
			// cursor will name it, and let the cache hold the stored one.
			stored := *o
			if err := r.store(ctx, viewer, &stored); err != nil {
				return Page{}, err
			}
			if r.cache != nil {
				r.cache.Set(viewer, &stored)
			}
			o = &stored
		}
		out.Next = r.cursors.Encode(viewer, Cursor{Snapshot: o.Snapshot, Offset: sr.read})
	case !sr.tail.IsTop():
		out.Next = r.cursors.Encode(viewer, Cursor{Tail: sr.tail})
	}
	return out, nil
}

// tail serves the feed past the ranked window, in timeline order.
func (r *Reader) tail(ctx context.Context, viewer int64, after timeline.Position, limit int) (Page, error) {
	p, err := r.tl.Page(ctx, viewer, after, limit)
	if err != nil {
		return Page{}, err
	}
	out := Page{Items: p.Items}
	if !p.Next.IsTop() {
		out.Next = r.cursors.Encode(viewer, Cursor{Tail: p.Next})
	}
	return out, nil
}
