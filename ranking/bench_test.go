package ranking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
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

// rankedSetup builds, on the embedded store, a viewer whose home timeline
// is full (800 entries from 90 friends: posts, photos and Class
// aggregates) and who gave Class to 30 of those friends, through the
// fan-out engine with the ranking hook, as feedd does.
// rankedSetup builds the viewer's store and a ranked reader; with rels, its
// timeline reader keeps relations in a cache, as feedd's does.
func rankedSetup(b *testing.B, rels bool, opts ...ranking.ReaderOption) (*ranking.Reader, int64) {
	st, err := pebblestore.Open(b.TempDir(), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	ctx := context.Background()
	rk, err := ranking.NewRanker(ranking.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: clock,
		Hooks: []fanout.Hook{&ranking.Hook{Store: st.Ranking(), Ranker: rk}}})
	const viewer, friends = 1, 90
	var edges []graph.Edge
	for f := int64(2); f < 2+friends; f++ {
		s := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: viewer, To: f, On: true, Stamp: s},
			graph.Edge{Rel: graph.Friend, From: f, To: viewer, On: true, Stamp: s})
	}
	if err := st.Graph().SetEdges(ctx, edges); err != nil {
		b.Fatal(err)
	}
	var evs []schema.Event
	ts := now.UnixMilli() - 24*3600_000
	for i := range 800 {
		actor := int64(2 + i%friends)
		id := "e" + strconv.Itoa(i)
		ev := schema.Event{V: 1, ID: id, Type: schema.Post, Actor: actor, Object: id, Text: "some text of a post", TS: ts + int64(i)*1000}
		switch i % 4 {
		case 1:
			ev.Type, ev.Media = schema.Photo, []string{"https://img.example/" + id + ".jpg"}
		case 3:
			ev.Type, ev.Object, ev.Target, ev.Text = schema.Class, "e"+strconv.Itoa(i-2), int64(2+(i-2)%friends), ""
		}
		evs = append(evs, ev)
	}
	for i := range 30 { // the viewer's own Classes: affinities
		evs = append(evs, schema.Event{V: 1, ID: "v" + strconv.Itoa(i), Type: schema.Class, Actor: viewer,
			Target: int64(2 + (4*i)%friends), Object: "e" + strconv.Itoa(4*i), TS: ts + 900_000})
	}
	if _, err := engine.Apply(ctx, evs); err != nil {
		b.Fatal(err)
	}
	cfg := timeline.ReaderConfig{Now: clock}
	if rels {
		c, err := rankcache.NewRelations(rankcache.DefaultRelationsBytes)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		cfg.Relations = c
	}
	tl := timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), cfg)
	return ranking.NewReader(tl, st.Ranking(), st.Ranking(), ranking.NewCursors([]byte("bench")), rk, clock, opts...), viewer
}

// BenchmarkRankedPage20 serves the first ranked page (20 items) the way
// GET /v1/feed does: 300 candidates fetched, filtered and hydrated, their
// affinities read in one batch, scored, sorted, diversified, the rest of
// the order stored as a snapshot, and the page encoded as JSON.
func BenchmarkRankedPage20(b *testing.B) {
	rd, viewer := rankedSetup(b, false)
	benchmarkFirstPage(b, rd, viewer)
}

// BenchmarkRankedPage20Cached serves the first page again while the
// viewer's timeline version is unchanged, with feedd's caches: the
// relations and timeline version reads, the cached order's first 20
// entries re-checked and hydrated, encoded.
func BenchmarkRankedPage20Cached(b *testing.B) {
	rd, viewer := rankedSetup(b, true, ranking.WithOrderCache(newMapCache(), time.Hour))
	benchmarkFirstPage(b, rd, viewer)
}

func benchmarkFirstPage(b *testing.B, rd *ranking.Reader, viewer int64) {
	ctx := context.Background()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	b.ReportAllocs()
	for b.Loop() {
		p, err := rd.Ranked(ctx, viewer, "", 20, false)
		if err != nil || len(p.Items) != 20 || p.Next == "" {
			b.Fatalf("page: %d items, %v", len(p.Items), err)
		}
		buf.Reset()
		if err := enc.Encode(p.Items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkRankedNextPage20 serves a following page: the snapshot read,
// 20 entries re-checked and hydrated, encoded.
func BenchmarkRankedNextPage20(b *testing.B) {
	rd, viewer := rankedSetup(b, false)
	ctx := context.Background()
	first, err := rd.Ranked(ctx, viewer, "", 20, false)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	b.ReportAllocs()
	for b.Loop() {
		p, err := rd.Ranked(ctx, viewer, first.Next, 20, false)
		if err != nil || len(p.Items) != 20 {
			b.Fatalf("page: %d items, %v", len(p.Items), err)
		}
		buf.Reset()
		if err := enc.Encode(p.Items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// mapCache is an unbounded ranking.OrderCache (the feedd one is rankcache,
// which this package must not import).
type mapCache struct {
	mu sync.Mutex
	m  map[int64]*ranking.Order
}

func newMapCache() *mapCache { return &mapCache{m: map[int64]*ranking.Order{}} }

func (c *mapCache) Get(viewer int64) (*ranking.Order, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.m[viewer]
	return o, ok
}

func (c *mapCache) Set(viewer int64, o *ranking.Order) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[viewer] = o
}
