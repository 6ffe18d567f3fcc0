package timeline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

type mapCounts struct {
	mu sync.Mutex
	m  map[string]timeline.CachedCount
}

func (c *mapCounts) Get(id string) (timeline.CachedCount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	return v, ok
}

func (c *mapCounts) Set(id string, v timeline.CachedCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = v
}

// The ranking window's Class counts come from the counts cache while an
// entry is younger than CountsMaxAge, and from the store after; a page
// that is shown (Page) always reads them from the store.
func TestCandidatesReuseCountsForTheirMaxAge(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: clock})
	var edges []graph.Edge
	for _, f := range []int64{1, 3, 4} { // 1 reads 2's post; 3 and 4 give it Class
		s := schema.Stamp{TS: 1, ID: "setup"}
		edges = append(edges, graph.Edge{Rel: graph.Friend, From: 2, To: f, On: true, Stamp: s},
			graph.Edge{Rel: graph.Friend, From: f, To: 2, On: true, Stamp: s})
	}
	if err := st.Graph().SetEdges(ctx, edges); err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	apply := func(ev schema.Event) {
		t.Helper()
		n++
		ev.V, ev.TS = 1, now.UnixMilli()-3600_000+n*1000
		if err := ev.Normalize(now); err != nil {
			t.Fatal(err)
		}
		if res, err := engine.Apply(ctx, []schema.Event{ev}); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("apply %s: %v %+v", ev.ID, err, res.Rejected)
		}
	}
	apply(schema.Event{ID: "p1", Type: schema.Post, Actor: 2, Object: "p1", Text: "hi"})
	apply(schema.Event{ID: "c3", Type: schema.Class, Actor: 3, Target: 2, Object: "p1"})

	cache := &mapCounts{m: map[string]timeline.CachedCount{}}
	rd := timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), timeline.ReaderConfig{Now: clock,
		Counts: cache, CountsMaxAge: 5 * time.Second})
	countOf := func(items []timeline.Item) int64 {
		t.Helper()
		for _, it := range items {
			if it.Object == "p1" && it.Type == "post" {
				return it.ClassCount
			}
		}
		t.Fatalf("p1 is not among %+v", items)
		return 0
	}
	candidates := func() int64 {
		t.Helper()
		items, _, err := rd.Candidates(ctx, 1, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		return countOf(items)
	}
	if got := candidates(); got != 1 {
		t.Fatalf("first candidates: count %d, want 1", got)
	}
	apply(schema.Event{ID: "c4", Type: schema.Class, Actor: 4, Target: 2, Object: "p1"})
	if got := candidates(); got != 1 {
		t.Errorf("candidates within the max age: count %d, want the cached 1", got)
	}
	p, err := rd.Page(ctx, 1, timeline.Position{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if got := countOf(p.Items); got != 2 {
		t.Errorf("a page shown: count %d, want the store's 2", got)
	}
	now = now.Add(5 * time.Second)
	if got := candidates(); got != 2 {
		t.Errorf("candidates at the max age: count %d, want the store's 2", got)
	}
	if s := rd.CountsStats(); s.Hits == 0 || s.Misses == 0 {
		t.Errorf("stats %+v: want hits and misses", s)
	}
}
