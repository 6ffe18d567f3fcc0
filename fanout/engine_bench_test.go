package fanout_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// befriend makes author friends with users first..first+n-1 directly in
// the graph store (setup, not the code under test).
func befriend(b testing.TB, e *env, author int64, first, n int64) {
	ctx := context.Background()
	edges := make([]graph.Edge, 0, 2*n)
	for u := first; u < first+n; u++ {
		st := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: author, To: u, On: true, Stamp: st},
			graph.Edge{Rel: graph.Friend, From: u, To: author, On: true, Stamp: st})
	}
	if err := e.st.Graph().SetEdges(ctx, edges); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFanoutPostTo1000Friends applies one post whose author has 1,000
// friends: 1,000 home rows plus the author's outbox and home.
func BenchmarkFanoutPostTo1000Friends(b *testing.B) {
	t := &testing.T{}
	e := newEnv(t, fanout.Config{})
	befriend(b, e, 1, 1000, 1000)
	ctx := context.Background()
	ts := e.now.UnixMilli() - 3600_000
	evs := make([]schema.Event, 1)
	b.ReportAllocs()
	b.ResetTimer()
	deliveries := 0
	for i := 0; b.Loop(); i++ {
		evs[0] = schema.Event{V: 1, ID: "p" + strconv.Itoa(i), Type: schema.Post, Actor: 1,
			Object: "p" + strconv.Itoa(i), Audience: "public", Text: "hello", TS: ts + int64(i)}
		res, err := e.engine.Apply(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		deliveries += res.Deliveries
	}
	b.ReportMetric(float64(deliveries)/b.Elapsed().Seconds(), "deliveries/s")
}
