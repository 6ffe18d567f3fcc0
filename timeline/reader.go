package timeline

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
)

// Graph is what the reader needs to know of the social graph.
type Graph interface {
	Relations(ctx context.Context, user int64) (graph.Relations, error)
	RelationsVersion(ctx context.Context, user int64) (uint64, error)
	InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error)
	LargeAuthors(ctx context.Context) ([]int64, error)
}

// Content is what the reader needs to hydrate a page.
type Content interface {
	Get(ctx context.Context, ids []string) ([]objects.Object, error)
	// ReactionCounts returns each object's counts per kind (a page's
	// class_count, reactions and reaction_count).
	ReactionCounts(ctx context.Context, ids []string) ([]objects.Counts, error)
	// MyReactions returns the viewer's kind on each object ("" none), in
	// one batched read that is cheap where most find nothing.
	MyReactions(ctx context.Context, viewer int64, ids []string) ([]string, error)
}

// ReaderConfig tunes the reader.
type ReaderConfig struct {
	Policy Policy
	// LargeRefresh is how long the list of large authors is cached.
	LargeRefresh time.Duration
	Now          func() time.Time
	// Relations, when set, keeps viewers' relations between reads while
	// their RelationsVersion is unchanged (one point read instead of the
	// relations scans).
	Relations RelationsCache
	// Counts, when set, keeps objects' reaction totals for Candidates
	// (the ranking window), each for CountsMaxAge after it was read.
	Counts CountsCache
	// CountsMaxAge bounds how old a cached count Candidates uses may be
	// (default DefaultCountsMaxAge).
	CountsMaxAge time.Duration
	// Comments, when set, gives every item of a shown page its object's
	// comment count (one batched read per page); nil: counts read 0.
	Comments CommentCounter
}

// CommentCounter reads objects' comment counts, in order, in one call;
// objects.Comments satisfies it.
type CommentCounter interface {
	CommentCounts(ctx context.Context, ids []string) ([]int64, error)
}

// DefaultCountsMaxAge is feedd's --class-count-cache-max-age.
const DefaultCountsMaxAge = 5 * time.Second

// Reader assembles feed pages: the viewer's home timeline merged with the
// outboxes of the large authors the viewer follows, filtered, aggregated
// and hydrated. It is safe for concurrent use.
type Reader struct {
	store   Store
	graph   Graph
	content Content
	cfg     ReaderConfig

	mu        sync.Mutex
	large     []int64
	largeTime time.Time

	cands sync.Pool // *[]candidate, see candidates

	seed maphash.Seed // of Version's fingerprints

	relStats   cacheCounters
	countStats cacheCounters
}

// NewReader wires a reader.
func NewReader(s Store, g Graph, c Content, cfg ReaderConfig) *Reader {
	if cfg.Policy.Cap <= 0 {
		cfg.Policy.Cap = DefaultPolicy.Cap
	}
	if cfg.Policy.MaxAge <= 0 {
		cfg.Policy.MaxAge = DefaultPolicy.MaxAge
	}
	if cfg.LargeRefresh <= 0 {
		cfg.LargeRefresh = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CountsMaxAge <= 0 {
		cfg.CountsMaxAge = DefaultCountsMaxAge
	}
	return &Reader{store: s, graph: g, content: c, cfg: cfg, seed: maphash.MakeSeed()}
}

func (r *Reader) largeAuthors(ctx context.Context) ([]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	if r.large != nil && now.Sub(r.largeTime) < r.cfg.LargeRefresh {
		return r.large, nil
	}
	large, err := r.graph.LargeAuthors(ctx)
	if err != nil {
		return nil, fmt.Errorf("large authors: %w", err)
	}
	if large == nil {
		large = []int64{}
	}
	r.large, r.largeTime = large, now
	return large, nil
}

// source is one timeline being merged, read in chunks.
type source struct {
	ns     NS
	user   int64
	buf    []Entry
	after  Position
	done   bool
	outbox bool
}

func (s *source) fill(ctx context.Context, st Store, chunk int) error {
	if len(s.buf) > 0 || s.done {
		return nil
	}
	page, err := st.Page(ctx, s.ns, s.user, s.after, chunk)
	if err != nil {
		return fmt.Errorf("read timeline %d/%d: %w", s.ns, s.user, err)
	}
	if len(page) < chunk {
		s.done = true
	}
	if len(page) > 0 {
		s.after = page[len(page)-1].Pos()
	}
	s.buf = page
	return nil
}

// candidate is an entry that passed the cheap filters, waiting to be
// hydrated.
type candidate struct {
	e       Entry
	markers []Marker // class aggregates: the valid markers, newest first
	group   string   // group audience to check
}

// Page returns up to limit items of viewer's feed strictly after position
// after, newest first.
func (r *Reader) Page(ctx context.Context, viewer int64, after Position, limit int) (Page, error) {
	if limit <= 0 || limit > MaxPageLimit {
		return Page{}, fmt.Errorf("limit %d is outside 1..%d", limit, MaxPageLimit)
	}
	return r.page(ctx, viewer, nil, after, limit, false)
}

// page is Page without the bound on limit (Window reads more than a
// page). light is hydrate's (Candidates); rel is the viewer's relations if
// the caller has read them in this request, nil to read them here.
func (r *Reader) page(ctx context.Context, viewer int64, rel *graph.Relations, after Position, limit int, light bool) (Page, error) {
	if rel == nil {
		read, err := r.relations(ctx, viewer)
		if err != nil {
			return Page{}, err
		}
		rel = &read
	}
	large, err := r.largeAuthors(ctx)
	if err != nil {
		return Page{}, err
	}
	srcs := []*source{{ns: Home, user: viewer, after: after}}
	for _, l := range large {
		if l != viewer && (rel.IsFriend(l) || rel.Follows(l)) && !rel.IsBlocked(l) {
			srcs = append(srcs, &source{ns: Outbox, user: l, after: after, outbox: true})
		}
	}
	now := r.cfg.Now().UnixMilli()
	minTS := now - r.cfg.Policy.MaxAge.Milliseconds()
	chunk := limit + limit/2 + 8
	items := make([]Item, 0, limit)
	seen := make(map[string]struct{}, limit)
	pbuf := r.candidates()
	defer r.putCandidates(pbuf)
	pending := slices.Grow((*pbuf)[:0], limit)
	scanned, maxScan := 0, r.cfg.Policy.Cap*len(srcs)
	exhausted := false
	// The markers of Class rows are loaded in batches: on a miss, those of
	// the Class rows the sources hold next (as many entries ahead as the
	// page still needs) come along in the same read.
	mc := markerCache{more: func(dst []string) []string {
		ahead := max(limit-len(items)-len(pending), 8)
		for _, s := range srcs {
			for i := range s.buf[:min(ahead, len(s.buf))] {
				if e := &s.buf[i]; e.Kind.Aggregated() && classScreen(rel, e) {
					dst = append(dst, MarkerObject(e.Kind, e.Object))
				}
			}
		}
		return dst
	}}
	for len(items) < limit && !exhausted {
		// Pull candidates until there are enough to fill the page.
		for len(pending) < limit-len(items) {
			e, ok, err := r.next(ctx, srcs, chunk)
			if err != nil {
				return Page{}, err
			}
			if !ok || e.TS < minTS || scanned >= maxScan {
				exhausted = true
				break
			}
			scanned++
			if _, dup := seen[e.ID]; dup {
				continue
			}
			seen[e.ID] = struct{}{}
			c, keep, err := r.screen(ctx, rel, viewer, e, false, &mc)
			if err != nil {
				return Page{}, err
			}
			if keep {
				pending = append(pending, c)
			}
		}
		if len(pending) == 0 {
			break
		}
		items, err = r.hydrate(ctx, rel, viewer, pending, now, items, light)
		if err != nil {
			return Page{}, err
		}
		clear(pending)
		pending = pending[:0]
	}
	*pbuf = pending
	if len(items) > limit {
		items = items[:limit]
	}
	p := Page{Items: items}
	if len(items) == limit && !exhausted && !r.drained(srcs) {
		it := &items[len(items)-1]
		p.Next = Position{TS: it.TS, ID: it.EventID}
	}
	return p, nil
}

// candidates takes a candidate buffer from the pool; putCandidates
// returns it (cleared: it must not pin strings or markers).
func (r *Reader) candidates() *[]candidate {
	if b, ok := r.cands.Get().(*[]candidate); ok {
		return b
	}
	return new([]candidate)
}

func (r *Reader) putCandidates(b *[]candidate) {
	if cap(*b) > MaxWindow {
		return // do not pin a rare huge buffer
	}
	clear((*b)[:cap(*b)])
	*b = (*b)[:0]
	r.cands.Put(b)
}

// drained reports whether every source is read to the end.
func (r *Reader) drained(srcs []*source) bool {
	for _, s := range srcs {
		if len(s.buf) > 0 || !s.done {
			return false
		}
	}
	return true
}

// next pops the newest entry among the sources.
func (r *Reader) next(ctx context.Context, srcs []*source, chunk int) (Entry, bool, error) {
	best := -1
	for i, s := range srcs {
		if err := s.fill(ctx, r.store, chunk); err != nil {
			return Entry{}, false, err
		}
		if len(s.buf) == 0 {
			continue
		}
		if best < 0 || srcs[best].buf[0].Pos().Before(s.buf[0].Pos()) {
			best = i
		}
	}
	if best < 0 {
		return Entry{}, false, nil
	}
	s := srcs[best]
	e := s.buf[0]
	s.buf = s.buf[1:]
	return e, true, nil
}
