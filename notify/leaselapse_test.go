package notify_test

// A lease that lapses between two lease rounds: the sender trusts its
// lease a fifth of its life less than the store does and renews it every
// LeaseTTL/3, so when renewals fail the lease it trusts ends between two
// rounds. From then on it must not serve the shard, although no round has
// run yet to drop it and nothing has told it another sender took it.

import (
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

func TestLeaseLapsedBetweenRoundsStopsServing(t *testing.T) {
	const ttl = 15 * time.Second // rounds every 5s; the lease is trusted for 12s
	for _, tt := range []struct {
		name            string
		down, renewDown bool
		due             time.Duration // the task's due time, after the last renewal
	}{
		{"lease store unreachable, task due now", true, false, 12500 * time.Millisecond},
		{"lease store unreachable, task settled", true, false, 11 * time.Second},
		{"renewals fail, task due now", false, true, 12500 * time.Millisecond},
		{"renewals fail, task settled", false, true, 11 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			leases := newFakeLeases(clock)
			e := newScanEnv(t, 0, 0)
			a := e.stepper(t, clock, func(c *notify.SenderConfig) {
				c.Leases, c.Owner, c.LeaseTTL = leases, "push-a", ttl
			})
			start := clock.Now()
			step(t, a) // takes shard 0, trusted until start+12s
			if got := leases.holderOf(0); got != "push-a" {
				t.Fatalf("shard 0 held by %q, want push-a", got)
			}
			leases.setDown(tt.down, tt.renewDown)
			for range 2 { // rounds at +5s and +10s fail; the lease is still trusted
				clock.Add(ttl / 3)
				step(t, a)
			}
			const u = 16 // shard 0
			e.gift(t, u, start.Add(tt.due))
			clock.Add(start.Add(12500 * time.Millisecond).Sub(clock.Now())) // past the trusted end, before the round at +15s
			step(t, a)
			if sent, attempts := e.tr.of(u); attempts != 0 {
				t.Fatalf("lease lapsed at +12s, step at +12.5s: %d attempts (%d delivered), want none", attempts, sent)
			}
			// The task was not checkpointed past: once the lease is taken
			// again the sender pushes it.
			leases.setDown(false, false)
			clock.Add(start.Add(ttl).Sub(clock.Now())) // the round at +15s
			step(t, a)
			if sent, attempts := e.tr.of(u); sent != 1 || attempts != 1 {
				t.Fatalf("lease taken again: %d delivered in %d attempts, want 1 in 1", sent, attempts)
			}
		})
	}
}
