package storetest

// RunGraph's model subtests: long deterministic histories checked against
// a last-writer-wins model and against RelationsVersion.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// graphModel applies a long deterministic history (stale changes,
// re-deliveries, ties on ts, several changes per call) and compares every
// read with a last-writer-wins model.
func graphModel(t *testing.T, g graph.Store) {
	type key struct {
		rel      graph.Rel
		from, to int64
	}
	type state struct {
		on bool
		s  schema.Stamp
	}
	model := map[key]state{}
	apply := func(e graph.Edge) {
		k := key{e.Rel, e.From, e.To}
		cur, ok := model[k]
		if !ok || e.Stamp.After(cur.s) {
			model[k] = state{e.On, e.Stamp}
		}
	}
	users := []int64{1, 2, 3, 255, 256, 257, 1 << 32, 1<<32 + 1}
	rnd := rand.New(rand.NewPCG(1, 2))
	var history []graph.Edge
	for op := 0; op < 400; {
		var call []graph.Edge
		for n := 1 + rnd.IntN(4); n > 0; n-- {
			if len(history) > 0 && rnd.IntN(5) == 0 {
				call = append(call, history[rnd.IntN(len(history))]) // re-delivery
				continue
			}
			a, b := users[rnd.IntN(len(users))], users[rnd.IntN(len(users))]
			if a == b {
				continue
			}
			s := st(int64(rnd.IntN(30)), fmt.Sprintf("e%04d", op))
			op++
			on := rnd.IntN(3) != 0
			switch rnd.IntN(3) {
			case 0:
				call = append(call, friend(a, b, on, s)...)
			case 1:
				call = append(call, follow(a, b, on, s))
			default:
				call = append(call, block(a, b, on, s))
			}
		}
		if len(call) == 0 {
			continue
		}
		set(t, g, call...)
		for _, e := range call {
			apply(e)
		}
		history = append(history, call...)
	}
	for _, u := range users {
		var friends, following, followers, blocked []int64
		for k, s := range model {
			if !s.on {
				continue
			}
			switch {
			case k.rel == graph.Friend && k.from == u:
				friends = append(friends, k.to)
			case k.rel == graph.Follow && k.from == u:
				following = append(following, k.to)
			case k.rel == graph.Block && k.from == u:
				blocked = append(blocked, k.to)
			}
			switch {
			case k.rel == graph.Follow && k.to == u:
				followers = append(followers, k.from)
			case k.rel == graph.Block && k.to == u:
				blocked = append(blocked, k.from)
			}
		}
		for _, l := range [][]int64{friends, following, followers, blocked} {
			slices.Sort(l)
		}
		blocked = slices.Compact(blocked)
		wantRelations(t, g, u, friends, following, blocked)
		wantFriends(t, g, u, friends...)
		wantFollowers(t, g, u, followers...)
		wantAudience(t, g, u, int64(len(friends)+len(followers)))
	}
	for k, s := range model {
		wantEdge(t, g, k.rel, k.from, k.to, "", s.on, s.s)
	}
}

// graphRelationsVersion: whenever Relations(u) changes, RelationsVersion(u)
// changes with it (checked after every call of a random history, blocks
// from others and re-deliveries included); a member edge, which Relations
// does not read, is allowed either way.
func graphRelationsVersion(t *testing.T, g graph.Store) {
	users := []int64{1, 2, 3, 1 << 32}
	type seen struct {
		rel     graph.Relations
		version uint64
	}
	last := map[int64]seen{}
	observe := func(step string) {
		t.Helper()
		for _, u := range users {
			v, err := g.RelationsVersion(t.Context(), u)
			must(t, err)
			rel := relations(t, g, u)
			prev, ok := last[u]
			if ok && v == prev.version && !sameRelations(rel, prev.rel) {
				t.Fatalf("%s: Relations(%d) changed from %+v to %+v, RelationsVersion stayed %d", step, u, prev.rel, rel, v)
			}
			last[u] = seen{rel, v}
		}
	}
	observe("start")
	set(t, g, friend(1, 2, true, st(1, "a"))...)
	observe("friend 1-2")
	set(t, g, block(3, 1, true, st(2, "b")))
	observe("3 blocks 1") // 1's Blocked changed although 1 wrote nothing
	set(t, g, member(1, "family", 2, true, st(3, "c")))
	observe("member")
	rnd := rand.New(rand.NewPCG(3, 4))
	var history []graph.Edge
	for op := 0; op < 60; op++ {
		var call []graph.Edge
		if len(history) > 0 && rnd.IntN(4) == 0 {
			call = append(call, history[rnd.IntN(len(history))]) // re-delivery
		} else {
			a, b := users[rnd.IntN(len(users))], users[rnd.IntN(len(users))]
			if a == b {
				continue
			}
			s := st(int64(10+rnd.IntN(40)), fmt.Sprintf("r%04d", op))
			on := rnd.IntN(3) != 0
			switch rnd.IntN(3) {
			case 0:
				call = friend(a, b, on, s)
			case 1:
				call = []graph.Edge{follow(a, b, on, s)}
			default:
				call = []graph.Edge{block(a, b, on, s)}
			}
		}
		set(t, g, call...)
		history = append(history, call...)
		observe(fmt.Sprintf("op %d %+v", op, call))
	}
}

func sameRelations(a, b graph.Relations) bool {
	return a.User == b.User && slices.Equal(a.Friends, b.Friends) &&
		slices.Equal(a.Following, b.Following) && slices.Equal(a.Blocked, b.Blocked)
}
