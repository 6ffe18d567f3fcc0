package fanout_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// The wide store interfaces, and so every store, satisfy the engine's
// narrow ones (checked when the tests compile).
var (
	_ fanout.Graph     = graph.Store(nil)
	_ fanout.Objects   = objects.Store(nil)
	_ fanout.Timelines = timeline.Store(nil)
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

// forgetful is a ledger that never remembers: every re-delivery is applied
// again, so this proves idempotency by construction.
type forgetful struct{}

func (forgetful) Seen(_ context.Context, ids []string) ([]fanout.LedgerMark, error) {
	return make([]fanout.LedgerMark, len(ids)), nil
}
func (forgetful) Record(context.Context, []string, []uint64, int64) error { return nil }

func TestReplayWithoutLedgerChangesNothing(t *testing.T) {
	e := newEnv(t, fanout.Config{})
	e.engine = fanout.NewEngine(e.st.Graph(), e.st.Objects(), e.st.Timelines(), forgetful{},
		fanout.Config{Now: func() time.Time { return e.now }})
	evs := []schema.Event{
		{ID: "g1", Type: schema.Friend, Actor: 1, Target: 2},
		{ID: "g2", Type: schema.Friend, Actor: 1, Target: 3},
		{ID: "g3", Type: schema.Follow, Actor: 4, Target: 1},
		{ID: "p1", Type: schema.Photo, Actor: 1, Object: "ph", Media: []string{"m"}},
		{ID: "p2", Type: schema.Post, Actor: 2, Text: "hi"},
		{ID: "c1", Type: schema.Class, Actor: 2, Target: 1, Object: "ph"},
		{ID: "c2", Type: schema.Class, Actor: 3, Target: 1, Object: "ph"},
		{ID: "u2", Type: schema.Unclass, Actor: 3, Target: 1, Object: "ph"},
		{ID: "p3", Type: schema.Post, Actor: 1, Text: "to delete"},
		{ID: "d3", Type: schema.Delete, Actor: 1, Object: "p3"},
		{ID: "x1", Type: schema.Unfriend, Actor: 1, Target: 3},
		{ID: "b1", Type: schema.Block, Actor: 4, Target: 2},
	}
	e.apply(evs...)
	snapshot := func() string {
		var s string
		for u := int64(1); u <= 4; u++ {
			s += fmt.Sprintf("%d: %+v\n", u, e.feed(u))
		}
		return s
	}
	before := snapshot()
	if f1 := e.feed(1); len(f1) != 3 || f1[0].Type != "class" || f1[0].ActorCount != 1 || f1[0].ClassCount != 1 {
		t.Fatalf("feed of 1 before replays: %+v", f1) // c1 aggregate, p2, own photo
	}
	if f4 := e.feed(4); len(f4) != 1 || f4[0].EventID != "p1" {
		t.Fatalf("feed of 4 before replays: %+v", f4) // follows 1, blocked 2
	}
	for round := 0; round < 3; round++ {
		e.apply(evs...) // in order again
		rev := make([]schema.Event, len(evs))
		for i := range evs {
			rev[i] = evs[len(evs)-1-i]
		}
		e.apply(rev...) // and out of order
		if after := snapshot(); after != before {
			t.Fatalf("replay %d changed feeds:\nbefore:\n%s\nafter:\n%s", round, before, after)
		}
	}
	counts, err := e.st.Objects().ClassCounts(context.Background(), []string{"ph"})
	if err != nil || counts[0] != 1 {
		t.Fatalf("class count after replays: %v %v", counts, err)
	}
}

type recorder struct{ got []string }

func (r *recorder) Applied(_ context.Context, ev *schema.Event, eff *fanout.Effect) error {
	r.got = append(r.got, fmt.Sprintf("%s:%v:%v", ev.ID, eff.Recipients, eff.Mark.On))
	return nil
}

func TestHooksSeeOnlyEventsThatTookEffect(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, fanout.Config{})
	e.engine = fanout.NewEngine(e.st.Graph(), e.st.Objects(), e.st.Timelines(), forgetful{},
		fanout.Config{Now: func() time.Time { return e.now }, Hooks: []fanout.Hook{rec}})
	evs := []schema.Event{
		{ID: "g1", Type: schema.Friend, Actor: 1, Target: 2},
		{ID: "p1", Type: schema.Post, Actor: 1, Text: "x"},
		{ID: "c1", Type: schema.Class, Actor: 2, Target: 1, Object: "p1"},
		{ID: "c2", Type: schema.Class, Actor: 2, Target: 1, Object: "p1"}, // already on: no effect
		{ID: "u1", Type: schema.Unclass, Actor: 2, Target: 1, Object: "p1"},
	}
	e.apply(evs...)
	want := "g1:[]:false p1:[2]:false c1:[]:true u1:[]:false"
	if got := strings.Join(rec.got, " "); got != want {
		t.Fatalf("hooks saw %q, want %q", got, want)
	}
	rec.got = nil
	e.apply(evs[2]) // a late copy of c1 after its unclass: stale
	if len(rec.got) != 0 {
		t.Fatalf("hooks saw a stale event: %v", rec.got)
	}
}

// With Overlap the engine waits for an item's audience reads and a
// flush's trims together; what it writes is the same as one by one: every
// friend gets the post, a public post reaches a follower, a friends-only
// one does not, and a timeline picked for a trim keeps its cap.
func TestOverlapWritesWhatSequentialDoes(t *testing.T) {
	for _, overlap := range []int{0, 8} {
		t.Run(fmt.Sprint("overlap ", overlap), func(t *testing.T) {
			e := newEnv(t, fanout.Config{Overlap: overlap, TrimEvery: 1, Policy: timeline.Policy{Cap: 3, MaxAge: 72 * time.Hour}})
			var graph []schema.Event
			for u := int64(2); u <= 20; u++ {
				graph = append(graph, schema.Event{V: 1, ID: fmt.Sprint("f", u), Type: schema.Friend, Actor: 1, Target: u})
			}
			graph = append(graph, schema.Event{V: 1, ID: "w", Type: schema.Follow, Actor: 30, Target: 1})
			e.apply(graph...)
			var posts []schema.Event
			for i := range 5 {
				posts = append(posts, schema.Event{V: 1, ID: fmt.Sprint("p", i), Type: schema.Post, Actor: 1, Object: fmt.Sprint("p", i), Text: "x"})
			}
			posts = append(posts, schema.Event{V: 1, ID: "q", Type: schema.Post, Actor: 1, Object: "q", Text: "x", Audience: "friends"})
			res := e.apply(posts...)
			if want := 5*20 + 19; res.Deliveries != want {
				t.Errorf("deliveries %d, want %d", res.Deliveries, want)
			}
			for _, u := range []int64{2, 20} {
				if got := e.feed(u); len(got) != 3 || got[0].Object != "q" {
					t.Errorf("feed of friend %d: %d items (cap 3), first %+v", u, len(got), got)
				}
			}
			if got := e.feed(30); len(got) != 3 || got[0].Object != "p4" {
				t.Errorf("feed of the follower: %d items, first %+v", len(got), got)
			}
		})
	}
}
