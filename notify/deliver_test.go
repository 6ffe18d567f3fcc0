package notify_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// What follows an attempt, by the push service's answer: 404 and 410
// remove the device's subscription and push nothing more to it; 429 and
// 5xx are retried with backoff (kept in the store) until a 201; a 400 (a
// malformed subscription) removes it too. Each device ends with exactly
// one delivered push or none, and the second settles.
func TestAnswersDecideWhatFollows(t *testing.T) {
	due := time.Now().Unix() - 2
	e := newScanEnv(t, 5, due)
	gone404, gone410, busy, flaky, bad := e.users[0], e.users[1], e.users[2], e.users[3], e.users[4]
	e.tr.answers[gone404] = []int{http.StatusNotFound}
	e.tr.answers[gone410] = []int{http.StatusGone}
	e.tr.answers[busy] = []int{http.StatusTooManyRequests, http.StatusTooManyRequests}
	e.tr.answers[flaky] = []int{http.StatusServiceUnavailable}
	e.tr.answers[bad] = []int{http.StatusBadRequest}
	if err := e.st.Notify().SetCheckpoint(t.Context(), 0, due-1); err != nil {
		t.Fatal(err)
	}
	obs := &counts{}
	e.run(t, time.Second, 2, func(c *notify.SenderConfig) {
		c.MinBackoff, c.MaxBackoff = 20*time.Millisecond, 40*time.Millisecond
		c.Observer = obs
	})
	e.waitCheckpoint(t, due, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for e.tr.count() < 2 { // busy and flaky, once their retries succeed
		if time.Now().After(deadline) {
			t.Fatalf("retried pushes not delivered: %d delivered; %v", e.tr.count(), obs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything more would come now
	e.tr.mu.Lock()
	defer e.tr.mu.Unlock()
	want := map[int64]struct{ sent, attempts int }{
		gone404: {0, 1}, gone410: {0, 1}, bad: {0, 1}, busy: {1, 3}, flaky: {1, 2},
	}
	for u, w := range want {
		if e.tr.sent[u] != w.sent || e.tr.attempts[u] != w.attempts {
			t.Errorf("user %d: %d delivered in %d attempts, want %d in %d", u, e.tr.sent[u], e.tr.attempts[u], w.sent, w.attempts)
		}
	}
	for _, u := range []int64{gone404, gone410, bad} {
		subs, err := e.st.Notify().Subscriptions(t.Context(), u)
		if err != nil || len(subs) != 0 {
			t.Errorf("user %d: subscriptions %v (%v) after a refusal, want none", u, subs, err)
		}
	}
	for _, u := range []int64{busy, flaky} {
		if subs, _ := e.st.Notify().Subscriptions(t.Context(), u); len(subs) != 1 {
			t.Errorf("user %d lost its subscription to a retryable answer", u)
		}
	}
	if obs.removed.Load() != 3 || obs.retried.Load() != 3 || obs.sent.Load() != 2 {
		t.Errorf("%v; want removed 3, retried 3, sent 2", obs)
	}
}

// A burst of Class marks on one photo within a coalescing window is one
// task and one push ("Anna and 4 others"); a mark in a later window, with
// the group newer than what was pushed, is a second push.
func TestClassBurstIsOnePush(t *testing.T) {
	e := newScanEnv(t, 0, 0)
	const owner = 16 // shard 0
	if err := e.st.Notify().PutSubscription(t.Context(), notify.Subscription{User: owner, ID: "d-owner",
		Endpoint: "https://push.example/owner", Lang: "en", Created: 1}); err != nil {
		t.Fatal(err)
	}
	clock := time.Now().Add(-10 * time.Second).Truncate(notify.CoalesceWindow)
	h := notify.NewHook(notify.HookConfig{Inbox: e.inbox, Queue: e.st.Notify(), Now: func() time.Time { return clock }})
	mark := func(actor int64, at time.Time) {
		t.Helper()
		ev := schema.Event{V: 1, ID: fmt.Sprintf("c-%d-%d", actor, at.UnixMilli()), Type: schema.Class, Actor: actor,
			Object: "photo", Target: owner, TS: at.UnixMilli()}
		eff := &fanout.Effect{Mark: objects.Mark{Object: "photo", Actor: actor, Owner: owner, On: true}}
		if err := h.Applied(t.Context(), &ev, eff); err != nil {
			t.Fatal(err)
		}
	}
	for a := int64(101); a <= 105; a++ {
		mark(a, clock.Add(time.Duration(a-100)*100*time.Millisecond)) // all in one window
	}
	if err := e.st.Notify().SetCheckpoint(t.Context(), 0, clock.Unix()-1); err != nil {
		t.Fatal(err)
	}
	e.run(t, time.Second, 2)
	waitPushes := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for e.tr.count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d pushes, want %d", e.tr.count(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // a surplus push would come now
		if got := e.tr.count(); got != n {
			t.Fatalf("%d pushes, want %d", got, n)
		}
	}
	waitPushes(1)
	clock = time.Now() // a later window (the queue is past the first by now)
	mark(106, clock)
	waitPushes(2)
}
