package notify_test

// Shard leases, driven step by step with a fake clock and in-memory
// leases: a sender serves (scans, pushes, retries) only the shards whose
// lease it holds, takes only its share of them when other push processes
// are alive, and stops serving a shard it hands over or whose lease it
// can no longer renew.

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// Two push processes split shards 0 and 1: sender "push-a" (first in name
// order) wants shard 0, "push-b" shard 1. Whether b is alive before a
// starts or joins while a holds both, a pushes shard 0's task and not
// shard 1's, and does not hold shard 1's lease.
func TestSenderServesOnlyItsShareOfShards(t *testing.T) {
	const ttl = 15 * time.Second
	tests := []struct {
		name       string
		peerBefore bool // b is alive when a takes its first leases
	}{
		{"peer alive from the start", true},
		{"peer joins: shard handed over", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			leases := newFakeLeases(clock)
			e := newScanEnv(t, 0, 0)
			a := e.stepper(t, clock, func(c *notify.SenderConfig) {
				c.Leases, c.Owner, c.LeaseTTL, c.Shards = leases, "push-a", ttl, []int{0, 1}
			})
			peer := func() {
				if _, err := leases.Heartbeat(t.Context(), "push-b", ttl); err != nil {
					t.Fatal(err)
				}
			}
			if tt.peerBefore {
				peer()
			}
			step(t, a)
			if !tt.peerBefore {
				if got := leases.holderOf(1); got != "push-a" {
					t.Fatalf("alone, a does not hold shard 1 (holder %q)", got)
				}
			}
			peer()
			clock.Add(ttl / 3)    // a's next lease round
			const u0, u1 = 16, 17 // shards 0 and 1
			e.gift(t, u0, clock.Now())
			e.gift(t, u1, clock.Now())
			step(t, a)
			clock.Add(time.Second)
			step(t, a)
			if sent, _ := e.tr.of(u0); sent != 1 {
				t.Errorf("shard 0 (a's): %d pushes, want 1", sent)
			}
			if sent, attempts := e.tr.of(u1); attempts != 0 {
				t.Errorf("shard 1 (b's): a made %d attempts (%d delivered), want none", attempts, sent)
			}
			if got := leases.holderOf(0); got != "push-a" {
				t.Errorf("shard 0 held by %q, want push-a", got)
			}
			if got := leases.holderOf(1); got == "push-a" {
				t.Errorf("a holds shard 1, which is b's")
			}
		})
	}
}

// A sender that cannot renew its lease (the lease store unreachable, or
// only its renewals failing) stops serving the shard once the lease it
// trusts lapses: a retry due then is not attempted (the shard's next
// owner may be making it), and stays in the store. Once the store is back
// and the sender takes the shard again, it resumes the stored retry.
func TestLapsedLeaseStopsServing(t *testing.T) {
	const ttl = 15 * time.Second
	for _, tt := range []struct {
		name            string
		down, renewDown bool
	}{{"lease store unreachable", true, false}, {"renewals fail", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			leases := newFakeLeases(clock)
			e := newScanEnv(t, 0, 0)
			const u = 16
			e.tr.answers[u] = []int{503}
			e.gift(t, u, clock.Now())
			obs := &counts{}
			a := e.stepper(t, clock, func(c *notify.SenderConfig) {
				c.Leases, c.Owner, c.LeaseTTL, c.Observer = leases, "push-a", ttl, obs
				c.MinBackoff, c.MaxBackoff = 2*ttl, 2*ttl // due between the lapse and 2*ttl
			})
			step(t, a)
			if _, attempts := e.tr.of(u); attempts != 1 || obs.retried.Load() != 1 {
				t.Fatalf("first attempt: %d attempts, %v; want 1 attempt and a retry", attempts, obs)
			}
			leases.setDown(tt.down, tt.renewDown)
			for range 6 { // lease rounds past the lease a trusts, until the retry is due
				clock.Add(ttl / 3)
				step(t, a)
			}
			if sent, attempts := e.tr.of(u); attempts != 1 {
				t.Fatalf("lease lapsed: %d attempts (%d delivered), want no retry attempted", attempts, sent)
			}
			stored, err := e.st.Notify().Retries(t.Context(), 0, notify.Retry{}, 10)
			if err != nil || len(stored) != 1 {
				t.Fatalf("stored retries %v (%v), want the one kept for the next owner", stored, err)
			}
			leases.setDown(false, false)
			clock.Add(ttl / 3)
			step(t, a)
			if sent, attempts := e.tr.of(u); sent != 1 || attempts != 2 {
				t.Fatalf("shard taken again: %d delivered in %d attempts, want 1 in 2", sent, attempts)
			}
		})
	}
}

// A sender that finds its shard's lease held by another (the lease
// store's clock runs ahead, so it counted the lease as expired before the
// sender did) stops serving the shard at that lease round, although the
// lease it trusts has not lapsed yet by its own clock.
func TestLeaseHeldByAnotherStopsServing(t *testing.T) {
	const ttl = 15 * time.Second
	clock := newFakeClock()
	leases := newFakeLeases(clock)
	e := newScanEnv(t, 0, 0)
	a := e.stepper(t, clock, func(c *notify.SenderConfig) {
		c.Leases, c.Owner, c.LeaseTTL = leases, "push-a", ttl
	})
	step(t, a)
	leases.grant(0, "push-b", ttl)
	clock.Add(ttl / 3) // a's next lease round; a trusts its lease until 4/5 ttl
	const u = 16
	e.gift(t, u, clock.Now())
	step(t, a)
	if sent, attempts := e.tr.of(u); attempts != 0 {
		t.Fatalf("a pushed on push-b's shard: %d attempts (%d delivered)", attempts, sent)
	}
}
