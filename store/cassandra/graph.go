package cassandrastore

import (
	"context"
	"errors"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/graph"
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
