package graph

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/schema"
)

// Rel is the kind of a directed edge.
type Rel uint8

// Edge kinds. Friend edges are always written in both directions.
const (
	Friend Rel = 1 + iota // From and To are friends
	Follow                // From follows To
	Block                 // From blocks To
	Member                // To is in From's friend group Group
)

func (r Rel) String() string {
	switch r {
	case Friend:
		return "friend"
	case Follow:
		return "follow"
	case Block:
		return "block"
	case Member:
		return "member"
	}
	return "unknown"
}

// Edge is one directed relation and its last change.
type Edge struct {
	Rel   Rel
	From  int64
	To    int64
	Group string // only for Member
	On    bool
	Stamp schema.Stamp
}

// Relations is everything a feed read needs to know about one viewer.
// Every slice is sorted ascending.
type Relations struct {
	User      int64
	Friends   []int64 // mutual friends
	Following []int64 // accounts the user follows
	Blocked   []int64 // users the user blocked or who blocked the user
}

// IsFriend reports whether u is a friend of the viewer.
func (r *Relations) IsFriend(u int64) bool { return has(r.Friends, u) }

// Follows reports whether the viewer follows u.
func (r *Relations) Follows(u int64) bool { return has(r.Following, u) }

// IsBlocked reports whether a block stands between the viewer and u.
func (r *Relations) IsBlocked(u int64) bool { return has(r.Blocked, u) }

func has(s []int64, u int64) bool {
	_, ok := slices.BinarySearch(s, u)
	return ok
}

// Store keeps the graph. Implementations must be safe for concurrent use.
type Store interface {
	// SetEdges applies each change unless the stored edge has a later
	// stamp. It keeps the reverse indexes (followers, blockers) and the
	// audience size in step. Applying the same change twice changes nothing.
	SetEdges(ctx context.Context, edges []Edge) error
	// Edge returns the stored state of one edge; a never-set edge has a
	// zero Stamp and On false.
	Edge(ctx context.Context, rel Rel, from, to int64, group string) (Edge, error)
	// Friends lists the user's friends, ascending.
	Friends(ctx context.Context, user int64) ([]int64, error)
	// Followers lists who follows the user, ascending.
	Followers(ctx context.Context, user int64) ([]int64, error)
	// GroupMembers lists the members of owner's friend group, ascending.
	GroupMembers(ctx context.Context, owner int64, group string) ([]int64, error)
	// InGroup reports whether member is in owner's friend group.
	InGroup(ctx context.Context, owner int64, group string, member int64) (bool, error)
	// Relations gathers one viewer's friends, follows and blocks.
	Relations(ctx context.Context, user int64) (Relations, error)
	// RelationsVersion fingerprints what Relations(user) returns: it
	// changes with every SetEdges that changes that result (a Friend,
	// Follow or Block edge from user, or a Block edge to user, turning On
	// or Off), in the same atomic write as the edge. While it is
	// unchanged, Relations returns the same lists; it may change when
	// they did not. A user with no such edge may read 0.
	RelationsVersion(ctx context.Context, user int64) (uint64, error)
	// AudienceSize is the number of friends plus followers of the user.
	AudienceSize(ctx context.Context, user int64) (int64, error)
	// MarkLarge records that the user's items are merged at read time
	// instead of fanned out (hybrid fan-out). Idempotent.
	MarkLarge(ctx context.Context, user int64) error
	// LargeAuthors lists every user marked large, ascending.
	LargeAuthors(ctx context.Context) ([]int64, error)
}

// EdgeReader reads one edge (Store.Edge).
type EdgeReader interface {
	Edge(ctx context.Context, rel Rel, from, to int64, group string) (Edge, error)
}

// BlockedEitherWay reports whether a blocks b or b blocks a: the rule by
// which neither sees the other's items, marks or notifications. Two point
// reads.
func BlockedEitherWay(ctx context.Context, g EdgeReader, a, b int64) (bool, error) {
	for _, p := range [2][2]int64{{a, b}, {b, a}} {
		e, err := g.Edge(ctx, Block, p[0], p[1], "")
		if err != nil {
			return false, fmt.Errorf("read block edge %d->%d: %w", p[0], p[1], err)
		}
		if e.On {
			return true, nil
		}
	}
	return false, nil
}
