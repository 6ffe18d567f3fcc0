package ranking_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// Ranking the compact candidates (no content) gives every item the same
// explain factors and the same order as ranking the fully hydrated
// window, on a feed with posts, photos, gifts, Class aggregates, a live and
// an ended broadcast, and a group audience: the ranker never looks at
// content, and the candidates hold what decides whether an item shows.
func TestCandidatesRankAsTheWindow(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	ctx := context.Background()
	rk, err := ranking.NewRanker(ranking.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: clock,
		Hooks: []fanout.Hook{&ranking.Hook{Store: st.Ranking(), Ranker: rk}}})
	const viewer, friends = 1, 12
	var edges []graph.Edge
	for f := int64(2); f < 2+friends; f++ {
		s := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: viewer, To: f, On: true, Stamp: s},
			graph.Edge{Rel: graph.Friend, From: f, To: viewer, On: true, Stamp: s})
	}
	if err := st.Graph().SetEdges(ctx, edges); err != nil {
		t.Fatal(err)
	}
	ts := now.UnixMilli() - 6*3600_000
	var evs []schema.Event
	add := func(ev schema.Event) {
		ev.V, ev.TS = 1, ts+int64(len(evs))*60_000
		evs = append(evs, ev)
	}
	add(schema.Event{ID: "grp", Type: schema.GroupAdd, Actor: 2, Target: viewer, Object: "close"})
	for i := range 60 {
		actor := int64(2 + i%friends)
		id := "e" + strconv.Itoa(i)
		switch i % 6 {
		case 0, 1:
			add(schema.Event{ID: id, Type: schema.Post, Actor: actor, Object: id, Text: "post " + id})
		case 2:
			add(schema.Event{ID: id, Type: schema.Photo, Actor: actor, Object: id, Media: []string{"https://img.example/" + id}})
		case 3:
			add(schema.Event{ID: id, Type: schema.Class, Actor: actor, Object: "e" + strconv.Itoa(i-3), Target: int64(2 + (i-3)%friends)})
		case 4:
			add(schema.Event{ID: id, Type: schema.Gift, Actor: actor, Target: viewer, Object: id})
		case 5:
			add(schema.Event{ID: id, Type: schema.Live, Actor: actor, Object: id, Until: now.UnixMilli() + 3600_000})
		}
	}
	add(schema.Event{ID: "gpost", Type: schema.Post, Actor: 2, Object: "gpost", Text: "for the group", Audience: "group:close"})
	add(schema.Event{ID: "end", Type: schema.LiveEnd, Actor: 2 + 5%friends, Object: "e5"})
	add(schema.Event{ID: "cl-mine", Type: schema.Class, Actor: viewer, Object: "e6", Target: 2 + 6%friends})
	for i := range evs {
		if err := evs[i].Normalize(now); err != nil {
			t.Fatal(err)
		}
	}
	res, err := engine.Apply(ctx, evs)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("apply: %v, rejected %+v", err, res.Rejected)
	}
	tl := timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), timeline.ReaderConfig{Now: clock})
	window, wTail, err := tl.Window(ctx, viewer, 300)
	if err != nil {
		t.Fatal(err)
	}
	cands, cTail, err := tl.Candidates(ctx, viewer, nil, 300)
	if err != nil {
		t.Fatal(err)
	}
	if len(window) < 40 || len(cands) != len(window) || wTail != cTail {
		t.Fatalf("window %d items (tail %v), candidates %d (tail %v)", len(window), wTail, len(cands), cTail)
	}
	kinds := map[string]int{}
	for i := range window {
		w, c := window[i], cands[i]
		kinds[w.Type]++
		if c.Type == "post" || c.Type == "photo" || c.Type == "gift" {
			if c.Text != "" || c.Media != nil {
				t.Errorf("candidate %s carries content", c.EventID)
			}
			c.Text, c.Media = w.Text, w.Media
		}
		// Candidates carry the reaction total ranking counts, not the
		// kinds or the viewer's own (the page shown is hydrated).
		if c.ReactionCount != w.ReactionCount {
			t.Errorf("candidate %s: reaction total %d, window %d", c.EventID, c.ReactionCount, w.ReactionCount)
		}
		c.ClassCount, c.Reactions, c.MyReaction = w.ClassCount, w.Reactions, w.MyReaction
		if !reflect.DeepEqual(w, c) {
			t.Errorf("item %d: window %+v, candidate %+v", i, w, c)
		}
	}
	for _, k := range []string{"post", "photo", "class", "gift", "live"} {
		if kinds[k] == 0 {
			t.Fatalf("the fixture's window has no %s item: %v", k, kinds)
		}
	}
	sums := make([]float64, len(window))
	for i := range sums {
		sums[i] = float64(i%5) * 0.7
	}
	at := now.UnixMilli()
	rw, rc := rk.Rank(at, window, sums), rk.Rank(at, cands, sums)
	if !reflect.DeepEqual(rw, rc) {
		t.Fatalf("ranked window %+v\nranked candidates %+v", rw, rc)
	}
}
