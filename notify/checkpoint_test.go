package notify_test

// The scan checkpoint, driven step by step with a fake clock: a second is
// checkpointed only once its tasks were expanded and first attempted, so
// a task that could not be read is read again rather than lost; and a
// sender started later (a restart, the shard's next owner) resumes after
// the checkpoint without pushing again.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// failingSubs is a notify.Subscriptions whose reads fail while fail > 0.
type failingSubs struct {
	subs notify.Subscriptions
	fail atomic.Int32
}

func (f *failingSubs) PutSubscription(ctx context.Context, s notify.Subscription) error {
	return f.subs.PutSubscription(ctx, s)
}

func (f *failingSubs) DeleteSubscription(ctx context.Context, user int64, id string) error {
	return f.subs.DeleteSubscription(ctx, user, id)
}

func (f *failingSubs) Subscriptions(ctx context.Context, user int64) ([]notify.Subscription, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("subscriptions: store unreachable")
	}
	return f.subs.Subscriptions(ctx, user)
}

func TestCheckpointFollowsFinishedSeconds(t *testing.T) {
	clock := newFakeClock()
	e := newScanEnv(t, 0, 0)
	const u = 16
	task := e.gift(t, u, clock.Now())
	ctx := t.Context()
	if err := e.st.Notify().SetCheckpoint(ctx, 0, task.Due-1); err != nil {
		t.Fatal(err)
	}
	subs := &failingSubs{subs: e.st.Notify()}
	subs.fail.Store(1)
	checkpoint := func() int64 {
		t.Helper()
		cp, err := e.st.Notify().Checkpoint(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	clock.Add(3 * time.Second) // the task's second is settled (Lag 1s)
	s := e.stepper(t, clock, func(c *notify.SenderConfig) { c.Subs = subs })
	if err := s.Step(ctx); err == nil {
		t.Fatal("a task whose subscriptions could not be read: the step reported no error")
	}
	if cp := checkpoint(); cp >= task.Due {
		t.Fatalf("checkpoint %d past second %d, whose task was never pushed", cp, task.Due)
	}
	clock.Add(time.Second)
	step(t, s)
	if sent, _ := e.tr.of(u); sent != 1 {
		t.Fatalf("the task read again: %d pushes, want 1", sent)
	}
	settled := clock.Now().Add(-time.Second).Unix()
	if cp := checkpoint(); cp != settled {
		t.Fatalf("checkpoint %d, want %d (every settled second)", cp, settled)
	}
	clock.Add(time.Second)
	next := e.stepper(t, clock) // a restart
	step(t, next)
	if sent, attempts := e.tr.of(u); attempts != 1 {
		t.Fatalf("after a restart: %d attempts (%d delivered), want the one push before it", attempts, sent)
	}
}

// A sender that has been running a while (its checkpoint follows the
// settled seconds) pushes a gift due now at its next step, before the
// gift's second settles, and not again once it settles.
func TestDueNowIsPushedAtOnceWhileRunning(t *testing.T) {
	clock := newFakeClock()
	e := newScanEnv(t, 0, 0)
	obs := &counts{}
	s := e.stepper(t, clock, func(c *notify.SenderConfig) { c.Observer = obs })
	for range 3 {
		step(t, s)
		clock.Add(time.Second)
	}
	const u = 16
	e.gift(t, u, clock.Now())
	clock.Add(100 * time.Millisecond)
	step(t, s)
	if sent, _ := e.tr.of(u); sent != 1 {
		t.Fatalf("a gift due now: %d pushes at the next step, want 1", sent)
	}
	for range 3 { // its second settles
		clock.Add(time.Second)
		step(t, s)
	}
	if sent, attempts := e.tr.of(u); attempts != 1 || obs.skipped.Load() != 0 {
		t.Fatalf("after its second settled: %d attempts (%d delivered), %v; want the one push", attempts, sent, obs)
	}
}
