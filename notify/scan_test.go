package notify_test

// The queue scan of one sender over the embedded store, with an
// in-process transport that records every send: a push due now goes out
// before its second is past the skew margin (Lag), a busy second is pushed
// whole and once, and a second is checkpointed only after its pushes.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// recordingTransport answers 201 to every push (or, per user, the statuses
// queued in answers, one per attempt, with retryAfter's Retry-After) and
// remembers when each user's first push came and the last message it
// got. sent counts 2xx answers only; attempts counts every call.
type recordingTransport struct {
	mu         sync.Mutex
	sent       map[int64]int
	first      map[int64]time.Time
	last       map[int64]notify.Message
	total      int
	answers    map[int64][]int
	retryAfter map[int64]time.Duration
	attempts   map[int64]int
}

func newRecordingTransport() *recordingTransport {
	return &recordingTransport{sent: map[int64]int{}, first: map[int64]time.Time{}, last: map[int64]notify.Message{},
		answers: map[int64][]int{}, retryAfter: map[int64]time.Duration{}, attempts: map[int64]int{}}
}

func (r *recordingTransport) Send(_ context.Context, sub *notify.Subscription, msg *notify.Message) (notify.Outcome, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[sub.User]++
	if q := r.answers[sub.User]; len(q) > 0 {
		r.answers[sub.User] = q[1:]
		if q[0] < 200 || q[0] > 299 {
			return notify.Outcome{Status: q[0], RetryAfter: r.retryAfter[sub.User]}, nil
		}
	}
	if r.sent[sub.User] == 0 {
		r.first[sub.User] = time.Now()
	}
	r.sent[sub.User]++
	r.last[sub.User] = *msg
	r.total++
	return notify.Outcome{Status: 201}, nil
}

// of returns what user got: pushes delivered and attempts made.
func (r *recordingTransport) of(user int64) (sent, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[user], r.attempts[user]
}

func (r *recordingTransport) CheckEndpoint(context.Context, string) error { return nil }

func (r *recordingTransport) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// scanEnv is one store with n gift notifications for users on shard 0, one
// device each, queued due at second due.
type scanEnv struct {
	st    *pebblestore.Store
	inbox *notify.Inbox
	tr    *recordingTransport
	users []int64
}

func newScanEnv(t *testing.T, n int, due int64) *scanEnv {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	e := &scanEnv{st: st, inbox: notify.NewInbox(st.Notify()), tr: newRecordingTransport()}
	ts := time.Now().UnixMilli()
	var tasks []notify.Task
	for i := range n {
		u := int64(i+1) * notify.Shards // shard 0
		obj := fmt.Sprintf("gift-%d", u)
		a := notify.Activity{User: u, Kind: notify.KindGift, Object: obj, Actor: 1, TS: ts,
			EventID: "e-" + obj, Group: notify.GroupKey(notify.KindGift, obj, ts)}
		if _, err := e.inbox.Add(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.Notify().PutSubscription(ctx, notify.Subscription{User: u, ID: "d" + obj,
			Endpoint: "https://push.example/" + obj, Lang: "en", Created: ts}); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, notify.Task{Shard: 0, Due: due, User: u, Group: a.Group,
			Deadline: time.Now().Add(time.Hour).UnixMilli()})
		e.users = append(e.users, u)
	}
	if err := st.Notify().Enqueue(ctx, tasks); err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts a sender of shard 0 until the test ends; tune, if set,
// changes its config first.
func (e *scanEnv) run(t *testing.T, lag time.Duration, workers int, tune ...func(*notify.SenderConfig)) *notify.Sender {
	t.Helper()
	catalog, err := notify.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.SenderConfig{Inbox: e.inbox, Queue: e.st.Notify(), Subs: e.st.Notify(),
		Transport: e.tr, Catalog: catalog, Retries: e.st.Notify(), Workers: workers,
		Poll: 20 * time.Millisecond, Lag: lag, Shards: []int{0}}
	for _, f := range tune {
		f(&cfg)
	}
	s, err := notify.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return s
}

func (e *scanEnv) waitCheckpoint(t *testing.T, due int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cp, err := e.st.Notify().Checkpoint(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if cp >= due {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %d has not reached %d after %v", cp, due, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A gift due now is pushed before its second is past Lag (dispatched
// early, without the checkpoint), and checkpointing that second later
// does not push it again.
func TestDueTaskIsPushedBeforeItsSecondSettles(t *testing.T) {
	const lag = 4 * time.Second
	now := time.Now()
	due := now.Unix()
	e := newScanEnv(t, 3, due)
	if err := e.st.Notify().SetCheckpoint(t.Context(), 0, due-int64(lag/time.Second)-1); err != nil {
		t.Fatal(err)
	}
	e.run(t, lag, 2)
	settles := time.Unix(due, 0).Add(lag) // the settled scan reads second due from here on
	for e.tr.count() < len(e.users) {
		if time.Now().After(settles) {
			t.Fatalf("%d of %d gifts pushed by the time their second settled", e.tr.count(), len(e.users))
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.waitCheckpoint(t, due, lag+5*time.Second)
	time.Sleep(100 * time.Millisecond) // a repeat would follow the checkpoint at once
	e.tr.mu.Lock()
	defer e.tr.mu.Unlock()
	for _, u := range e.users {
		if got := e.tr.sent[u]; got != 1 {
			t.Errorf("user %d got %d pushes, want 1", u, got)
		}
	}
}

// A second holding more tasks than a queue page and than the sender's
// job buffer is pushed whole, each task once, by parallel workers, and
// checkpointed.
func TestBusySecondIsPushedWholeAndOnce(t *testing.T) {
	const n = 5000
	due := time.Now().Unix() - 2
	e := newScanEnv(t, n, due)
	if err := e.st.Notify().SetCheckpoint(t.Context(), 0, due-1); err != nil {
		t.Fatal(err)
	}
	e.run(t, time.Second, 8)
	e.waitCheckpoint(t, due, 60*time.Second)
	e.tr.mu.Lock()
	defer e.tr.mu.Unlock()
	if e.tr.total != n {
		t.Fatalf("%d pushes for %d tasks", e.tr.total, n)
	}
	for _, u := range e.users {
		if e.tr.sent[u] != 1 {
			t.Fatalf("user %d got %d pushes, want 1", u, e.tr.sent[u])
		}
	}
}
