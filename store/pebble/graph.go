package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/invariants"
)

// GraphStore implements graph.Store.
type GraphStore struct{ s *Store }

var _ graph.Store = (*GraphStore)(nil)

// edgeChunk bounds how many edges one locked batch applies, so a bulk load
// never holds most stripes for long.
const edgeChunk = 128

// SetEdges applies each change unless the stored edge has a later or equal
// stamp (an equal stamp is the same event: re-applying it is a no-op).
// Reverse indexes and audience sizes change in the same batch as the edge,
// only when On flips. Changes in one call apply in order.
func (g *GraphStore) SetEdges(ctx context.Context, edges []graph.Edge) error {
	for len(edges) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(edges), edgeChunk)
		if err := g.setChunk(ctx, edges[:n]); err != nil {
			return err
		}
		edges = edges[n:]
	}
	return nil
}

func validRel(r graph.Rel) bool { return r >= graph.Friend && r <= graph.Member }

// audienceOf returns whose audience size an edge counts toward.
func audienceOf(e *graph.Edge) (int64, bool) {
	switch e.Rel {
	case graph.Friend:
		return e.From, true
	case graph.Follow:
		return e.To, true
	}
	return 0, false
}

func (g *GraphStore) setChunk(ctx context.Context, edges []graph.Edge) error {
	s := g.s
	// Build every edge key once, into one arena.
	keys := make([][]byte, len(edges))
	var arena []byte
	offs := make([]int, len(edges)+1)
	for i := range edges {
		e := &edges[i]
		if !validRel(e.Rel) {
			return fmt.Errorf("pebblestore: set edge: unknown rel %d", e.Rel)
		}
		group := ""
		if e.Rel == graph.Member {
			group = e.Group
		}
		arena = edgeKey(arena, uint8(e.Rel), e.From, e.To, group)
		offs[i+1] = len(arena)
	}
	idx := make([]int, 0, 2*len(edges))
	var kb []byte
	for i := range edges {
		keys[i] = arena[offs[i]:offs[i+1]:offs[i+1]]
		idx = append(idx, s.locks.of(keys[i]))
		if u, ok := audienceOf(&edges[i]); ok {
			kb = audienceKey(kb[:0], u)
			idx = append(idx, s.locks.of(kb))
		}
	}
	idx = s.locks.lock(idx)
	defer s.locks.unlock(idx)

	if err := s.write(s.wo, func(b *pebble.Batch) error { return g.fillEdges(b, edges, keys) }); err != nil {
		return err
	}
	if invariants.Enabled {
		g.checkEdges(ctx, edges) // under the stripes still
	}
	return nil
}

// fillEdges adds the changes to b; the caller holds the stripes.
func (g *GraphStore) fillEdges(b *pebble.Batch, edges []graph.Edge, keys [][]byte) error {
	s := g.s
	var kb []byte
	var overlay map[string]edgeVal // edges changed earlier in this chunk
	if len(edges) > 1 {
		overlay = make(map[string]edgeVal, len(edges))
	}
	var deltas map[int64]int64
	var val []byte
	// One version for every relations list this chunk changes: drawn once
	// (the counter is shared with timeline versions: unique per process
	// run, seeded from the clock).
	version := s.tlVersion.Add(1)
	var vval [8]byte
	binary.BigEndian.PutUint64(vval[:], version)
	bump := func(user int64) error {
		kb = relVersionKey(kb[:0], user)
		if err := b.Set(kb, vval[:], nil); err != nil {
			return fmt.Errorf("pebblestore: relations version: %w", err)
		}
		return nil
	}
	for i := range edges {
		e := &edges[i]
		k := keys[i]
		cur, exists, err := g.current(k, overlay)
		if err != nil {
			return err
		}
		if exists && !e.Stamp.After(cur.stamp) {
			continue // the stored edge is as new or newer
		}
		val = appendEdgeVal(val[:0], e.On, e.Stamp)
		if err := b.Set(k, val, nil); err != nil {
			return fmt.Errorf("pebblestore: set edge: %w", err)
		}
		if overlay != nil {
			overlay[string(k)] = edgeVal{on: e.On, stamp: e.Stamp}
		}
		if cur.on == e.On {
			continue
		}
		if e.Rel != graph.Member {
			if err := bump(e.From); err != nil {
				return err
			}
		}
		if e.Rel == graph.Block {
			if err := bump(e.To); err != nil {
				return err
			}
		}
		if e.Rel == graph.Follow || e.Rel == graph.Block {
			kb = edgeRevKey(kb[:0], uint8(e.Rel), e.To, e.From)
			if e.On {
				err = b.Set(kb, nil, nil)
			} else {
				err = b.Delete(kb, nil)
			}
			if err != nil {
				return fmt.Errorf("pebblestore: set edge index: %w", err)
			}
		}
		if u, ok := audienceOf(e); ok {
			if deltas == nil {
				deltas = make(map[int64]int64)
			}
			if e.On {
				deltas[u]++
			} else {
				deltas[u]--
			}
		}
	}
	for u, d := range deltas {
		if d == 0 {
			continue
		}
		kb = audienceKey(kb[:0], u)
		n, err := s.getCounter(kb)
		if err != nil {
			return err
		}
		// n+d < 0 would mean the invariant was already broken; never store
		// a negative size.
		if err := b.Set(kb, appendCounter(val[:0], max(n+d, 0)), nil); err != nil {
			return fmt.Errorf("pebblestore: set audience: %w", err)
		}
	}
	return nil
}

// current returns the state of an edge: from the overlay if this chunk
// already changed it, else from the DB.
func (g *GraphStore) current(k []byte, overlay map[string]edgeVal) (edgeVal, bool, error) {
	if ev, ok := overlay[string(k)]; ok {
		return ev, true, nil
	}
	buf := g.s.getBuf()
	defer g.s.putBuf(buf)
	v, found, err := g.s.getCopy(k, *buf)
	*buf = v
	if err != nil || !found {
		return edgeVal{}, false, err
	}
	ev, err := decodeEdgeVal(v)
	return ev, err == nil, err
}

// Edge returns the stored state of one edge; a never-set edge comes back
// with its identity, a zero Stamp and On false.
func (g *GraphStore) Edge(ctx context.Context, rel graph.Rel, from, to int64, group string) (graph.Edge, error) {
	e := graph.Edge{Rel: rel, From: from, To: to, Group: group}
	if err := ctx.Err(); err != nil {
		return e, err
	}
	if rel != graph.Member {
		group = ""
	}
	buf := g.s.getBuf()
	defer g.s.putBuf(buf)
	*buf = edgeKey((*buf)[:0], uint8(rel), from, to, group)
	v, found, err := g.s.getCopy(*buf, nil)
	if err != nil || !found {
		return e, err
	}
	ev, err := decodeEdgeVal(v)
	if err != nil {
		return e, fmt.Errorf("pebblestore: edge: %w", err)
	}
	e.On, e.Stamp = ev.on, ev.stamp
	return e, nil
}

// scanner lists the trailing ids of keys under a prefix with one reused
// iterator (one consistent view for a whole call).
type scanner struct {
	it    *pebble.Iterator
	upper []byte
}

func (g *GraphStore) newScanner(ctx context.Context) (*scanner, error) {
	it, err := g.s.db.NewIterWithContext(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: iterator: %w", err)
	}
	return &scanner{it: it}, nil
}

func (sc *scanner) close() error {
	if err := sc.it.Close(); err != nil {
		return fmt.Errorf("pebblestore: iterator: %w", err)
	}
	return nil
}

// ids appends the last i64 of every key under prefix; with onOnly, only
// those whose edge value is On. Keys are in ascending id order.
func (sc *scanner) ids(dst []int64, prefix []byte, onOnly bool) ([]int64, error) {
	sc.upper = prefixEnd(sc.upper[:0], prefix)
	sc.it.SetBounds(prefix, sc.upper)
	for ok := sc.it.First(); ok; ok = sc.it.Next() {
		if onOnly {
			v, err := sc.it.ValueAndErr()
			if err != nil {
				return dst, fmt.Errorf("pebblestore: scan: %w", err)
			}
			if !edgeOn(v) {
				continue
			}
		}
		dst = append(dst, lastI64(sc.it.Key()))
	}
	if err := sc.it.Error(); err != nil {
		return dst, fmt.Errorf("pebblestore: scan: %w", err)
	}
	return dst, nil
}

// list runs one prefix scan.
func (g *GraphStore) list(ctx context.Context, prefix []byte, onOnly bool) (out []int64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := g.newScanner(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := sc.close(); err == nil {
			err = cerr
		}
	}()
	return sc.ids(nil, prefix, onOnly)
}

// Friends lists the user's friends, ascending.
func (g *GraphStore) Friends(ctx context.Context, user int64) ([]int64, error) {
	return g.list(ctx, edgePrefix(nil, uint8(graph.Friend), user, ""), true)
}

// Followers lists who follows the user, ascending.
func (g *GraphStore) Followers(ctx context.Context, user int64) ([]int64, error) {
	return g.list(ctx, edgeRevPrefix(nil, uint8(graph.Follow), user), false)
}

// GroupMembers lists the members of owner's friend group, ascending.
func (g *GraphStore) GroupMembers(ctx context.Context, owner int64, group string) ([]int64, error) {
	return g.list(ctx, edgePrefix(nil, uint8(graph.Member), owner, group), true)
}

// InGroup reports whether member is in owner's friend group.
func (g *GraphStore) InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error) {
	e, err := g.Edge(ctx, graph.Member, owner, member, group)
	return e.On, err
}

// Relations gathers one viewer's friends, follows and blocks from one
// consistent view of the DB.
func (g *GraphStore) Relations(ctx context.Context, user int64) (r graph.Relations, err error) {
	r.User = user
	if err := ctx.Err(); err != nil {
		return r, err
	}
	sc, err := g.newScanner(ctx)
	if err != nil {
		return r, err
	}
	defer func() {
		if cerr := sc.close(); err == nil {
			err = cerr
		}
	}()
	var p []byte
	if r.Friends, err = sc.ids(nil, edgePrefix(p[:0], uint8(graph.Friend), user, ""), true); err != nil {
		return r, err
	}
	p = edgePrefix(p[:0], uint8(graph.Follow), user, "")
	if r.Following, err = sc.ids(nil, p, true); err != nil {
		return r, err
	}
	p = edgePrefix(p[:0], uint8(graph.Block), user, "")
	blocks, err := sc.ids(nil, p, true)
	if err != nil {
		return r, err
	}
	p = edgeRevPrefix(p[:0], uint8(graph.Block), user)
	blockers, err := sc.ids(nil, p, false)
	if err != nil {
		return r, err
	}
	r.Blocked = graph.Union(blocks, blockers)
	return r, nil
}

// RelationsVersion implements graph.Store: one point read.
func (g *GraphStore) RelationsVersion(ctx context.Context, user int64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var kb [1 + 8]byte
	v, closer, err := g.s.db.Get(relVersionKey(kb[:0], user))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pebblestore: relations version: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("pebblestore: relations version: %w", corrupt("version value"))
	}
	return binary.BigEndian.Uint64(v), nil
}

// AudienceSize is the number of friends plus followers of the user.
func (g *GraphStore) AudienceSize(ctx context.Context, user int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var kb [16]byte
	return g.s.getCounter(audienceKey(kb[:0], user))
}

// MarkLarge records that the user is merged at read time. Idempotent.
func (g *GraphStore) MarkLarge(ctx context.Context, user int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := g.s.db.Set(largeKey(nil, user), nil, g.s.wo); err != nil {
		return fmt.Errorf("pebblestore: mark large: %w", err)
	}
	return nil
}

// LargeAuthors lists every user marked large, ascending.
func (g *GraphStore) LargeAuthors(ctx context.Context) ([]int64, error) {
	return g.list(ctx, []byte{tLarge}, false)
}
