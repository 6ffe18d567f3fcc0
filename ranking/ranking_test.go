package ranking

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

const hour = int64(3_600_000)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b)) }

func newRanker(t testing.TB) *Ranker {
	t.Helper()
	r, err := NewRanker(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFreshness(t *testing.T) {
	r := newRanker(t)
	for _, tc := range []struct {
		age  int64
		want float64
	}{{0, 1}, {-5 * hour, 1}, {6 * hour, 0.5}, {12 * hour, 0.25}, {3 * hour, math.Sqrt(0.5)}, {60 * hour, 1.0 / 1024}} {
		if got := r.Freshness(tc.age); !near(got, tc.want) {
			t.Errorf("Freshness(%dh) = %v, want %v", tc.age/hour, got, tc.want)
		}
	}
}

func TestAffinity(t *testing.T) {
	r := newRanker(t)
	day := 24 * hour
	for _, tc := range []struct {
		name string
		in   []seenAt // interactions: age, weight
		want float64
	}{
		{"none", nil, 1},
		{"one class now", []seenAt{{0, 1}}, 2},
		{"a class one half-life ago", []seenAt{{14 * day, 1}}, 1.5},
		{"gift two half-lives ago + class now", []seenAt{{28 * day, 3}, {0, 1}}, 1 + 0.75 + 1},
		{"unclass cancels", []seenAt{{0, 1}, {0, -1}}, 1},
		{"more unclass than class floors at the prior", []seenAt{{0, -1}}, 1},
		{"capped", []seenAt{{0, 15}, {0, 15}}, 21},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := 0.0
			for _, x := range tc.in {
				sum += x.w * r.Decay(x.age)
			}
			if got := r.Affinity(sum); !near(got, tc.want) {
				t.Errorf("affinity = %v, want %v", got, tc.want)
			}
		})
	}
}

type seenAt struct {
	age int64
	w   float64
}

func TestEngagement(t *testing.T) {
	r := newRanker(t)
	for _, tc := range []struct {
		classes int64
		age     int64
		want    float64
	}{
		{0, hour, 1},
		{-2, hour, 1},
		// 1 + 0.15 ln 4 + 0.3 ln(1 + 3/2)
		{3, 2 * hour, 1 + 0.15*math.Log(4) + 0.3*math.Log(2.5)},
		// younger than an hour counts as an hour: 1 + 0.15 ln 4 + 0.3 ln 4
		{3, 60_000, 1 + 0.45*math.Log(4)},
		// growth: the same count spread over 10 hours boosts less
		{99, 10 * hour, 1 + 0.15*math.Log(100) + 0.3*math.Log(1+9.9)},
	} {
		if got := r.Engagement(tc.classes, tc.age); !near(got, tc.want) {
			t.Errorf("Engagement(%d, %dms) = %v, want %v", tc.classes, tc.age, got, tc.want)
		}
	}
}

func TestTypeWeight(t *testing.T) {
	r := newRanker(t)
	for _, tc := range []struct {
		it          timeline.Item
		want, boost float64
	}{
		{timeline.Item{Type: "post"}, 1, 1},
		{timeline.Item{Type: "photo"}, 1.3, 1},
		{timeline.Item{Type: "class"}, 0.7, 1},
		{timeline.Item{Type: "gift"}, 0.8, 1},
		{timeline.Item{Type: "live", Live: true}, 1.5, 4},
		{timeline.Item{Type: "live"}, 1.5, 1}, // not live: no boost
	} {
		w, b := r.TypeWeight(&tc.it)
		if w != tc.want || b != tc.boost {
			t.Errorf("%s live=%v: %v x %v, want %v x %v", tc.it.Type, tc.it.Live, w, b, tc.want, tc.boost)
		}
	}
}

func TestScoreAndExplainAddUp(t *testing.T) {
	r := newRanker(t)
	now := int64(1_700_000_000_000)
	for _, tc := range []struct {
		name string
		it   timeline.Item
		sum  float64
		want float64
	}{
		// 1.3 (photo) x 10 (prior 1 + 9) x 0.5 (one half-life) x 1 (no classes)
		{"close friend's photo", timeline.Item{Type: "photo", TS: now - 6*hour}, 9, 6.5},
		// 1 x 1 x 0.25 x 1
		{"stranger's older post", timeline.Item{Type: "post", TS: now - 12*hour}, 0, 0.25},
		// 1.5 x 4 x 3 x 1 x (1 + 0.15 ln 2 + 0.3 ln 2)
		{"live broadcast", timeline.Item{Type: "live", Live: true, TS: now, ClassCount: 1}, 2, 18 * (1 + 0.45*math.Ln2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := r.Signals(now, &tc.it, tc.sum)
			if !near(x.Score, tc.want) {
				t.Errorf("score = %v, want %v (%+v)", x.Score, tc.want, x)
			}
			if p := x.TypeWeight * x.LiveBoost * x.Affinity * x.Freshness * x.Engagement * x.Diversity; !near(p, x.Score) {
				t.Errorf("factors multiply to %v, score is %v", p, x.Score)
			}
		})
	}
}

func post(id string, actor, ts int64) timeline.Item {
	return timeline.Item{EventID: id, Type: "post", Actor: actor, Object: id, TS: ts}
}

func TestRankDiversityAndAggregates(t *testing.T) {
	r := newRanker(t)
	now := int64(1_700_000_000_000)
	items := []timeline.Item{
		post("a1", 1, now), post("a2", 1, now-1), post("a3", 1, now-2), post("a4", 1, now-3), post("a5", 1, now-4),
		post("b1", 2, now-5*hour), // half a half-life older: 0.5^(5/6) = 0.561
		{EventID: "c1", Type: "class", Actor: 3, Owner: 4, Object: "x", TS: now},
		{EventID: "c2", Type: "class", Actor: 5, Owner: 4, Object: "x", TS: now - 10}, // same object: dropped
	}
	sums := make([]float64, len(items))
	ranked := r.Rank(now, items, sums)
	var got []string
	for _, rk := range ranked {
		got = append(got, items[rk.Index].EventID)
		if p := rk.Explain.TypeWeight * rk.Explain.LiveBoost * rk.Explain.Affinity * rk.Explain.Freshness *
			rk.Explain.Engagement * rk.Explain.Diversity; !near(p, rk.Explain.Score) {
			t.Errorf("%s: factors multiply to %v, score %v", items[rk.Index].EventID, p, rk.Explain.Score)
		}
	}
	// a1 1, c1 0.7, b1 0.561, a2 0.5, then a3..a5 at the 0.25 floor.
	want := []string{"a1", "c1", "b1", "a2", "a3", "a4", "a5"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i, d := range []float64{1, 1, 1, 0.5, 0.25, 0.25, 0.25} {
		if ranked[i].Explain.Diversity != d {
			t.Errorf("%s: diversity %v, want %v", got[i], ranked[i].Explain.Diversity, d)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name, json, err string
		check           func(c Config) bool
	}{
		{"empty takes defaults", `{}`, "", func(c Config) bool { return c == Defaults() }},
		{"subset", `{"window": 50, "freshness_half_life": "90m", "types": {"photo": 2}}`, "", func(c Config) bool {
			return c.Window == 50 && time.Duration(c.FreshnessHalfLife) == 90*time.Minute && c.Types.Photo == 2 && c.Types.Post == 1
		}},
		{"an explicit zero is a zero", `{"types": {"class": 0}, "engagement_weight": 0, "interactions": {"friend": 0}}`, "", func(c Config) bool {
			d := Defaults()
			return c.Types.Class == 0 && c.EngagementWeight == 0 && c.Interactions.Friend == 0 &&
				c.Types.Post == d.Types.Post && c.Interactions.Class == d.Interactions.Class && c.GrowthWeight == d.GrowthWeight
		}},
		{"zero affinity prior", `{"affinity_prior": 0}`, "affinity_prior", nil},
		{"unknown key", `{"windw": 5}`, "unknown field", nil},
		{"bad duration", `{"snapshot_ttl": "soon"}`, "duration", nil},
		{"duration as number", `{"snapshot_ttl": 5}`, "duration", nil},
		{"out of range", `{"diversity_floor": 2}`, "diversity_floor", nil},
		{"negative type weight", `{"types": {"post": -1}}`, "types.post", nil},
		{"window too large", `{"window": 100000}`, "window", nil},
		{"trailing data", `{} {}`, "trailing", nil},
		{"not json", `window=5`, "ranking config", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.json))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("config %+v, %v", c, err)
			}
		})
	}
}

// A ranker refuses an incomplete config instead of filling it in: the zero
// Config has no window and no half-lives.
func TestNewRankerRefusesTheZeroConfig(t *testing.T) {
	if _, err := NewRanker(Config{}); err == nil {
		t.Fatal("NewRanker accepted the zero Config")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	cs := NewCursors([]byte("secret"))
	for _, c := range []Cursor{{Snapshot: 7, Offset: 0}, {Snapshot: math.MaxUint64, Offset: 300}, {Tail: timeline.Position{TS: 5, ID: "e1"}}} {
		s := cs.Encode(9, c)
		got, err := cs.Decode(9, s)
		if err != nil || got != c {
			t.Errorf("round trip %+v: %+v, %v", c, got, err)
		}
		if _, err := cs.Decode(10, s); err == nil {
			t.Errorf("cursor %+v accepted for another viewer", c)
		}
		if _, err := NewCursors([]byte("other")).Decode(9, s); err == nil {
			t.Errorf("cursor %+v accepted under another key", c)
		}
	}
	recent := timeline.NewCursors([]byte("secret")).Encode(9, timeline.Position{TS: 5, ID: "e1"})
	if _, err := cs.Decode(9, recent); err == nil {
		t.Error("a newest-first cursor passed for a ranked one")
	}
}

func TestHookInteractions(t *testing.T) {
	h := &Hook{Store: NewMemoryStore(), Ranker: newRanker(t)}
	ts := int64(1_700_000_000_000)
	for _, tc := range []struct {
		ev   schema.Event
		want []string // viewer>author:weight
	}{
		{schema.Event{ID: "c", Type: schema.Class, Actor: 1, Target: 2, TS: ts}, []string{"1>2:1"}},
		{schema.Event{ID: "u", Type: schema.Unclass, Actor: 1, Target: 2, TS: ts}, []string{"1>2:-1"}},
		{schema.Event{ID: "g", Type: schema.Gift, Actor: 1, Target: 2, TS: ts}, []string{"1>2:3", "2>1:1"}},
		{schema.Event{ID: "ga", Type: schema.GroupAdd, Actor: 1, Target: 2, TS: ts}, []string{"1>2:4"}},
		{schema.Event{ID: "f", Type: schema.Friend, Actor: 1, Target: 2, TS: ts}, []string{"1>2:0.5", "2>1:0.5"}},
		{schema.Event{ID: "p", Type: schema.Post, Actor: 1, TS: ts}, nil},
		{schema.Event{ID: "self", Type: schema.Class, Actor: 1, Target: 1, TS: ts}, nil},
	} {
		var got []string
		for _, x := range h.Interactions(&tc.ev, &fanout.Effect{}, nil) {
			got = append(got, fmt.Sprintf("%d>%d:%v", x.Viewer, x.Author, x.Weight))
			if x.EventID != tc.ev.ID || x.TS != ts || x.Until != ts+8*14*24*hour {
				t.Errorf("%s: %+v", tc.ev.ID, x)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.ev.ID, got, tc.want)
		}
	}
	// Applied twice (a retried batch) counts once.
	ev := schema.Event{ID: "c9", Type: schema.Class, Actor: 1, Target: 2, TS: ts}
	eff := &fanout.Effect{Mark: objects.Mark{Owner: 2}}
	for range 2 {
		if err := h.Applied(t.Context(), &ev, eff); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	_ = h.Store.Interactions(t.Context(), 1, []int64{2}, 0, func(int, int64, float64) { n++ })
	if n != 1 {
		t.Errorf("re-delivered class recorded %d times", n)
	}
}

// fakeTimeline serves a fixed candidate list; deleted ids vanish on
// Hydrate and Window.
type fakeTimeline struct {
	items   []timeline.Item // newest first
	deleted map[string]bool
	// version is what Version returns when set; else a fingerprint of
	// the live items (as a store's version would change).
	version uint64
}

func (f *fakeTimeline) Head(context.Context, int64) (timeline.Head, error) {
	if f.version != 0 {
		return timeline.Head{Version: f.version}, nil
	}
	h := fnv.New64a()
	for _, it := range f.live() {
		h.Write([]byte(it.EventID))
		h.Write([]byte{0})
	}
	return timeline.Head{Version: h.Sum64()}, nil
}

func (f *fakeTimeline) HydrateWith(ctx context.Context, viewer int64, _ *graph.Relations, es []timeline.Entry) ([]timeline.Item, error) {
	return f.Hydrate(ctx, viewer, es)
}

func (f *fakeTimeline) live() []timeline.Item {
	var out []timeline.Item
	for _, it := range f.items {
		if !f.deleted[it.EventID] {
			out = append(out, it)
		}
	}
	return out
}

func (f *fakeTimeline) Candidates(_ context.Context, _ int64, _ *graph.Relations, n int) ([]timeline.Item, timeline.Position, error) {
	all := f.live()
	if len(all) <= n {
		return all, timeline.Position{}, nil
	}
	last := all[n-1]
	return all[:n], timeline.Position{TS: last.TS, ID: last.EventID}, nil
}

func (f *fakeTimeline) Hydrate(_ context.Context, _ int64, es []timeline.Entry) ([]timeline.Item, error) {
	var out []timeline.Item
	for _, e := range es {
		for _, it := range f.live() {
			if it.EventID == e.ID {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

func (f *fakeTimeline) Page(_ context.Context, _ int64, after timeline.Position, limit int) (timeline.Page, error) {
	var out timeline.Page
	for _, it := range f.live() {
		if (timeline.Position{TS: it.TS, ID: it.EventID}).Before(after) {
			out.Items = append(out.Items, it)
		}
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		last := out.Items[limit-1]
		out.Next = timeline.Position{TS: last.TS, ID: last.EventID}
	}
	return out, nil
}

// mapCache is an unbounded OrderCache.
type mapCache struct {
	mu sync.Mutex
	m  map[int64]*Order
}

func newMapCache() *mapCache { return &mapCache{m: map[int64]*Order{}} }

func (c *mapCache) Get(viewer int64) (*Order, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.m[viewer]
	return o, ok
}

func (c *mapCache) Set(viewer int64, o *Order) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[viewer] = o
}

func TestReaderPagesAreStable(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", cached), func(t *testing.T) { testReaderPagesAreStable(t, cached) })
	}
}

func testReaderPagesAreStable(t *testing.T, cached bool) {
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	ft := &fakeTimeline{deleted: map[string]bool{}}
	for i := range 40 {
		ft.items = append(ft.items, post(fmt.Sprintf("e%02d", 40-i), int64(2+i%7), now.UnixMilli()-int64(i)*600_000))
	}
	mem := NewMemoryStore()
	cfg := Defaults()
	cfg.Window = 25
	rk, err := NewRanker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Viewer 1 cares about user 5.
	_ = mem.AddInteractions(t.Context(), []Interaction{{Viewer: 1, Author: 5, EventID: "g", TS: now.UnixMilli(), Weight: 10, Until: math.MaxInt64}})
	var opts []ReaderOption
	if cached {
		opts = append(opts, WithOrderCache(newMapCache(), time.Minute))
	}
	rd := NewReader(ft, mem, mem, NewCursors([]byte("k")), rk, clock, opts...)

	first, err := rd.Ranked(t.Context(), 1, "", 4, true)
	if err != nil {
		t.Fatal(err)
	}
	if first.Items[0].Actor != 5 || first.Items[0].Explain == nil {
		t.Fatalf("first item %+v: want the close friend's newest post, explained", first.Items[0])
	}
	seen := map[string]bool{}
	var walked []string
	add := func(p Page) {
		for _, it := range p.Items {
			if seen[it.EventID] {
				t.Fatalf("item %s repeated", it.EventID)
			}
			seen[it.EventID] = true
			walked = append(walked, it.EventID)
		}
	}
	add(first)
	// While walking: new items arrive, one listed item is deleted.
	ft.items = append([]timeline.Item{post("new1", 5, now.UnixMilli()+1)}, ft.items...)
	deletedLater := ""
	cursor := first.Next
	for pages := 0; cursor != ""; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		p, err := rd.Ranked(t.Context(), 1, cursor, 4, true)
		if err != nil {
			t.Fatal(err)
		}
		add(p)
		if pages == 0 {
			// Delete something the snapshot still holds.
			for _, it := range ft.items {
				if !seen[it.EventID] && it.EventID != "new1" && it.TS > now.UnixMilli()-20*600_000 {
					deletedLater = it.EventID
					ft.deleted[it.EventID] = true
					break
				}
			}
		}
		cursor = p.Next
	}
	if seen["new1"] {
		t.Error("an item that arrived mid-walk showed up in the walk")
	}
	// Everything of the original 40 but the deleted one, exactly once.
	if len(walked) != 39 || seen[deletedLater] {
		t.Errorf("walked %d items (deleted %s seen=%v): %v", len(walked), deletedLater, seen[deletedLater], walked)
	}
	// An expired snapshot is ErrExpired.
	now = now.Add(31 * time.Minute)
	if _, err := rd.Ranked(t.Context(), 1, first.Next, 4, false); !errors.Is(err, ErrExpired) {
		t.Errorf("expired cursor: %v", err)
	}
}

func TestReactionInteractions(t *testing.T) {
	h := &Hook{Ranker: newRanker(t)}
	w := h.Ranker.cfg.Interactions
	class := objects.Mark{Owner: 9, On: true}
	love := objects.Mark{Owner: 9, On: true, Kind: "love"}
	offClass := objects.Mark{Owner: 9}
	offLove := objects.Mark{Owner: 9, Kind: "love"}
	for _, tc := range []struct {
		name          string
		typ           schema.Type
		before, after objects.Mark
		want          float64 // 0: no interaction
	}{
		{"react class", schema.React, offClass, class, w.Class},
		{"react love", schema.React, objects.Mark{}, love, 0},
		{"class replaced by love", schema.React, class, love, w.Unclass},
		{"love replaced by class", schema.React, love, class, w.Class},
		{"unreact of a Class!", schema.Unreact, class, offClass, w.Unclass},
		{"unreact of love", schema.Unreact, love, offLove, 0},
		{"unclass of love", schema.Unclass, love, offLove, 0},
		{"unclass of a Class!", schema.Unclass, class, offClass, w.Unclass},
	} {
		ev := schema.Event{ID: "e", Type: tc.typ, Actor: 2, Target: 9, Object: "p", TS: 1}
		got := h.Interactions(&ev, &fanout.Effect{Before: tc.before, Mark: tc.after}, nil)
		switch {
		case tc.want == 0 && len(got) != 0:
			t.Errorf("%s: %+v, want none", tc.name, got)
		case tc.want != 0 && (len(got) != 1 || got[0].Weight != tc.want || got[0].Author != 9):
			t.Errorf("%s: %+v, want weight %v to 9", tc.name, got, tc.want)
		}
	}
}
