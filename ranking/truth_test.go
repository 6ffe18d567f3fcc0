package ranking_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/rankcache"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// truthEnv is a viewer (1) with five friends (2..6) on the embedded store,
// read through a ranked reader with an order cache and a relations cache,
// as feedd serves it.
type truthEnv struct {
	t      *testing.T
	now    time.Time
	engine *fanout.Engine
	tl     *timeline.Reader
	rd     *ranking.Reader
	n      int64
}

// truthLargeThreshold makes an author with 9 or more followers large (merged
// at read time); the viewer's friends have far fewer.
const truthLargeThreshold = 8

func newTruthEnv(t *testing.T) *truthEnv {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &truthEnv{t: t, now: time.UnixMilli(1_700_000_000_000)}
	clock := func() time.Time { return e.now }
	rk, err := ranking.NewRanker(ranking.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	e.engine = fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: clock,
		LargeThreshold: truthLargeThreshold,
		Hooks:          []fanout.Hook{&ranking.Hook{Store: st.Ranking(), Ranker: rk}}})
	var edges []graph.Edge
	for f := int64(2); f <= 6; f++ {
		s := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: 1, To: f, On: true, Stamp: s},
			graph.Edge{Rel: graph.Friend, From: f, To: 1, On: true, Stamp: s})
	}
	if err := st.Graph().SetEdges(context.Background(), edges); err != nil {
		t.Fatal(err)
	}
	rels, err := rankcache.NewRelations(rankcache.MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rels.Close)
	e.tl = timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), timeline.ReaderConfig{Now: clock, Relations: rels})
	e.rd = ranking.NewReader(e.tl, st.Ranking(), st.Ranking(), ranking.NewCursors([]byte("k")), rk, clock,
		ranking.WithOrderCache(newMapCache(), time.Hour))
	return e
}

func (e *truthEnv) apply(evs ...schema.Event) {
	e.t.Helper()
	for i := range evs {
		e.n++
		evs[i].V, evs[i].TS = 1, e.now.UnixMilli()-3600_000+e.n*1000
		if err := evs[i].Normalize(e.now); err != nil {
			e.t.Fatal(err)
		}
	}
	res, err := e.engine.Apply(context.Background(), evs)
	if err != nil || len(res.Rejected) > 0 {
		e.t.Fatalf("apply: %v, rejected %+v", err, res.Rejected)
	}
}

// recent is the viewer's first recent page: its event ids.
func (e *truthEnv) recent() []string {
	e.t.Helper()
	p, err := e.tl.Page(context.Background(), 1, timeline.Position{}, 50)
	if err != nil {
		e.t.Fatal(err)
	}
	return eventIDs(p.Items)
}

func eventIDs(items []timeline.Item) []string {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.EventID)
	}
	return ids
}

// first is the viewer's first ranked page: its event ids.
func (e *truthEnv) first() []string {
	e.t.Helper()
	p, err := e.rd.Ranked(context.Background(), 1, "", 50, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return eventIDs(p.Items)
}

// Read-time truth through the order and relations caches: after each
// change the very next first page, ranked or recent, no longer shows what
// the viewer may not see, whether the change touched the viewer's
// timelines (a new version: ranked again) or only an object or a group
// (the same version: the cached order, whose page is re-checked), and
// whether it changed the viewer's relations (unfriend, block: a new
// relations version) or not.
func TestCachedFeedFollowsReadTimeTruth(t *testing.T) {
	cases := []struct {
		name   string
		change schema.Event
		gone   string // the event id that must leave the feed
	}{
		{"delete", schema.Event{ID: "x", Type: schema.Delete, Actor: 2, Object: "p2"}, "p2"},
		{"live_end", schema.Event{ID: "x", Type: schema.LiveEnd, Actor: 3, Object: "l3"}, "l3"},
		{"unfriend", schema.Event{ID: "x", Type: schema.Unfriend, Actor: 1, Target: 4}, "p4"},
		{"block", schema.Event{ID: "x", Type: schema.Block, Actor: 5, Target: 1}, "p5"},
		{"group_remove", schema.Event{ID: "x", Type: schema.GroupRemove, Actor: 6, Target: 1, Object: "close"}, "g6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTruthEnv(t)
			e.apply(
				schema.Event{ID: "grp", Type: schema.GroupAdd, Actor: 6, Target: 1, Object: "close"},
				schema.Event{ID: "p2", Type: schema.Post, Actor: 2, Object: "p2", Text: "two"},
				schema.Event{ID: "l3", Type: schema.Live, Actor: 3, Object: "l3", Until: e.now.UnixMilli() + 3600_000},
				schema.Event{ID: "p4", Type: schema.Post, Actor: 4, Object: "p4", Text: "four"},
				schema.Event{ID: "p5", Type: schema.Post, Actor: 5, Object: "p5", Text: "five"},
				schema.Event{ID: "g6", Type: schema.Post, Actor: 6, Object: "g6", Text: "group", Audience: "group:close"},
				schema.Event{ID: "p6", Type: schema.Post, Actor: 6, Object: "p6", Text: "six"},
			)
			before := e.first()
			if !slices.Contains(before, tc.gone) || !slices.Contains(e.first(), tc.gone) { // the second is a cache hit
				t.Fatalf("before the change the feed %v lacks %s", before, tc.gone)
			}
			if r := e.recent(); !slices.Contains(r, tc.gone) {
				t.Fatalf("before the change the recent feed %v lacks %s", r, tc.gone)
			}
			hits := e.tl.RelationsStats().Hits
			e.apply(tc.change)
			for order, after := range map[string][]string{"ranked": e.first(), "recent": e.recent()} {
				if slices.Contains(after, tc.gone) {
					t.Fatalf("after %s the %s feed still shows %s: %v", tc.name, order, tc.gone, after)
				}
				if !slices.Contains(after, "p6") {
					t.Fatalf("after %s the %s feed lost an unrelated item: %v", tc.name, order, after)
				}
			}
			if hits == 0 {
				t.Fatal("the relations cache answered no read before the change")
			}
		})
	}
}

// A new item shows on the very next load from the top, also when its
// timestamp is older than the newest item (a late event).
func TestCachedFeedShowsNewItemsAtOnce(t *testing.T) {
	e := newTruthEnv(t)
	e.apply(schema.Event{ID: "p2", Type: schema.Post, Actor: 2, Object: "p2", Text: "two"},
		schema.Event{ID: "p3", Type: schema.Post, Actor: 3, Object: "p3", Text: "three"})
	e.first()
	late := schema.Event{V: 1, ID: "late", Type: schema.Post, Actor: 4, Object: "late", Text: "late",
		TS: e.now.UnixMilli() - 7200_000} // older than both
	if err := late.Normalize(e.now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Apply(context.Background(), []schema.Event{late}); err != nil {
		t.Fatal(err)
	}
	if got := e.first(); !slices.Contains(got, "late") {
		t.Fatalf("a late item is missing from the next load: %v", got)
	}
}

// An unfollow takes effect on the very next read also for a large author,
// whose items no timeline write carries: the outbox is merged by the
// viewer's relations, so a stale cached relations list would keep showing
// it (the relations cache sees the new relations version).
func TestCachedFeedDropsAnUnfollowedLargeAuthor(t *testing.T) {
	e := newTruthEnv(t)
	const big = 7
	var follows []schema.Event
	for f := int64(10); f <= 10+truthLargeThreshold; f++ {
		follows = append(follows, schema.Event{ID: fmt.Sprintf("f%d", f), Type: schema.Follow, Actor: f, Target: big})
	}
	follows = append(follows, schema.Event{ID: "f1", Type: schema.Follow, Actor: 1, Target: big})
	e.apply(follows...)
	e.apply(schema.Event{ID: "p2", Type: schema.Post, Actor: 2, Object: "p2", Text: "two"},
		schema.Event{ID: "big", Type: schema.Post, Actor: big, Object: "big", Text: "to the many"})
	for range 2 { // the second read of each is a cache hit
		if f, r := e.first(), e.recent(); !slices.Contains(f, "big") || !slices.Contains(r, "big") {
			t.Fatalf("the large author's post is missing: ranked %v, recent %v", f, r)
		}
	}
	e.apply(schema.Event{ID: "u1", Type: schema.Unfollow, Actor: 1, Target: big})
	if f, r := e.first(), e.recent(); slices.Contains(f, "big") || slices.Contains(r, "big") || !slices.Contains(r, "p2") {
		t.Fatalf("after the unfollow: ranked %v, recent %v; want p2 without big", f, r)
	}
	if e.tl.RelationsStats().Hits == 0 {
		t.Fatal("the relations cache answered no read")
	}
}
