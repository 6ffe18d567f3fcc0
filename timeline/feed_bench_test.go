package timeline_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/rankcache"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// BenchmarkFeedPage20 reads the first page (20 items) of a viewer whose
// home timeline is full (800 entries from 90 friends: posts, photos and
// Class aggregates), as the HTTP reader does: relations, timeline, class
// markers, hydration and counts.
func BenchmarkFeedPage20(b *testing.B) {
	benchmarkFeedPage20(b, timeline.ReaderConfig{}, page{})
}

// BenchmarkFeedPage20Comments is BenchmarkFeedPage20 with comments: one
// event in eight a comment (aggregated per object like Class!), and the
// page's comment counts read, as feedd reads.
func BenchmarkFeedPage20Comments(b *testing.B) {
	benchmarkFeedPage20(b, timeline.ReaderConfig{}, page{comments: true})
}

// BenchmarkFeedPage20Reacted is BenchmarkFeedPage20 for a viewer who
// reacted to one item in five (emotions), so the page's my_reaction read
// finds some and the items carry several kinds.
func BenchmarkFeedPage20Reacted(b *testing.B) {
	benchmarkFeedPage20(b, timeline.ReaderConfig{}, page{reacting: true})
}

// BenchmarkFeedPage20Cached is BenchmarkFeedPage20 with a relations cache,
// as feedd reads: the relations version read instead of the relations
// scans.
func BenchmarkFeedPage20Cached(b *testing.B) {
	rels, err := rankcache.NewRelations(rankcache.DefaultRelationsBytes)
	if err != nil {
		b.Fatal(err)
	}
	defer rels.Close()
	benchmarkFeedPage20(b, timeline.ReaderConfig{Relations: rels}, page{})
}

// page says what a benchmark's timeline holds besides posts, photos and
// Class aggregates.
type page struct{ comments, reacting bool }

func benchmarkFeedPage20(b *testing.B, cfg timeline.ReaderConfig, with page) {
	st, err := pebblestore.Open(b.TempDir(), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	ctx := context.Background()
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: clock,
		Comments: st.Comments()})
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
	for i := 0; i < 800; i++ {
		actor := int64(2 + i%friends)
		id := "e" + strconv.Itoa(i)
		ev := schema.Event{V: 1, ID: id, Type: schema.Post, Actor: actor, Object: id, Text: "some text of a post", TS: ts + int64(i)*1000}
		switch i % 4 {
		case 1:
			ev.Type, ev.Media = schema.Photo, []string{"https://img.example/" + id + ".jpg"}
		case 3:
			ev.Type, ev.Object, ev.Target, ev.Text = schema.Class, "e"+strconv.Itoa(i-2), int64(2+(i-2)%friends), ""
		case 2:
			if with.comments && i%8 == 6 {
				ev.Type, ev.Object = schema.Comment, "e"+strconv.Itoa(i-2)
			}
		}
		evs = append(evs, ev)
		if with.reacting && i%5 == 0 {
			evs = append(evs, schema.Event{V: 1, ID: "r" + id, Type: schema.React, Actor: viewer, Target: actor,
				Object: id, Reaction: []string{"love", "lol", "wow", "sad"}[i/5%4], TS: ev.TS + 500})
		}
	}
	if _, err := engine.Apply(ctx, evs); err != nil {
		b.Fatal(err)
	}
	cfg.Now = clock
	if with.comments {
		cfg.Comments = st.Comments()
	}
	reader := timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), cfg)
	p, err := reader.Page(ctx, viewer, timeline.Position{}, 20)
	if err != nil || len(p.Items) != 20 {
		b.Fatalf("page: %d items, %v", len(p.Items), err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := reader.Page(ctx, viewer, timeline.Position{}, 20); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
