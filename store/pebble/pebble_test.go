package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/store/storetest"
	"github.com/lenta-dev/lenta/timeline"
)

func openAt(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newStore opens a store in a fresh folder, closed at the end of the test.
func newStore(t testing.TB) *Store {
	t.Helper()
	s := openAt(t, t.TempDir())
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGraphSuite(t *testing.T) {
	storetest.RunGraph(t, func(t *testing.T) graph.Store { return newStore(t).Graph() })
}

func TestObjectsSuite(t *testing.T) {
	storetest.RunObjects(t, func(t *testing.T) objects.Store { return newStore(t).Objects() })
}

func TestComments(t *testing.T) {
	storetest.RunComments(t, func(t *testing.T) objects.Comments { return newStore(t).Comments() })
}

func TestTimelineSuite(t *testing.T) {
	storetest.RunTimeline(t, func(t *testing.T) timeline.Store { return newStore(t).Timelines() })
}

func TestLedgerSuite(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) fanout.Ledger { return newStore(t).Ledger() })
}

func TestSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openAt(t, dir)
	must(t, s.Graph().SetEdges(ctx, []graph.Edge{
		{Rel: graph.Friend, From: 1, To: 2, On: true, Stamp: schema.Stamp{TS: 1, ID: "f"}},
		{Rel: graph.Friend, From: 2, To: 1, On: true, Stamp: schema.Stamp{TS: 1, ID: "f"}},
		{Rel: graph.Follow, From: 3, To: 1, On: true, Stamp: schema.Stamp{TS: 1, ID: "g"}},
	}))
	must(t, s.Graph().MarkLarge(ctx, 1))
	obj := objects.Object{ID: "p", Type: schema.Post, Author: 1, Text: "hi", Media: []string{"m"}, TS: 5, EventID: "p"}
	_, err := s.Objects().Put(ctx, obj)
	must(t, err)
	_, err = s.Objects().SetMark(ctx, objects.Mark{Object: "p", Actor: 2, Owner: 1, On: true, Stamp: schema.Stamp{TS: 6, ID: "c"}})
	must(t, err)
	e := timeline.Entry{TS: 6, ID: "c", Kind: timeline.KindClass, Actor: 2, Object: "p", Owner: 1}
	must(t, s.Timelines().Write(ctx, []timeline.Row{{NS: timeline.Home, User: 3, Entry: e}}))
	must(t, s.Ledger().Record(ctx, []string{"c"}, nil, 6))
	must(t, s.DeadLetters().Put(ctx, []fanout.DeadLetter{{Raw: []byte{1, 2}, Reason: "bad", TS: 7}}))
	must(t, s.Close())

	s = openAt(t, dir)
	defer func() { must(t, s.Close()) }()
	if n, err := s.Graph().AudienceSize(ctx, 1); err != nil || n != 2 {
		t.Errorf("AudienceSize after reopen = %d, %v; want 2", n, err)
	}
	if l, err := s.Graph().LargeAuthors(ctx); err != nil || !slices.Equal(l, []int64{1}) {
		t.Errorf("LargeAuthors after reopen = %v, %v", l, err)
	}
	got, err := s.Objects().Get(ctx, []string{"p"})
	must(t, err)
	if got[0].Text != "hi" || got[0].EventID != "p" || !slices.Equal(got[0].Media, obj.Media) {
		t.Errorf("object after reopen = %+v", got[0])
	}
	if n, err := s.Objects().ClassCounts(ctx, []string{"p"}); err != nil || n[0] != 1 {
		t.Errorf("ClassCounts after reopen = %v, %v", n, err)
	}
	page, err := s.Timelines().Page(ctx, timeline.Home, 3, timeline.Position{}, 10)
	must(t, err)
	if len(page) != 1 || page[0] != e {
		t.Errorf("page after reopen = %+v", page)
	}
	if ms, err := s.Timelines().Markers(ctx, 3, "p"); err != nil || len(ms) != 1 {
		t.Errorf("Markers after reopen = %v, %v", ms, err)
	}
	if seen, err := s.Ledger().Seen(ctx, []string{"c"}); err != nil || !seen[0].Found {
		t.Errorf("Seen after reopen = %v, %v", seen, err)
	}
	if dl, err := s.ListDeadLetters(ctx, 0); err != nil || len(dl) != 1 || dl[0].Reason != "bad" {
		t.Errorf("dead letters after reopen = %+v, %v", dl, err)
	}
}

func TestReopenRefusesOtherFormat(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	must(t, s.db.Set(metaKey(nil, metaFormat), []byte{0, 0, 0, 99}, nil))
	must(t, s.Close())
	if s, err := Open(dir, Options{}); err == nil {
		_ = s.Close()
		t.Fatal("Open accepted a data folder of another layout format")
	}
}

// ---- event log ----

// events makes n events for each actor, interleaved, ids "a<actor>-<i>".
func events(actors []int64, n int) []schema.Event {
	var evs []schema.Event
	for i := range n {
		for _, a := range actors {
			evs = append(evs, schema.Event{ID: evID(a, i), Type: schema.Post, Actor: a, Text: "x", TS: int64(1_700_000_000_000 + i)})
		}
	}
	return evs
}

func evID(actor int64, i int) string { return fmt.Sprintf("a%d-%05d", actor, i) }

// publishChunks publishes evs in chunks of size.
func publishChunks(t testing.TB, l *Log, evs []schema.Event, size int) {
	t.Helper()
	for len(evs) > 0 {
		n := min(size, len(evs))
		must(t, l.Publish(context.Background(), evs[:n]))
		evs = evs[n:]
	}
}

// collector records what a handler consumed.
type collector struct {
	mu       sync.Mutex
	byActor  map[int64][]string
	total    int
	badParts int
}

func newCollector() *collector { return &collector{byActor: map[int64][]string{}} }

func (c *collector) handle(l *Log, after func(total int)) Handler {
	return func(_ context.Context, p int, msgs [][]byte) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range msgs {
			ev, err := schema.UnmarshalMsgpack(m)
			if err != nil {
				return err
			}
			if l.PartitionOf(ev.Actor) != p {
				c.badParts++
			}
			c.byActor[ev.Actor] = append(c.byActor[ev.Actor], ev.ID)
			c.total++
		}
		if after != nil {
			after(c.total)
		}
		return nil
	}
}

// check verifies every event of every actor was consumed once, in order.
func (c *collector) check(t *testing.T, actors []int64, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.badParts > 0 {
		t.Errorf("%d messages were delivered on the wrong partition", c.badParts)
	}
	for _, a := range actors {
		want := make([]string, n)
		for i := range want {
			want[i] = evID(a, i)
		}
		if got := c.byActor[a]; !slices.Equal(got, want) {
			t.Errorf("actor %d: consumed %d events %v...,\nwant each of %d once, in order", a, len(got), got[:min(len(got), 8)], n)
		}
	}
}

// runLog runs l.Run in a goroutine; stop cancels it and returns its error.
func runLog(t *testing.T, l *Log, h Handler, batchMax int) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, h, batchMax) }()
	return func() error { cancel(); return <-done }
}

func waitIdle(t *testing.T, l *Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang guard only
	defer cancel()
	must(t, l.WaitIdle(ctx))
}

func TestLogExactlyOnceInOrderAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	actors := []int64{1, 2, 3, 4, 5, 6, 7, 300, 1 << 40}
	const n = 60
	s := openAt(t, dir)
	l, err := s.OpenLog(4)
	must(t, err)
	publishChunks(t, l, events(actors, n), 7)
	if got, want := l.Lag(), int64(len(actors)*n); got != want {
		t.Fatalf("Lag after publishing = %d, want %d", got, want)
	}

	// Consume part of it, then stop.
	c := newCollector()
	ctx, cancel := context.WithCancel(t.Context())
	must(t, l.Run(ctx, c.handle(l, func(total int) {
		if total >= 150 {
			cancel()
		}
	}), 5))
	cancel()
	firstPart := c.total
	if firstPart < 150 || firstPart >= len(actors)*n {
		t.Fatalf("first run consumed %d messages", firstPart)
	}
	if got, want := l.Lag(), int64(len(actors)*n-firstPart); got != want {
		t.Fatalf("Lag after the first run = %d, want %d", got, want)
	}
	must(t, s.Close())

	// Reopen and consume the rest; publish more meanwhile.
	s = openAt(t, dir)
	defer func() { must(t, s.Close()) }()
	l, err = s.OpenLog(4)
	must(t, err)
	if got, want := l.Lag(), int64(len(actors)*n-firstPart); got != want {
		t.Fatalf("Lag after reopening = %d, want %d", got, want)
	}
	stop := runLog(t, l, c.handle(l, nil), 5)
	more := events(actors, n+20)[len(actors)*n:]
	publishChunks(t, l, more, 3)
	waitIdle(t, l)
	must(t, stop())
	c.check(t, actors, n+20)
	if l.Lag() != 0 {
		t.Errorf("Lag after draining = %d", l.Lag())
	}
	// Everything consumed was deleted.
	if pending, err := s.anyKey([]byte{tLog}, []byte{tLog + 1}); err != nil || pending {
		t.Errorf("log keys left after draining: %v, %v", pending, err)
	}
}

func TestLogConcurrentPublish(t *testing.T) {
	s := newStore(t)
	l, err := s.OpenLog(3)
	must(t, err)
	c := newCollector()
	stop := runLog(t, l, c.handle(l, nil), 16)
	const writers, perActor = 8, 150
	var actors []int64
	var wg sync.WaitGroup
	for w := range writers {
		mine := []int64{int64(w*10 + 1), int64(w*10 + 2)}
		actors = append(actors, mine...)
		wg.Go(func() {
			evs := events(mine, perActor)
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for len(evs) > 0 {
				n := min(1+rnd.IntN(9), len(evs))
				if err := l.Publish(context.Background(), evs[:n]); err != nil {
					t.Error(err)
					return
				}
				evs = evs[n:]
			}
		})
	}
	wg.Wait()
	waitIdle(t, l)
	must(t, stop())
	c.check(t, actors, perActor)
}

func TestLogRedeliversAfterHandlerError(t *testing.T) {
	s := newStore(t)
	l, err := s.OpenLog(2)
	must(t, err)
	must(t, l.Publish(t.Context(), events([]int64{42}, 5)))
	var mu sync.Mutex
	var calls [][]string
	h := func(_ context.Context, _ int, msgs [][]byte) error {
		var ids []string
		for _, m := range msgs {
			ev, err := schema.UnmarshalMsgpack(m)
			if err != nil {
				return err
			}
			ids = append(ids, ev.ID)
		}
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, ids)
		if len(calls) <= 2 {
			return errors.New("transient")
		}
		return nil
	}
	stop := runLog(t, l, h, 100)
	waitIdle(t, l)
	must(t, stop())
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Fatalf("handler called %d times, want 3", len(calls))
	}
	want := []string{evID(42, 0), evID(42, 1), evID(42, 2), evID(42, 3), evID(42, 4)}
	for i, c := range calls {
		if !slices.Equal(c, want) {
			t.Errorf("call %d got %v, want %v", i, c, want)
		}
	}
}

func TestLogCancelDuringBackoffDoesNotCommit(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	l, err := s.OpenLog(1)
	must(t, err)
	must(t, l.Publish(t.Context(), events([]int64{1}, 3)))
	failed := make(chan struct{})
	var once sync.Once
	stop := runLog(t, l, func(context.Context, int, [][]byte) error {
		once.Do(func() { close(failed) })
		return errors.New("down")
	}, 10)
	<-failed
	must(t, stop())
	if l.Lag() != 3 {
		t.Errorf("Lag after a failing run = %d, want 3", l.Lag())
	}
	must(t, s.Close())
	s = openAt(t, dir)
	defer func() { must(t, s.Close()) }()
	l, err = s.OpenLog(1)
	must(t, err)
	if l.Lag() != 3 {
		t.Errorf("Lag after reopening = %d, want 3", l.Lag())
	}
}

func TestLogRecoversConsumedButNotDeleted(t *testing.T) {
	// As after a crash between committing an offset and the clean-up.
	dir := t.TempDir()
	s := openAt(t, dir)
	l, err := s.OpenLog(1)
	must(t, err)
	must(t, l.Publish(t.Context(), events([]int64{1}, 10)))
	must(t, s.db.Set(logOffsetKey(nil, 0), appendCounter(nil, 4), nil))
	must(t, s.Close())

	s = openAt(t, dir)
	defer func() { must(t, s.Close()) }()
	l, err = s.OpenLog(1)
	must(t, err)
	if l.Lag() != 6 {
		t.Fatalf("Lag = %d, want 6", l.Lag())
	}
	var got []string
	stop := runLog(t, l, func(_ context.Context, _ int, msgs [][]byte) error {
		for _, m := range msgs {
			ev, err := schema.UnmarshalMsgpack(m)
			if err != nil {
				return err
			}
			got = append(got, ev.ID)
		}
		return nil
	}, 100)
	waitIdle(t, l)
	must(t, stop())
	if want := []string{evID(1, 4), evID(1, 5), evID(1, 6), evID(1, 7), evID(1, 8), evID(1, 9)}; !slices.Equal(got, want) {
		t.Errorf("consumed %v, want %v", got, want)
	}
	if pending, err := s.anyKey([]byte{tLog}, []byte{tLog + 1}); err != nil || pending {
		t.Errorf("log keys left after draining: %v, %v", pending, err)
	}
	must(t, l.Publish(t.Context(), events([]int64{1}, 1)))
	if l.Lag() != 1 {
		t.Errorf("Lag after one more publish = %d, want 1 (seqs must continue)", l.Lag())
	}
}

func TestLogPartitionCount(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	l, err := s.OpenLog(2)
	must(t, err)
	if _, err := s.OpenLog(3); err == nil {
		t.Error("OpenLog with another count on an open log succeeded")
	}
	if l2, err := s.OpenLog(2); err != nil || l2 != l {
		t.Errorf("OpenLog again = %p, %v; want the same log", l2, err)
	}
	must(t, l.Publish(t.Context(), events([]int64{1}, 2)))
	must(t, s.Close())

	s = openAt(t, dir)
	if _, err := s.OpenLog(3); err == nil {
		t.Error("changing the partition count with pending messages succeeded")
	}
	l, err = s.OpenLog(2)
	must(t, err)
	stop := runLog(t, l, func(context.Context, int, [][]byte) error { return nil }, 10)
	waitIdle(t, l)
	must(t, stop())
	must(t, s.Close())

	s = openAt(t, dir)
	defer func() { must(t, s.Close()) }()
	if _, err := s.OpenLog(3); err != nil {
		t.Errorf("changing the partition count of a drained log: %v", err)
	}
}

func TestLogRunTwiceAndCloseWhileRunning(t *testing.T) {
	s := newStore(t)
	l, err := s.OpenLog(1)
	must(t, err)
	started := make(chan struct{})
	var once sync.Once
	must(t, l.Publish(t.Context(), events([]int64{1}, 1)))
	stop := runLog(t, l, func(context.Context, int, [][]byte) error {
		once.Do(func() { close(started) })
		return nil
	}, 10)
	<-started
	if err := l.Run(t.Context(), nil, 1); !errors.Is(err, ErrLogRunning) {
		t.Errorf("second Run = %v, want ErrLogRunning", err)
	}
	if err := s.Close(); !errors.Is(err, ErrLogRunning) {
		t.Errorf("Close while running = %v, want ErrLogRunning", err)
	}
	must(t, stop())
}

func TestPartitionComplete(t *testing.T) {
	p := &partition{done: map[uint64]uint64{}}
	p.complete(4, 6) // 1..3 not yet committed
	if v := p.visible.Load(); v != 0 {
		t.Fatalf("visible = %d, want 0", v)
	}
	p.complete(2, 3)
	if v := p.visible.Load(); v != 0 {
		t.Fatalf("visible = %d, want 0", v)
	}
	p.complete(1, 1)
	if v := p.visible.Load(); v != 6 {
		t.Fatalf("visible = %d, want 6", v)
	}
	p.complete(7, 7)
	if v := p.visible.Load(); v != 7 || len(p.done) != 0 {
		t.Fatalf("visible = %d (pending %v), want 7", v, p.done)
	}
}

// ---- concurrency of read-modify-write ----

func TestConcurrentSetMarkKeepsCountExact(t *testing.T) {
	s := newStore(t).Objects()
	const object, actors, workers, opsPerActor = "hot", 40, 8, 6
	type op struct {
		actor int64
		on    bool
		st    schema.Stamp
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	var ops []op
	winner := map[int64]op{}
	for a := int64(1); a <= actors; a++ {
		for i := range opsPerActor {
			o := op{actor: a, on: rnd.IntN(2) == 0, st: schema.Stamp{TS: int64(rnd.IntN(5)), ID: fmt.Sprintf("%d-%d", a, i)}}
			ops = append(ops, o)
			if w, ok := winner[a]; !ok || o.st.After(w.st) {
				winner[a] = o
			}
		}
	}
	rnd.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ops); i += workers {
				o := ops[i]
				if _, err := s.SetMark(context.Background(), objects.Mark{Object: object, Actor: o.actor, Owner: 1, On: o.on, Stamp: o.st}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var want int64
	for a, w := range winner {
		if w.on {
			want++
		}
		// A stale unclass returns the stored mark unchanged.
		m, err := s.SetMark(t.Context(), objects.Mark{Object: object, Actor: a, On: false, Stamp: schema.Stamp{TS: -1}})
		must(t, err)
		if m.On != w.on || m.Stamp != w.st {
			t.Errorf("actor %d: mark %+v, want On %v at %v", a, m, w.on, w.st)
		}
	}
	n, err := s.ClassCounts(t.Context(), []string{object})
	must(t, err)
	if n[0] != want {
		t.Errorf("Class count = %d, want %d", n[0], want)
	}
}

func TestConcurrentSetEdgesKeepsAudienceExact(t *testing.T) {
	g := newStore(t).Graph()
	const workers = 8
	targets := []int64{1, 2}
	users := make([]int64, 30)
	for i := range users {
		users[i] = int64(100 + i)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	var changes [][]graph.Edge
	type key struct {
		rel      graph.Rel
		from, to int64
	}
	model := map[key]graph.Edge{}
	for i := range 2000 {
		x, u := targets[rnd.IntN(len(targets))], users[rnd.IntN(len(users))]
		st := schema.Stamp{TS: int64(rnd.IntN(50)), ID: fmt.Sprintf("e%05d", i)}
		on := rnd.IntN(2) == 0
		var c []graph.Edge
		if rnd.IntN(2) == 0 {
			c = []graph.Edge{{Rel: graph.Follow, From: u, To: x, On: on, Stamp: st}}
		} else {
			c = []graph.Edge{
				{Rel: graph.Friend, From: x, To: u, On: on, Stamp: st},
				{Rel: graph.Friend, From: u, To: x, On: on, Stamp: st},
			}
		}
		changes = append(changes, c)
		for _, e := range c {
			k := key{e.Rel, e.From, e.To}
			if cur, ok := model[k]; !ok || e.Stamp.After(cur.Stamp) {
				model[k] = e
			}
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(changes); i += workers {
				if err := g.SetEdges(context.Background(), changes[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := map[int64]int64{}
	for k, e := range model {
		if !e.On {
			continue
		}
		switch k.rel {
		case graph.Friend:
			want[k.from]++
		case graph.Follow:
			want[k.to]++
		}
	}
	for _, u := range append(slices.Clone(targets), users...) {
		n, err := g.AudienceSize(t.Context(), u)
		must(t, err)
		if n != want[u] {
			t.Errorf("AudienceSize(%d) = %d, want %d", u, n, want[u])
		}
	}
	followers, err := g.Followers(t.Context(), 1)
	must(t, err)
	var wantF []int64
	for k, e := range model {
		if k.rel == graph.Follow && k.to == 1 && e.On {
			wantF = append(wantF, k.from)
		}
	}
	slices.Sort(wantF)
	if !slices.Equal(followers, wantF) && (len(followers) > 0 || len(wantF) > 0) {
		t.Errorf("Followers(1) = %v, want %v", followers, wantF)
	}
}

// ---- pebble-specific timeline, ledger and dead letters ----

func TestTrimRemovesMarkersOfTrimmedRows(t *testing.T) {
	ctx := t.Context()
	tl := newStore(t).Timelines()
	var rs []timeline.Row
	for i := range 10 {
		rs = append(rs, timeline.Row{NS: timeline.Home, User: 1, Entry: timeline.Entry{
			TS: int64(10 * (i + 1)), ID: fmt.Sprint("c", i), Kind: timeline.KindClass, Actor: int64(i), Object: "o",
		}})
	}
	must(t, tl.Write(ctx, rs))
	must(t, tl.Trim(ctx, timeline.Home, 1, 6, 0)) // keeps TS 100..50: actors 9..4
	ms, err := tl.Markers(ctx, 1, "o")
	must(t, err)
	var actors []int64
	for _, m := range ms {
		actors = append(actors, m.Actor)
	}
	slices.Sort(actors)
	if !slices.Equal(actors, []int64{4, 5, 6, 7, 8, 9}) {
		t.Errorf("markers after Trim(keep 6) = %v", actors)
	}
	must(t, tl.Trim(ctx, timeline.Home, 1, 0, 80)) // keeps TS 100..80: actors 9..7
	ms, err = tl.Markers(ctx, 1, "o")
	must(t, err)
	if len(ms) != 3 {
		t.Errorf("markers after Trim(minTS 80) = %+v", ms)
	}
}

func TestTrimBulkUsesOneRange(t *testing.T) {
	ctx := t.Context()
	tl := newStore(t).Timelines()
	var rs []timeline.Row
	for i := range 300 {
		rs = append(rs, timeline.Row{NS: timeline.Home, User: 7, Entry: timeline.Entry{
			TS: int64(i + 1), ID: fmt.Sprint("c", i), Kind: timeline.KindClass, Actor: int64(i), Object: "o",
		}})
	}
	must(t, tl.Write(ctx, rs))
	must(t, tl.Trim(ctx, timeline.Home, 7, 100, 0)) // 200 rows go: the DeleteRange path
	page, err := tl.Page(ctx, timeline.Home, 7, timeline.Position{}, 1000)
	must(t, err)
	if len(page) != 100 || page[0].TS != 300 || page[99].TS != 201 {
		t.Errorf("after a bulk trim: %d entries, %v..%v", len(page), page[0].Pos(), page[len(page)-1].Pos())
	}
	ms, err := tl.Markers(ctx, 7, "o")
	must(t, err)
	if len(ms) != 100 {
		t.Errorf("%d markers after a bulk trim, want 100", len(ms))
	}
	for _, m := range ms {
		if m.TS <= 200 {
			t.Errorf("marker of a trimmed row survived: %+v", m)
		}
	}
}

func TestWriteRejectsBadIDs(t *testing.T) {
	tl := newStore(t).Timelines()
	for _, id := range []string{"", "a\x00b"} {
		err := tl.Write(t.Context(), []timeline.Row{{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: 1, ID: id}}})
		if !errors.Is(err, errBadID) {
			t.Errorf("Write(id %q) = %v, want errBadID", id, err)
		}
	}
}

func TestPurgeLedger(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	l := s.Ledger()
	must(t, l.Record(ctx, []string{"old1", "old2", "again"}, nil, 100))
	must(t, l.Record(ctx, []string{"new"}, nil, 300))
	must(t, l.Record(ctx, []string{"again"}, nil, 400)) // recorded again later
	n, err := s.PurgeLedger(ctx, 200)
	must(t, err)
	if n != 2 {
		t.Errorf("PurgeLedger purged %d, want 2", n)
	}
	seen, err := l.Seen(ctx, []string{"old1", "old2", "again", "new"})
	must(t, err)
	if found := []bool{seen[0].Found, seen[1].Found, seen[2].Found, seen[3].Found}; !slices.Equal(found, []bool{false, false, true, true}) {
		t.Errorf("Seen after purge = %v", seen)
	}
	n, err = s.PurgeLedger(ctx, 1000)
	must(t, err)
	if n != 2 {
		t.Errorf("second purge purged %d, want 2", n)
	}
	if ok, err := s.anyKey([]byte{tLedger}, []byte{tLedgerAge + 1}); err != nil || ok {
		t.Errorf("ledger keys left after purging everything: %v, %v", ok, err)
	}
}

func TestPurgeLedgerManyChunks(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	ids := make([]string, purgeChunk*2+10)
	for i := range ids {
		ids[i] = fmt.Sprint("e", i)
	}
	must(t, s.Ledger().Record(ctx, ids, nil, 5))
	n, err := s.PurgeLedger(ctx, 6)
	must(t, err)
	if n != len(ids) {
		t.Errorf("purged %d, want %d", n, len(ids))
	}
}

func TestDeadLetters(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	must(t, s.DeadLetters().Put(ctx, []fanout.DeadLetter{
		{Raw: []byte("x"), EventID: "e1", Reason: "bad type", TS: 10},
		{Raw: []byte("y"), Reason: "not msgpack", TS: 10},
		{Raw: nil, EventID: "e3", Reason: "late", TS: 20},
	}))
	must(t, s.DeadLetters().Put(ctx, []fanout.DeadLetter{{Reason: "no ts"}}))
	all, err := s.ListDeadLetters(ctx, 0)
	must(t, err)
	if len(all) != 4 || all[0].Reason != "no ts" || all[0].TS < 1_600_000_000_000 || all[1].EventID != "e3" ||
		all[2].Reason != "not msgpack" || string(all[2].Raw) != "y" || all[3].EventID != "e1" {
		t.Errorf("ListDeadLetters = %+v", all)
	}
	two, err := s.ListDeadLetters(ctx, 2)
	must(t, err)
	if len(two) != 2 || two[1].EventID != "e3" {
		t.Errorf("ListDeadLetters(2) = %+v", two)
	}
}

func TestConcurrentTimelineMarkers(t *testing.T) {
	// Writers and deleters of the same markers race; at the end the index
	// must match the rows exactly.
	tl := newStore(t).Timelines()
	const actors = 20
	var wg sync.WaitGroup
	var failed atomic.Bool
	for a := range int64(actors) {
		wg.Go(func() {
			ctx := context.Background()
			for i := range 10 {
				r := []timeline.Row{{NS: timeline.Home, User: 1, Entry: timeline.Entry{
					TS: int64(i + 1), ID: fmt.Sprintf("c%d-%d", a, i), Kind: timeline.KindClass, Actor: a, Object: "o",
				}}}
				if tl.Write(ctx, r) != nil || (i%2 == 0 && tl.Delete(ctx, r) != nil) {
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		t.Fatal("a write or delete failed")
	}
	ms, err := tl.Markers(t.Context(), 1, "o")
	must(t, err)
	if len(ms) != actors {
		t.Fatalf("%d markers, want %d", len(ms), actors)
	}
	for _, m := range ms {
		if want := fmt.Sprintf("c%d-9", m.Actor); m.EventID != want || m.TS != 10 {
			t.Errorf("marker of actor %d points at %s/%d, want %s/10", m.Actor, m.EventID, m.TS, want)
		}
	}
}

func TestNotifySuite(t *testing.T) {
	storetest.RunNotify(t, func(t *testing.T) storetest.NotifyStore { return newStore(t).Notify() })
}

func TestDeadLetterCodesAndReplayMarks(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	d := s.DeadLetters()
	must(t, d.Put(ctx, []fanout.DeadLetter{
		{Raw: []byte("x"), EventID: "e1", Reason: "target 2 is not the owner", Code: fanout.ReasonNotOwner, TS: 10},
		{Raw: []byte("y"), EventID: "e2", Reason: "conflict", Code: fanout.ReasonIDConflict, TS: 20, Replayed: true},
	}))
	all, err := d.List(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Code != fanout.ReasonIDConflict || all[0].Replayed || all[1].Code != fanout.ReasonNotOwner ||
		all[1].Source == "" || all[0].Source == all[1].Source || string(all[1].Raw) != "x" {
		t.Fatalf("List = %+v", all)
	}
	for range 2 { // marking twice changes nothing
		must(t, d.MarkReplayed(ctx, []string{all[1].Source}))
		again, err := d.List(ctx)
		must(t, err)
		if len(again) != 2 || again[0].Replayed || !again[1].Replayed || again[1].Code != fanout.ReasonNotOwner ||
			string(again[1].Raw) != "x" || again[1].Reason != all[1].Reason || again[1].TS != 10 {
			t.Fatalf("after MarkReplayed: %+v", again)
		}
	}
	if err := d.MarkReplayed(ctx, []string{"nonsense"}); err == nil {
		t.Error("MarkReplayed of a bad source: no error")
	}
	must(t, d.MarkReplayed(ctx, []string{"5-5"})) // gone: ignored
}

func TestStoreSuiteProfiles(t *testing.T) {
	storetest.RunProfiles(t, func(t *testing.T) people.Store { return newStore(t).Profiles() })
}
