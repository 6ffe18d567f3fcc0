package notify_test

// Coalescing: the hook queues a grouped kind's push at the end of its
// coalescing window, so a burst in one group is one push however it is
// spread across the window; a gift or a broadcast is queued due now.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// classMark applies a Class mark by actor on owner's photo at the clock's
// time.
func classMark(t *testing.T, h *notify.Hook, clock *fakeClock, owner, actor int64) {
	t.Helper()
	at := clock.Now()
	ev := schema.Event{V: 1, ID: fmt.Sprintf("c-%d-%d", actor, at.UnixMilli()), Type: schema.Class, Actor: actor,
		Object: "photo", Target: owner, TS: at.UnixMilli()}
	eff := &fanout.Effect{Mark: objects.Mark{Object: "photo", Actor: actor, Owner: owner, On: true}}
	if err := h.Applied(t.Context(), &ev, eff); err != nil {
		t.Fatal(err)
	}
}

// Three Class marks spread across one coalescing window (its first,
// middle and last tenth), with the sender stepping in between, are one
// push once the window ends, telling of all three.
func TestClassBurstAcrossWindowIsOnePush(t *testing.T) {
	clock := newFakeClock() // at a window's start
	windowEnd := clock.Now().Add(notify.CoalesceWindow)
	e := newScanEnv(t, 0, 0)
	const owner = 16 // shard 0
	if err := e.st.Notify().PutSubscription(t.Context(), notify.Subscription{User: owner, ID: "d-owner",
		Endpoint: "https://push.example/owner", Lang: "en", Created: 1}); err != nil {
		t.Fatal(err)
	}
	h := notify.NewHook(notify.HookConfig{Inbox: e.inbox, Queue: e.st.Notify(), Now: clock.Now})
	s := e.stepper(t, clock)
	start := clock.Now()
	for _, at := range []struct {
		offset time.Duration
		actor  int64 // a mark by actor, or 0: a sender step
	}{{100 * time.Millisecond, 101}, {500 * time.Millisecond, 0}, {1000 * time.Millisecond, 102},
		{1500 * time.Millisecond, 0}, {1900 * time.Millisecond, 103}} {
		clock.Add(start.Add(at.offset).Sub(clock.Now()))
		if at.actor != 0 {
			classMark(t, h, clock, owner, at.actor)
			continue
		}
		step(t, s)
		if sent, _ := e.tr.of(owner); sent != 0 {
			t.Fatalf("pushed at %v, before the window ends at %v", clock.Now(), windowEnd)
		}
	}
	for clock.Now().Before(windowEnd.Add(3 * time.Second)) { // past the window and Lag: settled
		clock.Add(notify.CoalesceWindow / 4)
		step(t, s)
	}
	e.tr.mu.Lock()
	defer e.tr.mu.Unlock()
	if e.tr.sent[owner] != 1 {
		t.Fatalf("%d pushes for one burst in one window, want 1", e.tr.sent[owner])
	}
	var p notify.Payload
	if err := json.Unmarshal(e.tr.last[owner].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Body, "and 2 others") {
		t.Errorf("push body %q does not tell of all three marks", p.Body)
	}
}

// enqueueRecorder is a notify.Queue that keeps what is enqueued.
type enqueueRecorder struct {
	notify.Queue // nil: only Enqueue is called by the hook
	mu           sync.Mutex
	tasks        []notify.Task
}

func (q *enqueueRecorder) Enqueue(_ context.Context, tasks []notify.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, tasks...)
	return nil
}

// When the hook queues each kind's push: grouped kinds at the end of the
// current coalescing window, a gift and a broadcast at once.
func TestHookQueuesPushDue(t *testing.T) {
	const owner, actor = 16, 5
	tests := []struct {
		name    string
		ev      schema.Event
		eff     fanout.Effect
		atEnd   bool // due at the window's end rather than now
		groupOf notify.Kind
	}{
		{"class", schema.Event{Type: schema.Class, Object: "photo", Target: owner},
			fanout.Effect{Mark: objects.Mark{Object: "photo", Actor: actor, Owner: owner, On: true}}, true, notify.KindClass},
		{"friend", schema.Event{Type: schema.Friend, Target: owner}, fanout.Effect{}, true, notify.KindFriend},
		{"follow", schema.Event{Type: schema.Follow, Target: owner}, fanout.Effect{}, true, notify.KindFollow},
		{"gift", schema.Event{Type: schema.Gift, Object: "g1", Target: owner}, fanout.Effect{}, false, notify.KindGift},
		{"live", schema.Event{Type: schema.Live, Object: "l1", Audience: schema.AudiencePublic},
			fanout.Effect{Recipients: []int64{owner}}, false, notify.KindLive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			clock.Add(notify.CoalesceWindow / 4) // inside the window's first second
			e := newScanEnv(t, 0, 0)
			q := &enqueueRecorder{}
			h := notify.NewHook(notify.HookConfig{Inbox: e.inbox, Queue: q, Now: clock.Now})
			ev := tt.ev
			ev.V, ev.ID, ev.Actor, ev.TS = 1, "ev-"+tt.name, actor, clock.Now().UnixMilli()
			if ev.Type == schema.Live {
				ev.Until = clock.Now().Add(time.Hour).UnixMilli()
			}
			eff := tt.eff
			if err := h.Applied(t.Context(), &ev, &eff); err != nil {
				t.Fatal(err)
			}
			want := clock.Now().Unix()
			if tt.atEnd {
				want = clock.Now().Truncate(notify.CoalesceWindow).Add(notify.CoalesceWindow).Unix()
			}
			if len(q.tasks) != 1 {
				t.Fatalf("%d tasks queued, want 1: %+v", len(q.tasks), q.tasks)
			}
			task := q.tasks[0]
			if task.Due != want || task.User != owner || task.Shard != 0 || !strings.HasPrefix(task.Group, string(tt.groupOf)) {
				t.Errorf("task %+v, want due %d for user %d, a %s group", task, want, owner, tt.groupOf)
			}
		})
	}
}

// An activity whose push deadline has already passed when it is applied
// (a gift replayed a day late, a broadcast applied after its end) queues
// no task: the sender would drop it as stale, so queueing it only costs
// the queue a row and the sender a read.
func TestHookQueuesNothingPastItsDeadline(t *testing.T) {
	const owner, actor = 16, 5
	clock := newFakeClock()
	e := newScanEnv(t, 0, 0)
	q := &enqueueRecorder{}
	h := notify.NewHook(notify.HookConfig{Inbox: e.inbox, Queue: q, Now: clock.Now})
	for _, ev := range []schema.Event{
		{V: 1, ID: "late-gift", Type: schema.Gift, Object: "g1", Target: owner, Actor: actor,
			TS: clock.Now().Add(-notify.GiftTTL - time.Minute).UnixMilli()},
		{V: 1, ID: "ended-live", Type: schema.Live, Object: "l1", Actor: actor, Audience: schema.AudiencePublic,
			TS: clock.Now().Add(-2 * time.Hour).UnixMilli(), Until: clock.Now().Add(-time.Hour).UnixMilli()},
	} {
		eff := fanout.Effect{Recipients: []int64{owner}}
		if err := h.Applied(t.Context(), &ev, &eff); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.tasks) != 0 {
		t.Fatalf("%d tasks queued past their deadline: %+v", len(q.tasks), q.tasks)
	}
}
