package notify_test

// Fakes for driving a sender step by step (Sender.Step, export_test.go):
// a clock the test moves, and in-memory leases that expire by it.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// fakeClock is a clock that moves only when the test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock starts at the beginning of a coalescing window some
// seconds ago (near the real time: stores keep their own TTLs).
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Now().Add(-time.Minute).Truncate(notify.CoalesceWindow)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeLeases keeps leases and heartbeats in memory, expiring by clock. It
// never lets two owners hold a shard, as notify.Leases requires; down
// makes every call fail (the store unreachable), renewDown only
// AcquireLease (heartbeats still get through).
type fakeLeases struct {
	clock  *fakeClock
	mu     sync.Mutex
	alive  map[string]time.Time // owner -> heartbeat expiry
	holder map[int]string
	until  map[int]time.Time
	down   bool
	// renewDown fails AcquireLease only.
	renewDown bool
}

var _ notify.Leases = (*fakeLeases)(nil)

func newFakeLeases(clock *fakeClock) *fakeLeases {
	return &fakeLeases{clock: clock, alive: map[string]time.Time{}, holder: map[int]string{}, until: map[int]time.Time{}}
}

var errLeasesDown = errors.New("leases: store unreachable")

func (l *fakeLeases) Heartbeat(_ context.Context, owner string, ttl time.Duration) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errLeasesDown
	}
	now := l.clock.Now()
	l.alive[owner] = now.Add(ttl)
	var out []string
	for o, until := range l.alive {
		if until.After(now) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (l *fakeLeases) AcquireLease(_ context.Context, shard int, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down || l.renewDown {
		return false, errLeasesDown
	}
	now := l.clock.Now()
	if h, ok := l.holder[shard]; ok && h != owner && l.until[shard].After(now) {
		return false, nil
	}
	l.holder[shard], l.until[shard] = owner, now.Add(ttl)
	return true, nil
}

func (l *fakeLeases) ReleaseLease(_ context.Context, shard int, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return errLeasesDown
	}
	if l.holder[shard] == owner {
		delete(l.holder, shard)
		delete(l.until, shard)
	}
	return nil
}

// holderOf is who holds shard's lease now ("" nobody).
func (l *fakeLeases) holderOf(shard int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.holder[shard]; ok && l.until[shard].After(l.clock.Now()) {
		return h
	}
	return ""
}

func (l *fakeLeases) setDown(down, renewDown bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down, l.renewDown = down, renewDown
}

// gift adds a gift notification at ts for user, with one device, and
// queues its push due at ts's second; it returns the task.
func (e *scanEnv) gift(t *testing.T, user int64, ts time.Time) notify.Task {
	t.Helper()
	ctx := t.Context()
	obj := fmt.Sprintf("gift-%d-%d", user, ts.UnixMilli())
	a := notify.Activity{User: user, Kind: notify.KindGift, Object: obj, Actor: 1, TS: ts.UnixMilli(),
		EventID: "e-" + obj, Group: notify.GroupKey(notify.KindGift, obj, ts.UnixMilli())}
	if _, err := e.inbox.Add(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Notify().PutSubscription(ctx, notify.Subscription{User: user, ID: fmt.Sprintf("d%d", user),
		Endpoint: fmt.Sprintf("https://push.example/%d", user), Lang: "en", Created: 1}); err != nil {
		t.Fatal(err)
	}
	task := notify.Task{Shard: notify.ShardOf(user), Due: ts.Unix(), User: user, Group: a.Group,
		Deadline: ts.Add(time.Hour).UnixMilli()}
	if err := e.st.Notify().Enqueue(ctx, []notify.Task{task}); err != nil {
		t.Fatal(err)
	}
	return task
}

// stepper makes a sender of shard 0 on clock, to be driven by Step; tune,
// if set, changes its config first.
func (e *scanEnv) stepper(t *testing.T, clock *fakeClock, tune ...func(*notify.SenderConfig)) *notify.Sender {
	t.Helper()
	catalog, err := notify.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.SenderConfig{Inbox: e.inbox, Queue: e.st.Notify(), Subs: e.st.Notify(),
		Transport: e.tr, Catalog: catalog, Retries: e.st.Notify(), Workers: 2,
		Lag: time.Second, Shards: []int{0}, Now: clock.Now}
	for _, f := range tune {
		f(&cfg)
	}
	s, err := notify.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// step runs one turn of s.
func step(t *testing.T, s *notify.Sender) {
	t.Helper()
	if err := s.Step(t.Context()); err != nil {
		t.Fatalf("step: %v", err)
	}
}

// grant gives shard's lease to owner for ttl, whoever held it: what a
// lease store whose clock runs ahead of the sender's does once it counts
// the holder's lease as expired.
func (l *fakeLeases) grant(shard int, owner string, ttl time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holder[shard], l.until[shard] = owner, l.clock.Now().Add(ttl)
}
