package notify_test

// A retry scheduled for a shard the sender has just lost. A send can be in
// flight while the sender's loop gives its shard up (another sender took
// the lease); the failure then schedules the retry after the shard's
// retries were dropped. The retry stays in the store for the shard's new
// owner, and this sender must not make it when it comes due.
//
// Only Run has a send in flight during a lease round (Step waits for its
// workers), so this test runs the sender, on the fake clock, with one
// worker: jobs are made in the order they are handed out.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// gatedTransport holds the first send to user until release is closed,
// telling entered when it starts; every send then goes to next.
type gatedTransport struct {
	next    notify.Transport
	user    int64
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedTransport) Send(ctx context.Context, sub *notify.Subscription, msg *notify.Message) (notify.Outcome, error) {
	if sub.User == g.user {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.entered)
			select {
			case <-g.release:
			case <-ctx.Done():
				return notify.Outcome{}, ctx.Err()
			}
		}
	}
	return g.next.Send(ctx, sub, msg)
}

func (g *gatedTransport) CheckEndpoint(ctx context.Context, endpoint string) error {
	return g.next.CheckEndpoint(ctx, endpoint)
}

// countingQueue counts queue reads: each tick of a sender reads the queue
// of every shard it holds.
type countingQueue struct {
	notify.Queue
	reads atomic.Int64
}

func (q *countingQueue) Due(ctx context.Context, shard int, due, afterUser int64, afterGroup string, n int) ([]notify.Task, error) {
	q.reads.Add(1)
	return q.Queue.Due(ctx, shard, due, afterUser, afterGroup, n)
}

// shardCounts is counts that also remembers how many shards the sender
// said it serves.
type shardCounts struct {
	counts
	shards atomic.Int64
}

func (c *shardCounts) PushShards(n int) { c.shards.Store(int64(n)) }

// waitFor polls cond (real time) until it holds, or fails the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// shardLeases is fakeLeases whose renewals of one shard can be made to
// fail (the lease store times out on that shard's row).
type shardLeases struct {
	*fakeLeases
	shard     int
	renewDown atomic.Bool
}

func (l *shardLeases) AcquireLease(ctx context.Context, shard int, owner string, ttl time.Duration) (bool, error) {
	if shard == l.shard && l.renewDown.Load() {
		return false, errLeasesDown
	}
	return l.fakeLeases.AcquireLease(ctx, shard, owner, ttl)
}

func TestRetryOfLostShardIsLeftToItsNewOwner(t *testing.T) {
	const ttl = 15 * time.Second // lease rounds every 5s, a lease trusted for 12s
	const u0, u1 = 16, 17        // shards 0 and 1
	for _, tt := range []struct {
		name  string
		lose  func(*shardLeases) // while u0's send is in flight
		until time.Duration      // then the clock moves on to the lease round that gives shard 0 up
	}{
		{"another sender took the lease", func(l *shardLeases) { l.grant(0, "push-b", ttl) }, ttl / 3},
		{"the lease lapsed: its renewals fail", func(l *shardLeases) { l.renewDown.Store(true) }, ttl},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			leases := &shardLeases{fakeLeases: newFakeLeases(clock), shard: 0}
			e := newScanEnv(t, 0, 0)
			e.tr.answers[u0] = []int{503}
			gate := &gatedTransport{next: e.tr, user: u0, entered: make(chan struct{}), release: make(chan struct{})}
			released := false
			defer func() {
				if !released {
					close(gate.release) // a failed test does not leave the worker waiting
				}
			}()
			queue := &countingQueue{Queue: e.st.Notify()}
			obs := &shardCounts{}
			e.gift(t, u0, clock.Now())
			e.run(t, time.Second, 1, func(c *notify.SenderConfig) {
				c.Leases, c.Owner, c.LeaseTTL, c.Shards, c.Now = leases, "push-a", ttl, []int{0, 1}, clock.Now
				c.Transport, c.Queue, c.Observer = gate, queue, obs
				c.MinBackoff, c.MaxBackoff = 2*time.Second, 2*time.Second // due within 2s of the failure
			})
			select {
			case <-gate.entered: // u0's push is in flight; a holds shards 0 and 1
			case <-time.After(10 * time.Second):
				t.Fatal("u0's push was never sent")
			}
			waitFor(t, "shards 0 and 1 taken", func() bool { return obs.shards.Load() == 2 })
			tt.lose(leases)
			clock.Add(tt.until)
			waitFor(t, "shard 0 given up", func() bool { return obs.shards.Load() == 1 })
			released = true
			close(gate.release) // u0's push fails (503): a retry of shard 0, due within 2s
			waitFor(t, "the retry scheduled", func() bool { return obs.retried.Load() == 1 })
			clock.Add(3 * time.Second) // the retry is due; the next lease round is 2s later
			ticks := queue.reads.Load()
			waitFor(t, "a tick after the retry came due", func() bool { return queue.reads.Load() > ticks+1 })
			// u1's push (shard 1, still held) is handed out after the retry
			// would have been: once it is made, so is any attempt at u0.
			e.gift(t, u1, clock.Now())
			waitFor(t, "u1's push", func() bool { sent, _ := e.tr.of(u1); return sent == 1 })
			if sent, attempts := e.tr.of(u0); attempts != 1 {
				t.Fatalf("u0: %d attempts (%d delivered) after shard 0 was lost, want only the first", attempts, sent)
			}
			stored, err := e.st.Notify().Retries(t.Context(), 0, notify.Retry{}, 10)
			if err != nil || len(stored) != 1 || stored[0].User != u0 {
				t.Fatalf("stored retries of shard 0: %v (%v), want u0's, kept for the new owner", stored, err)
			}
		})
	}
}
