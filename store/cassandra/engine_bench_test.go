package cassandrastore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// BenchmarkEngineFanoutPostTo1000Friends applies one post whose author has
// 1,000 friends through the fan-out engine on Cassandra: the object, the
// author's outbox and home rows, the audience reads, 1,000 home rows and
// the ledger. Compare its deliveries/s with BenchmarkRawInsert1000's rows/s.
func BenchmarkEngineFanoutPostTo1000Friends(b *testing.B) {
	s := shared(b)
	ctx := context.Background()
	author := time.Now().UnixNano() % 1_000_000_000 // fresh ids per run
	var edges []graph.Edge
	for u := author + 1; u <= author+1000; u++ {
		st := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: author, To: u, On: true, Stamp: st},
			graph.Edge{Rel: graph.Friend, From: u, To: author, On: true, Stamp: st})
	}
	if err := s.Graph().SetEdges(ctx, edges); err != nil {
		b.Fatal(err)
	}
	engine := fanout.NewEngine(s.Graph(), s.Objects(), s.Timelines(), s.Ledger(), fanout.Config{Overlap: 8}) // as feedd on Cassandra
	ts := time.Now().UnixMilli()
	evs := make([]schema.Event, 1)
	apply := func(id string, i int) int {
		evs[0] = schema.Event{V: 1, ID: id, Type: schema.Post, Actor: author, Object: id,
			Audience: "public", Text: "hello", TS: ts + int64(i)}
		res, err := engine.Apply(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		return res.Deliveries
	}
	for i := range benchWarmup {
		apply("warm-"+strconv.FormatInt(author, 10)+"-"+strconv.Itoa(i), i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	deliveries := 0
	for i := 0; b.Loop(); i++ {
		deliveries += apply("p-"+strconv.FormatInt(author, 10)+"-"+strconv.Itoa(i), benchWarmup+i)
	}
	b.ReportMetric(float64(deliveries)/b.Elapsed().Seconds(), "deliveries/s")
}
