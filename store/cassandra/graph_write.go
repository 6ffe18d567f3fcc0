package cassandrastore

// Graph writes: SetEdges as stamp-guarded, read-then-compare-and-set
// batches within one edges partition. graph.go holds the statements and
// the reads.

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
	err := casLoop(ctx, func(attempt int) error {
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
		return errLostRace
	})
	if errors.Is(err, ErrContention) {
		return fmt.Errorf("%w: edges of user %d rel %d", err, uid, rel)
	}
	return err
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
