package cassandrastore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// GraphStore implements graph.Store on edges and large_authors.
type GraphStore struct{ s *Store }

var _ graph.Store = (*GraphStore)(nil)

// Reverse relation codes of the edges table (forward codes are graph.Rel).
const (
	relFollowedBy int8 = 12 // (to, 12, "", from) is On while from follows to
	relBlockedBy  int8 = 13 // (to, 13, "", from) is On while from blocks to
)

const (
	selectEdgeRows = `SELECT n, grp, other, is_on, stamp_ts, stamp_id FROM edges
WHERE uid = ? AND rel = ? AND grp = ? AND other IN ?`
	selectEdgeCount = `SELECT n FROM edges WHERE uid = ? AND rel = ? LIMIT 1`
	setEdgeCount    = `UPDATE edges SET n = ? WHERE uid = ? AND rel = ? IF n = ?`
	insertEdge      = `INSERT INTO edges (uid, rel, grp, other, is_on, stamp_ts, stamp_id) VALUES (?, ?, ?, ?, ?, ?, ?)
IF NOT EXISTS`
	updateEdge = `UPDATE edges SET is_on = ?, stamp_ts = ?, stamp_id = ?
WHERE uid = ? AND rel = ? AND grp = ? AND other = ? IF stamp_ts = ? AND stamp_id = ?`
	selectEdge = `SELECT is_on, stamp_ts, stamp_id FROM edges WHERE uid = ? AND rel = ? AND grp = ? AND other = ?`
	listEdges  = `SELECT other, is_on FROM edges WHERE uid = ? AND rel = ? AND grp = ?`
	// setRelVersion goes into the conditional batch of a chunk that flips
	// an edge of a partition Relations reads (see relationsRels).
	setRelVersion     = `UPDATE edges SET version = ? WHERE uid = ? AND rel = ?`
	selectRelVersions = `SELECT rel, version FROM edges WHERE uid = ? AND rel IN (?, ?, ?, ?) PER PARTITION LIMIT 1`
	insertLarge       = `INSERT INTO large_authors (bucket, uid) VALUES (0, ?)`
	selectLarge       = `SELECT uid FROM large_authors WHERE bucket = 0`
)

// edgeOp is a change to one row of edges: a forward edge or its reverse.
type edgeOp struct {
	uid   int64
	rel   int8
	grp   string
	other int64
	on    bool
	st    schema.Stamp
}

func (a *edgeOp) sameRow(b *edgeOp) bool { return a.grp == b.grp && a.other == b.other }

// chunkRows caps the rows of one conditional batch.
const chunkRows = 32

// SetEdges applies each change unless the stored edge has a later or equal
// stamp. A Follow or Block change also changes its reverse row (followed-by,
// blocked-by) under the same stamp guard, so a retry after a crash between
// the two completes the reverse row even though the forward one is already
// applied. Rows are grouped by partition; partitions are updated
// concurrently (at most MaxInFlight), and the changes of one partition in
// order, as conditional single-partition batches that also move the
// partition's static On count. Changes to the same edge within one call
// apply in order.
func (g *GraphStore) SetEdges(ctx context.Context, edges []graph.Edge) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ops := make([]edgeOp, 0, 2*len(edges))
	for i := range edges {
		e := &edges[i]
		if e.Rel < graph.Friend || e.Rel > graph.Member {
			return fmt.Errorf("cassandrastore: set edge: unknown rel %d", e.Rel)
		}
		grp := ""
		if e.Rel == graph.Member {
			grp = e.Group
		}
		ops = append(ops, edgeOp{uid: e.From, rel: int8(e.Rel), grp: grp, other: e.To, on: e.On, st: e.Stamp})
		switch e.Rel {
		case graph.Follow:
			ops = append(ops, edgeOp{uid: e.To, rel: relFollowedBy, other: e.From, on: e.On, st: e.Stamp})
		case graph.Block:
			ops = append(ops, edgeOp{uid: e.To, rel: relBlockedBy, other: e.From, on: e.On, st: e.Stamp})
		}
	}
	// Group by partition, keeping the call's order within each.
	slices.SortStableFunc(ops, func(a, b edgeOp) int {
		if c := cmp.Compare(a.uid, b.uid); c != 0 {
			return c
		}
		return cmp.Compare(a.rel, b.rel)
	})
	var parts [][]edgeOp
	for lo := 0; lo < len(ops); {
		hi := lo + 1
		for hi < len(ops) && ops[hi].uid == ops[lo].uid && ops[hi].rel == ops[lo].rel {
			hi++
		}
		parts = append(parts, ops[lo:hi])
		lo = hi
	}
	return g.s.each(ctx, len(parts), func(i int) error { return g.applyPartition(ctx, parts[i]) })
}

// applyPartition applies ops of one partition in order, in chunks of
// distinct rows.
func (g *GraphStore) applyPartition(ctx context.Context, ops []edgeOp) error {
	for lo := 0; lo < len(ops); {
		hi := lo + 1
	grow:
		for hi < len(ops) && hi-lo < chunkRows {
			for k := lo; k < hi; k++ {
				if ops[k].sameRow(&ops[hi]) {
					break grow // the same row again: apply what came before first
				}
			}
			hi++
		}
		if err := g.applyChunk(ctx, ops[lo:hi]); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// edgeState is a stored edge row.
type edgeState struct {
	found, on bool
	st        schema.Stamp
}

// applyChunk applies changes to distinct rows of one partition in one
// read-then-CAS round (repeated on a lost race).
func (g *GraphStore) applyChunk(ctx context.Context, ops []edgeOp) error {
	s := g.s
	uid, rel := ops[0].uid, ops[0].rel
	cur := make([]edgeState, len(ops))
	stmts := make([]casStmt, 0, len(ops)+1)
	for attempt := 0; attempt < maxCASAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		c := s.readConsistency(attempt)
		clear(cur)
		n, haveN, err := g.readChunk(ctx, ops, cur, c)
		if err != nil {
			return err
		}
		stmts = stmts[:0]
		var delta int64
		flipped := false
		for k := range ops {
			op, st := &ops[k], &cur[k]
			if st.found && !op.st.After(st.st) {
				continue // the stored edge is as new or newer
			}
			if st.found {
				stmts = append(stmts, casStmt{updateEdge, []any{op.on, op.st.TS, op.st.ID,
					uid, rel, op.grp, op.other, st.st.TS, st.st.ID}})
			} else {
				stmts = append(stmts, casStmt{insertEdge, []any{uid, rel, op.grp, op.other, op.on, op.st.TS, op.st.ID}})
			}
			if op.on != st.on {
				flipped = true
				if op.on {
					delta++
				} else {
					delta--
				}
			}
		}
		if len(stmts) == 0 {
			return nil
		}
		if delta != 0 {
			if !haveN {
				err := s.sess.Query(selectEdgeCount, uid, rel).Consistency(c).Idempotent(true).ScanContext(ctx, &n)
				if err != nil && !errors.Is(err, gocql.ErrNotFound) {
					return wrap("set edges: read count", err)
				}
			}
			stmts = append(stmts, countStmt(setEdgeCount, n, delta, uid, rel))
		}
		if flipped && readByRelations(rel) {
			stmts = append(stmts, casStmt{setRelVersion, []any{newVersion(), uid, rel}})
		}
		applied, err := s.cas(ctx, stmts)
		if err != nil {
			return wrap("set edges", err)
		}
		if applied {
			return nil
		}
	}
	return fmt.Errorf("%w: edges of user %d rel %d", ErrContention, uid, rel)
}

// readChunk fills cur with the stored rows of ops (one IN query per group
// in the chunk) and returns the partition's static count if any row was
// found (haveN).
func (g *GraphStore) readChunk(ctx context.Context, ops []edgeOp, cur []edgeState, c gocql.Consistency) (n *int64, haveN bool, err error) {
	s := g.s
	uid, rel := ops[0].uid, ops[0].rel
	others := make([]int64, 0, len(ops))
	for lo := range ops {
		grp := ops[lo].grp
		seen := false
		for k := range lo {
			if ops[k].grp == grp {
				seen = true
				break
			}
		}
		if seen {
			continue // this group was read with an earlier op
		}
		others = others[:0]
		for k := lo; k < len(ops); k++ {
			if ops[k].grp == grp {
				others = append(others, ops[k].other)
			}
		}
		iter := s.sess.Query(selectEdgeRows, uid, rel, grp, others).Consistency(c).Idempotent(true).IterContext(ctx)
		var (
			rn       *int64
			rgrp     string
			other    int64
			on       bool
			stTS     int64
			stID     string
			foundAny bool
		)
		for iter.Scan(&rn, &rgrp, &other, &on, &stTS, &stID) {
			foundAny = true
			if rn != nil {
				v := *rn
				n = &v
			}
			for k := lo; k < len(ops); k++ {
				if ops[k].grp == rgrp && ops[k].other == other {
					cur[k] = edgeState{found: true, on: on, st: schema.Stamp{TS: stTS, ID: stID}}
				}
			}
		}
		if err := iter.Close(); err != nil {
			return nil, false, wrap("set edges: read", err)
		}
		haveN = haveN || foundAny
	}
	return n, haveN, nil
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
	err := g.s.sess.Query(selectEdge, from, int8(rel), group, to).Idempotent(true).
		ScanContext(ctx, &e.On, &e.Stamp.TS, &e.Stamp.ID)
	if errors.Is(err, gocql.ErrNotFound) {
		return e, nil
	}
	return e, wrap("edge", err)
}

// list returns the others of one (uid, rel, grp) whose rows are On,
// ascending (the clustering order).
func (g *GraphStore) list(ctx context.Context, uid int64, rel int8, grp string) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	iter := g.s.sess.Query(listEdges, uid, rel, grp).Idempotent(true).IterContext(ctx)
	var out []int64
	var r struct {
		other int64
		on    bool
	}
	dest := [...]any{&r.other, &r.on} // one dest for every row: no per-row allocation
	for iter.Scan(dest[:]...) {
		if r.on {
			out = append(out, r.other)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("list edges", err)
	}
	return out, nil
}

// Friends lists the user's friends, ascending.
func (g *GraphStore) Friends(ctx context.Context, user int64) ([]int64, error) {
	return g.list(ctx, user, int8(graph.Friend), "")
}

// Followers lists who follows the user, ascending.
func (g *GraphStore) Followers(ctx context.Context, user int64) ([]int64, error) {
	return g.list(ctx, user, relFollowedBy, "")
}

// GroupMembers lists the members of owner's friend group, ascending.
func (g *GraphStore) GroupMembers(ctx context.Context, owner int64, group string) ([]int64, error) {
	return g.list(ctx, owner, int8(graph.Member), group)
}

// InGroup reports whether member is in owner's friend group.
func (g *GraphStore) InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error) {
	e, err := g.Edge(ctx, graph.Member, owner, member, group)
	return e.On, err
}

// Relations reads the user's friends, follows, blocks and blockers as four
// concurrent partition reads.
func (g *GraphStore) Relations(ctx context.Context, user int64) (graph.Relations, error) {
	r := graph.Relations{User: user}
	var blocks, blockers []int64
	err := g.s.each(ctx, 4, func(i int) error {
		var err error
		switch i {
		case 0:
			r.Friends, err = g.list(ctx, user, int8(graph.Friend), "")
		case 1:
			r.Following, err = g.list(ctx, user, int8(graph.Follow), "")
		case 2:
			blocks, err = g.list(ctx, user, int8(graph.Block), "")
		case 3:
			blockers, err = g.list(ctx, user, relBlockedBy, "")
		}
		return err
	})
	if err != nil {
		return graph.Relations{User: user}, err
	}
	r.Blocked = graph.Union(blocks, blockers)
	return r, nil
}

// relationsRels are the partitions Relations reads.
var relationsRels = [4]int8{int8(graph.Friend), int8(graph.Follow), int8(graph.Block), relBlockedBy}

func readByRelations(rel int8) bool {
	for _, r := range relationsRels {
		if r == rel {
			return true
		}
	}
	return false
}

// RelationsVersion implements graph.Store: the static versions of the four
// partitions Relations reads, in one query, folded into one value (a
// partition never versioned counts as 0).
func (g *GraphStore) RelationsVersion(ctx context.Context, user int64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	iter := g.s.sess.Query(selectRelVersions, user, relationsRels[0], relationsRels[1], relationsRels[2],
		relationsRels[3]).Idempotent(true).IterContext(ctx)
	var (
		rel     int8
		version *int64
		folded  uint64
	)
	for iter.Scan(&rel, &version) {
		if version == nil {
			continue
		}
		// Mix the partition into its version so a change in any one of
		// the four changes the result (versions are random, so a sum of
		// independent mixes collides with negligible probability).
		folded += mix64(uint64(*version) ^ uint64(rel)<<56)
	}
	if err := iter.Close(); err != nil {
		return 0, wrap("relations version", err)
	}
	return folded, nil
}

// mix64 is SplitMix64's finaliser: a bijection that spreads every input
// bit over the output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// AudienceSize is n(user, friend) + n(user, followed-by): two static reads.
func (g *GraphStore) AudienceSize(ctx context.Context, user int64) (int64, error) {
	var counts [2]int64
	err := g.s.each(ctx, 2, func(i int) error {
		rel := int8(graph.Friend)
		if i == 1 {
			rel = relFollowedBy
		}
		var n *int64
		err := g.s.sess.Query(selectEdgeCount, user, rel).Idempotent(true).ScanContext(ctx, &n)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return wrap("audience size", err)
		}
		if n != nil {
			counts[i] = *n
		}
		return nil
	})
	return counts[0] + counts[1], err
}

// MarkLarge records that the user is merged at read time. Idempotent.
func (g *GraphStore) MarkLarge(ctx context.Context, user int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap("mark large", g.s.exec(ctx, insertLarge, user))
}

// LargeAuthors lists every user marked large, ascending.
func (g *GraphStore) LargeAuthors(ctx context.Context) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	iter := g.s.sess.Query(selectLarge).Idempotent(true).IterContext(ctx)
	var out []int64
	var u int64
	for iter.Scan(&u) {
		out = append(out, u)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("large authors", err)
	}
	return out, nil
}
