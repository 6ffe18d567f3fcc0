package storetest

import (
	"fmt"
	"testing"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// RunGraph checks a graph.Store: last-writer-wins edges, both-direction
// friendships, the followers and blockers indexes, Relations, the audience
// size, friend groups and large authors.
func RunGraph(t *testing.T, newStore func(t *testing.T) graph.Store) {
	t.Helper()
	run(t, newStore, []subtest[graph.Store]{
		{"NeverSetEdge", graphNeverSet},
		{"OlderStampNeverOverwritesNewer", graphOlderLoses},
		{"EqualStampReapplyIsNoop", graphReapply},
		{"TieBrokenByID", graphTie},
		{"ChangesInOneCallApplyInOrder", graphInOrder},
		{"FriendsBothDirections", graphFriends},
		{"FollowersIndex", graphFollowers},
		{"RelKindsAreSeparate", graphRelKinds},
		{"RelationsSortedAndComplete", graphRelations},
		{"AudienceSizeAfterFlipsAndReapplies", graphAudience},
		{"GroupMembership", graphGroups},
		{"BlocksBothDirections", graphBlocks},
		{"LargeAuthors", graphLarge},
		{"RandomHistoryMatchesModel", graphModel},
		{"RelationsVersionFollowsRelations", graphRelationsVersion},
	})
}

func edge(rel graph.Rel, from, to int64, on bool, s schema.Stamp) graph.Edge {
	return graph.Edge{Rel: rel, From: from, To: to, On: on, Stamp: s}
}

func follow(from, to int64, on bool, s schema.Stamp) graph.Edge {
	return edge(graph.Follow, from, to, on, s)
}

func block(from, to int64, on bool, s schema.Stamp) graph.Edge {
	return edge(graph.Block, from, to, on, s)
}

// friend is a friendship change as the fan-out writes it: both directions,
// one stamp.
func friend(a, b int64, on bool, s schema.Stamp) []graph.Edge {
	return []graph.Edge{edge(graph.Friend, a, b, on, s), edge(graph.Friend, b, a, on, s)}
}

func member(owner int64, group string, m int64, on bool, s schema.Stamp) graph.Edge {
	return graph.Edge{Rel: graph.Member, From: owner, To: m, Group: group, On: on, Stamp: s}
}

func set(t *testing.T, g graph.Store, edges ...graph.Edge) {
	t.Helper()
	must(t, g.SetEdges(t.Context(), edges))
}

func getEdge(t *testing.T, g graph.Store, rel graph.Rel, from, to int64, group string) graph.Edge {
	t.Helper()
	e, err := g.Edge(t.Context(), rel, from, to, group)
	must(t, err)
	return e
}

func wantEdge(t *testing.T, g graph.Store, rel graph.Rel, from, to int64, group string, on bool, s schema.Stamp) {
	t.Helper()
	want := graph.Edge{Rel: rel, From: from, To: to, Group: group, On: on, Stamp: s}
	if got := getEdge(t, g, rel, from, to, group); got != want {
		t.Errorf("Edge(%v, %d, %d, %q) = %+v, want %+v", rel, from, to, group, got, want)
	}
}

func wantAudience(t *testing.T, g graph.Store, user, want int64) {
	t.Helper()
	n, err := g.AudienceSize(t.Context(), user)
	must(t, err)
	if n != want {
		t.Errorf("AudienceSize(%d) = %d, want %d", user, n, want)
	}
}

func wantFriends(t *testing.T, g graph.Store, user int64, want ...int64) {
	t.Helper()
	got, err := g.Friends(t.Context(), user)
	must(t, err)
	wantIDs(t, fmt.Sprintf("Friends(%d)", user), got, want...)
}

func wantFollowers(t *testing.T, g graph.Store, user int64, want ...int64) {
	t.Helper()
	got, err := g.Followers(t.Context(), user)
	must(t, err)
	wantIDs(t, fmt.Sprintf("Followers(%d)", user), got, want...)
}

func relations(t *testing.T, g graph.Store, user int64) graph.Relations {
	t.Helper()
	r, err := g.Relations(t.Context(), user)
	must(t, err)
	if r.User != user {
		t.Errorf("Relations(%d).User = %d", user, r.User)
	}
	return r
}

func wantRelations(t *testing.T, g graph.Store, user int64, friends, following, blocked []int64) {
	t.Helper()
	r := relations(t, g, user)
	wantIDs(t, fmt.Sprintf("Relations(%d).Friends", user), r.Friends, friends...)
	wantIDs(t, fmt.Sprintf("Relations(%d).Following", user), r.Following, following...)
	wantIDs(t, fmt.Sprintf("Relations(%d).Blocked", user), r.Blocked, blocked...)
}

func graphNeverSet(t *testing.T, g graph.Store) {
	wantEdge(t, g, graph.Follow, 1, 2, "", false, schema.Stamp{})
	wantEdge(t, g, graph.Member, 1, 2, "g", false, schema.Stamp{})
	wantFriends(t, g, 1)
	wantFollowers(t, g, 2)
	wantAudience(t, g, 1, 0)
	wantRelations(t, g, 1, nil, nil, nil)
	in, err := g.InGroup(t.Context(), 1, "g", 2)
	must(t, err)
	if in {
		t.Error("InGroup on an empty store = true")
	}
	large, err := g.LargeAuthors(t.Context())
	must(t, err)
	wantIDs(t, "LargeAuthors", large)
}

func graphOlderLoses(t *testing.T, g graph.Store) {
	set(t, g, follow(1, 2, true, st(10, "e10")))
	set(t, g, follow(1, 2, false, st(9, "e9")))
	wantEdge(t, g, graph.Follow, 1, 2, "", true, st(10, "e10"))
	wantFollowers(t, g, 2, 1)
	wantAudience(t, g, 2, 1)

	// And the other way round: an Off edge is a tombstone an older On
	// cannot undo.
	set(t, g, follow(3, 2, false, st(20, "u20")))
	set(t, g, follow(3, 2, true, st(19, "f19")))
	wantEdge(t, g, graph.Follow, 3, 2, "", false, st(20, "u20"))
	wantFollowers(t, g, 2, 1)
	wantAudience(t, g, 2, 1)
}

func graphReapply(t *testing.T, g graph.Store) {
	e := follow(1, 2, true, st(10, "e"))
	set(t, g, e)
	set(t, g, e)
	set(t, g, e, e)
	set(t, g, friend(1, 3, true, st(11, "f"))...)
	set(t, g, friend(1, 3, true, st(11, "f"))...)
	wantAudience(t, g, 2, 1)
	wantAudience(t, g, 1, 1)
	wantAudience(t, g, 3, 1)
	wantFollowers(t, g, 2, 1)
	wantFriends(t, g, 1, 3)

	off := follow(1, 2, false, st(12, "u"))
	set(t, g, off)
	set(t, g, off)
	wantAudience(t, g, 2, 0)
	wantFollowers(t, g, 2)
}

func graphTie(t *testing.T, g graph.Store) {
	set(t, g, follow(1, 2, true, st(10, "b")))
	set(t, g, follow(1, 2, false, st(10, "a"))) // same ts, smaller id: older
	wantEdge(t, g, graph.Follow, 1, 2, "", true, st(10, "b"))
	wantAudience(t, g, 2, 1)
	set(t, g, follow(1, 2, false, st(10, "c"))) // same ts, larger id: newer
	wantEdge(t, g, graph.Follow, 1, 2, "", false, st(10, "c"))
	wantFollowers(t, g, 2)
	wantAudience(t, g, 2, 0)
}

func graphInOrder(t *testing.T, g graph.Store) {
	set(t, g, follow(1, 2, true, st(1, "a")), follow(1, 2, false, st(2, "b")))
	wantEdge(t, g, graph.Follow, 1, 2, "", false, st(2, "b"))
	wantAudience(t, g, 2, 0)
	set(t, g, follow(3, 2, false, st(4, "d")), follow(3, 2, true, st(3, "c")))
	wantEdge(t, g, graph.Follow, 3, 2, "", false, st(4, "d"))
	wantFollowers(t, g, 2)
	wantAudience(t, g, 2, 0)
	set(t, g, follow(5, 2, true, st(5, "e")), follow(5, 2, false, st(6, "f")), follow(5, 2, true, st(7, "g")))
	wantFollowers(t, g, 2, 5)
	wantAudience(t, g, 2, 1)
}

func graphFriends(t *testing.T, g graph.Store) {
	set(t, g, friend(1, 2, true, st(1, "f1"))...)
	set(t, g, friend(1, 300, true, st(2, "f2"))...)
	wantFriends(t, g, 1, 2, 300)
	wantFriends(t, g, 2, 1)
	wantFriends(t, g, 300, 1)
	wantEdge(t, g, graph.Friend, 2, 1, "", true, st(1, "f1"))
	wantAudience(t, g, 1, 2)
	wantAudience(t, g, 2, 1)

	set(t, g, friend(1, 2, false, st(3, "u3"))...)
	wantFriends(t, g, 1, 300)
	wantFriends(t, g, 2)
	wantAudience(t, g, 1, 1)
	wantAudience(t, g, 2, 0)
	wantEdge(t, g, graph.Friend, 1, 2, "", false, st(3, "u3"))

	set(t, g, friend(1, 2, true, st(4, "f4"))...)
	wantFriends(t, g, 2, 1)
	wantAudience(t, g, 1, 2)
}

func graphFollowers(t *testing.T, g graph.Store) {
	const x = 100
	big := int64(1) << 33
	for i, u := range []int64{300, 7, big, 5} {
		set(t, g, follow(u, x, true, st(int64(i+1), fmt.Sprint("f", i))))
	}
	set(t, g, follow(x, 7, true, st(9, "back"))) // x follows 7: not a follower of x
	set(t, g, follow(8, x+1, true, st(9, "other")))
	wantFollowers(t, g, x, 5, 7, 300, big)
	wantFollowers(t, g, x+1, 8)
	wantFollowers(t, g, 7, x)
	wantAudience(t, g, x, 4)
	wantRelations(t, g, 7, nil, []int64{x}, nil)

	set(t, g, follow(300, x, false, st(10, "u")))
	wantFollowers(t, g, x, 5, 7, big)
	wantAudience(t, g, x, 3)
}

func graphRelKinds(t *testing.T, g graph.Store) {
	set(t, g, follow(1, 2, true, st(1, "a")), block(1, 3, true, st(1, "b")), member(1, "g", 4, true, st(1, "c")))
	wantFriends(t, g, 1)
	wantEdge(t, g, graph.Friend, 1, 2, "", false, schema.Stamp{})
	wantEdge(t, g, graph.Block, 1, 2, "", false, schema.Stamp{})
	wantFollowers(t, g, 3)
	wantRelations(t, g, 1, nil, []int64{2}, []int64{3})
	wantAudience(t, g, 1, 0)
	wantAudience(t, g, 3, 0)
	wantAudience(t, g, 4, 0)
}

func graphRelations(t *testing.T, g graph.Store) {
	const u = 50
	for i, f := range []int64{1000, 9, 3} {
		set(t, g, friend(u, f, true, st(1, fmt.Sprint("f", i)))...)
	}
	set(t, g, friend(u, 12, true, st(1, "f12"))...)
	set(t, g, friend(u, 12, false, st(2, "u12"))...)
	set(t, g,
		follow(u, 70, true, st(1, "a")),
		follow(u, 2, true, st(1, "b")),
		follow(u, 80, true, st(1, "c")),
		follow(u, 80, false, st(2, "d")),
		follow(3, 99, true, st(1, "e")), // someone else's follow
		follow(61, u, true, st(1, "f")), // a follower is not a followee
		block(u, 4, true, st(1, "g")),
		block(5, u, true, st(1, "h")),
		block(u, 6, true, st(1, "i")),
		block(6, u, true, st(1, "j")),
		block(u, 7, true, st(1, "k")),
		block(u, 7, false, st(2, "l")),
		block(8, u, true, st(1, "m")),
		block(8, u, false, st(2, "n")),
		block(4, 9, true, st(1, "o")), // not involving u
	)
	wantRelations(t, g, u, []int64{3, 9, 1000}, []int64{2, 70}, []int64{4, 5, 6})
	r := relations(t, g, u)
	if !r.IsFriend(9) || r.IsFriend(12) || !r.Follows(70) || r.Follows(80) || !r.IsBlocked(5) || r.IsBlocked(7) {
		t.Errorf("Relations(%d) predicates disagree with %+v", u, r)
	}
	wantAudience(t, g, u, 3+1)
}

func graphAudience(t *testing.T, g graph.Store) {
	const u = 1
	steps := []struct {
		name  string
		edges []graph.Edge
		want  int64
	}{
		{"friend", friend(u, 2, true, st(1, "a")), 1},
		{"follower", []graph.Edge{follow(3, u, true, st(1, "b"))}, 2},
		{"reapply both", append(friend(u, 2, true, st(1, "a")), follow(3, u, true, st(1, "b"))), 2},
		{"follower leaves", []graph.Edge{follow(3, u, false, st(2, "c"))}, 1},
		{"stale follow", []graph.Edge{follow(3, u, true, st(1, "b"))}, 1},
		{"follower returns", []graph.Edge{follow(3, u, true, st(3, "d"))}, 2},
		{"stale unfriend", friend(u, 2, false, st(0, "z")), 2},
		{"user follows someone", []graph.Edge{follow(u, 4, true, st(1, "e"))}, 2},
		{"blocks do not count", []graph.Edge{block(5, u, true, st(1, "f")), block(u, 6, true, st(1, "g"))}, 2},
		{"members do not count", []graph.Edge{member(u, "g", 2, true, st(1, "h"))}, 2},
		{"unfriend", friend(u, 2, false, st(4, "i")), 1},
		{"unfriend again", friend(u, 2, false, st(5, "j")), 1},
		{"second unfollow", []graph.Edge{follow(3, u, false, st(6, "k")), follow(3, u, false, st(7, "l"))}, 0},
		{"unfollow of a never-follower", []graph.Edge{follow(9, u, false, st(8, "m"))}, 0},
	}
	for _, s := range steps {
		set(t, g, s.edges...)
		n, err := g.AudienceSize(t.Context(), u)
		must(t, err)
		if n != s.want {
			t.Fatalf("after %q: AudienceSize(%d) = %d, want %d", s.name, u, n, s.want)
		}
	}
	wantAudience(t, g, 2, 0)
	wantAudience(t, g, 4, 1)
}

func graphGroups(t *testing.T, g graph.Store) {
	set(t, g,
		member(1, "g", 5, true, st(1, "a")),
		member(1, "g", 3, true, st(1, "b")),
		member(1, "g1", 7, true, st(1, "c")),
		member(1, "a", 8, true, st(1, "d")),
		member(1, "ab", 9, true, st(1, "e")),
		member(2, "g", 9, true, st(1, "f")),
	)
	members := func(owner int64, group string, want ...int64) {
		t.Helper()
		got, err := g.GroupMembers(t.Context(), owner, group)
		must(t, err)
		wantIDs(t, fmt.Sprintf("GroupMembers(%d, %q)", owner, group), got, want...)
	}
	in := func(owner int64, group string, m int64, want bool) {
		t.Helper()
		got, err := g.InGroup(t.Context(), owner, group, m)
		must(t, err)
		if got != want {
			t.Errorf("InGroup(%d, %q, %d) = %v, want %v", owner, group, m, got, want)
		}
	}
	members(1, "g", 3, 5)
	members(1, "g1", 7)
	members(1, "a", 8)
	members(1, "ab", 9)
	members(2, "g", 9)
	members(1, "nope")
	in(1, "g", 5, true)
	in(1, "g1", 5, false)
	in(2, "g", 5, false)
	wantEdge(t, g, graph.Member, 1, 3, "g", true, st(1, "b"))

	set(t, g, member(1, "g", 5, false, st(2, "r")))
	set(t, g, member(1, "g", 5, true, st(1, "a"))) // stale re-add
	members(1, "g", 3)
	in(1, "g", 5, false)
	wantEdge(t, g, graph.Member, 1, 5, "g", false, st(2, "r"))
	wantRelations(t, g, 1, nil, nil, nil)
}

func graphBlocks(t *testing.T, g graph.Store) {
	set(t, g, block(1, 2, true, st(1, "b")))
	wantRelations(t, g, 1, nil, nil, []int64{2})
	wantRelations(t, g, 2, nil, nil, []int64{1})
	wantRelations(t, g, 3, nil, nil, nil)
	set(t, g, block(1, 2, false, st(2, "u")))
	wantRelations(t, g, 1, nil, nil, nil)
	wantRelations(t, g, 2, nil, nil, nil)
	wantEdge(t, g, graph.Block, 1, 2, "", false, st(2, "u"))
	set(t, g, block(1, 2, true, st(1, "b"))) // stale
	wantRelations(t, g, 2, nil, nil, nil)
}

func graphLarge(t *testing.T, g graph.Store) {
	for _, u := range []int64{300, 5, 300, 1 << 40} {
		must(t, g.MarkLarge(t.Context(), u))
	}
	got, err := g.LargeAuthors(t.Context())
	must(t, err)
	wantIDs(t, "LargeAuthors", got, 5, 300, 1<<40)
}
