package fanout_test

import (
	"context"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

type env struct {
	t      *testing.T
	st     *pebblestore.Store
	engine *fanout.Engine
	reader *timeline.Reader
	now    time.Time
	n      int64
}

func newEnv(t *testing.T, cfg fanout.Config) *env {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	cfg.Now = func() time.Time { return now }
	e := &env{t: t, st: st, now: now}
	e.engine = fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), cfg)
	e.reader = timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), timeline.ReaderConfig{Now: cfg.Now})
	return e
}

func (e *env) apply(evs ...schema.Event) fanout.Result {
	e.t.Helper()
	for i := range evs {
		if evs[i].TS == 0 {
			e.n++
			evs[i].TS = e.now.UnixMilli() - 3600_000 + e.n*1000
		}
		if err := evs[i].Normalize(e.now); err != nil {
			e.t.Fatal(err)
		}
	}
	res, err := e.engine.Apply(context.Background(), evs)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) feed(user int64) []timeline.Item {
	e.t.Helper()
	p, err := e.reader.Page(context.Background(), user, timeline.Position{}, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}

func TestClassAggregate(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	res := e.apply(
		schema.Event{ID: "g1", Type: schema.Friend, Actor: 1, Target: 2},
		schema.Event{ID: "g2", Type: schema.Friend, Actor: 1, Target: 3},
		schema.Event{ID: "g3", Type: schema.Friend, Actor: 2, Target: 3},
		schema.Event{ID: "p", Type: schema.Photo, Actor: 1, Object: "ph", Media: []string{"m"}},
		schema.Event{ID: "c1", Type: schema.Class, Actor: 3, Target: 1, Object: "ph"},
		schema.Event{ID: "c2", Type: schema.Class, Actor: 2, Target: 1, Object: "ph"},
	)
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected: %+v", res.Rejected)
	}
	ms, err := e.st.Timelines().Markers(context.Background(), 1, "ph")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("markers of user 1: %+v", ms)
	items := e.feed(1)
	for _, it := range items {
		t.Logf("%+v", it)
	}
	if len(items) != 2 || items[0].Type != "class" || items[0].ActorCount != 2 || items[0].ClassCount != 2 {
		t.Fatalf("feed of 1: %+v", items)
	}
}
