package notify

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lenta-dev/lenta/objects"
)

// Message is one encrypted-to-be push: the plaintext payload and the RFC
// 8030 headers.
type Message struct {
	Payload []byte
	TTL     time.Duration // how long the push service may keep it
	Urgency string        // "high" or "normal"
	Topic   string        // replaces an undelivered push of the same topic
}

// Outcome is the push service's answer.
type Outcome struct {
	Status     int
	RetryAfter time.Duration // from a Retry-After header; 0 if none
}

// ErrRefused is wrapped by a Transport when policy forbids the endpoint
// (not https, a private or loopback address...): the subscription is
// dropped.
var ErrRefused = errors.New("push endpoint refused")

// Transport delivers one message to one subscription (push/webpush).
type Transport interface {
	Send(ctx context.Context, sub *Subscription, msg *Message) (Outcome, error)
	// CheckEndpoint checks where an endpoint resolves, at subscribe time.
	CheckEndpoint(ctx context.Context, endpoint string) error
}

// MaxPayload bounds a push payload's plaintext (bytes). Transports pad
// to a record size that Firefox on Android accepts.
const MaxPayload = 1024

// Payload is what the service worker receives.
type Payload struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`
	Tag   string `json:"tag"`
	ID    string `json:"id"`
	Type  Kind   `json:"type"`
	TS    int64  `json:"ts"`
}

// SenderConfig wires a Sender. Inbox, Queue, Subs, Transport and Catalog
// are required.
type SenderConfig struct {
	Inbox     *Inbox
	Queue     Queue
	Subs      Subscriptions
	Transport Transport
	Catalog   *Catalog
	Names     Names
	// Objects, if set, tells object types ("photo") and drops pushes of
	// broadcasts that ended and of deleted objects.
	Objects objects.Store
	// Retries, if set, keeps pushes awaiting a retry in the store, so a
	// restart (or the next owner of the shard) resumes them; nil keeps them
	// in memory only.
	Retries Retries
	// Leases, if set, splits the shards between the push processes that
	// share the store: this sender serves only the shards it holds a lease
	// on. nil serves every shard of Shards (one push process).
	Leases Leases
	// Claims, if set, make each group's push of each coalescing window go
	// out once across senders: a shard handed over mid-window is not pushed
	// again by its next owner (see Claims). nil relies on the checkpoint
	// alone, which repeats the second being scanned at a handover.
	Claims Claims
	// Owner names this sender in Leases and Claims (default: random).
	Owner string
	// LeaseTTL is how long a lease lasts unless renewed (default 15s); it
	// is renewed every LeaseTTL/3, and a dead sender's shards are taken
	// over within about LeaseTTL.
	LeaseTTL time.Duration
	// Observer, if set, sees every outcome (metrics).
	Observer Observer
	// Workers bounds concurrent sends (default 16).
	Workers int
	// MaxAttempts per push (default 5).
	MaxAttempts int
	// MinBackoff and MaxBackoff bound retry delays (default 1s and 60s); a
	// Retry-After header overrides the computed delay when longer.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the queue is scanned (default 250ms).
	Poll time.Duration
	// Lag is how far behind the clock the sender reads the queue, for clock
	// skew between processes (default 1s).
	Lag time.Duration
	// Shards this sender may serve (default all). With Leases every push
	// process must list the same shards.
	Shards []int
	Now    func() time.Time
	Log    *slog.Logger
}

// Observer sees what a Sender does. Implementations must be safe for
// concurrent use and fast.
type Observer interface {
	PushSent()                        // a push service accepted a push (2xx)
	PushRetried()                     // an attempt failed and a retry was scheduled
	PushFailed()                      // given up after MaxAttempts
	PushRemoved()                     // a subscription was deleted (404, 410, 4xx, refused)
	PushStale()                       // dropped: past its deadline, ended or deleted
	PushSendDuration(d time.Duration) // one attempt's time at the push service
	PushShards(n int)                 // shards this sender serves now
}

// Stats count what a Sender did.
type Stats struct {
	Sent, Retried, Stale, Removed, Failed, Skipped atomic.Int64
	// Claimed counts tasks not pushed because another sender had claimed
	// their group and window (a shard handover).
	Claimed atomic.Int64
}

// Sender reads the push queue and delivers pushes with a bounded pool of
// workers: 404/410 and other non-retryable 4xx remove the subscription,
// 408/429/5xx and network errors are retried with backoff that honours
// Retry-After, and anything past its deadline is dropped. Retries are kept
// in the store (SenderConfig.Retries) and served by the owner of their
// shard (SenderConfig.Leases).
type Sender struct {
	cfg   SenderConfig
	stats Stats
	obs   Observer

	mu       sync.Mutex
	retries  retryHeap
	lastSent map[string]int64 // user|group -> newest activity ts pushed

	// Touched only by Run's goroutine.
	cps       map[int]int64
	early     map[int]map[taskKey]*taskRun // shard -> tasks dispatched before their second was checkpointed
	owned     map[int]time.Time            // shard -> when this sender stops trusting its lease
	nextLease time.Time
}

// NewSender checks cfg and makes a Sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Inbox == nil || cfg.Queue == nil || cfg.Subs == nil || cfg.Transport == nil || cfg.Catalog == nil {
		return nil, errors.New("notify: SenderConfig needs Inbox, Queue, Subs, Transport and Catalog")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Lag <= 0 {
		cfg.Lag = time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.LeaseTTL < 3*time.Second {
		return nil, fmt.Errorf("notify: LeaseTTL %v is under 3s", cfg.LeaseTTL)
	}
	if cfg.Owner == "" {
		cfg.Owner = fmt.Sprintf("push-%016x", rand.Uint64())
	}
	if len(cfg.Shards) == 0 {
		for i := range Shards {
			cfg.Shards = append(cfg.Shards, i)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	return &Sender{cfg: cfg, obs: obs, lastSent: map[string]int64{}, cps: map[int]int64{},
		early: map[int]map[taskKey]*taskRun{}, owned: map[int]time.Time{}}, nil
}

type nopObserver struct{}

func (nopObserver) PushSent()                      {}
func (nopObserver) PushRetried()                   {}
func (nopObserver) PushFailed()                    {}
func (nopObserver) PushRemoved()                   {}
func (nopObserver) PushStale()                     {}
func (nopObserver) PushSendDuration(time.Duration) {}
func (nopObserver) PushShards(int)                 {}

// Stats are the sender's counters.
func (s *Sender) Stats() *Stats { return &s.stats }

// Owner is this sender's name in the shard leases.
func (s *Sender) Owner() string { return s.cfg.Owner }

func (s *Sender) stale() {
	s.stats.Stale.Add(1)
	s.obs.PushStale()
}

// job is one attempt to come at one device. A first attempt carries its
// message; a retry (stored set) renders the group as it is at its time.
type job struct {
	shard    int
	user     int64
	group    string
	sub      Subscription
	msg      Message
	deadline int64 // unix ms
	attempt  int
	at       time.Time // not before
	stored   *Retry    // the stored retry this job is, deleted once settled

	// A task to expand (task and run set, nothing else): the worker reads
	// the task's group and devices and makes each first attempt (runTask).
	task *Task
	run  *taskRun
}

// maxBacklog bounds the queue seconds one scan reads per shard.
const maxBacklog = 600

// Run sends pushes until ctx ends; it returns ctx's error once every
// worker has stopped and the leases it held are released.
func (s *Sender) Run(ctx context.Context) error {
	jobs := make(chan *job, s.cfg.Workers*4)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				if j.task != nil {
					s.runTask(ctx, j)
					continue
				}
				s.attempt(ctx, j)
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
		s.releaseAll(ctx)
	}()
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		s.leases(ctx)
		if err := s.tick(ctx, jobs); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.cfg.Log.Warn("push: scan failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// leases takes, keeps and gives up shards. Without Leases the sender
// serves every shard. With them, every LeaseTTL/3 it heartbeats, reads
// the live push processes and wants shard Shards[i] when it is the
// (i mod n)-th of the n live processes (in name order): it takes or renews
// the leases of the shards it wants and releases the others, so processes
// split the shards and, once a dead process's heartbeat and leases
// expire, the survivors take its shards over.
func (s *Sender) leases(ctx context.Context) {
	if s.cfg.Leases == nil {
		if len(s.owned) == 0 {
			for _, sh := range s.cfg.Shards {
				s.gain(ctx, sh)
				s.owned[sh] = time.Unix(1<<62, 0)
			}
			s.obs.PushShards(len(s.owned))
		}
		return
	}
	now := s.cfg.Now()
	if now.Before(s.nextLease) {
		return
	}
	s.nextLease = now.Add(s.cfg.LeaseTTL / 3)
	ttl := s.cfg.LeaseTTL
	defer func() {
		now := s.cfg.Now()
		for sh, until := range s.owned {
			if now.After(until) {
				s.cfg.Log.Warn("push: lease lapsed", "shard", sh)
				s.lose(sh)
			}
		}
		s.obs.PushShards(len(s.owned))
	}()
	members, err := s.cfg.Leases.Heartbeat(ctx, s.cfg.Owner, ttl)
	if err != nil {
		s.cfg.Log.Warn("push: heartbeat", "err", err)
		return
	}
	if !slices.Contains(members, s.cfg.Owner) {
		members = append(members, s.cfg.Owner)
		slices.Sort(members)
	}
	for i, sh := range s.cfg.Shards {
		_, held := s.owned[sh]
		if members[i%len(members)] != s.cfg.Owner {
			if held {
				if err := s.cfg.Leases.ReleaseLease(ctx, sh, s.cfg.Owner); err != nil {
					s.cfg.Log.Warn("push: release lease", "shard", sh, "err", err)
				}
				s.cfg.Log.Info("push: shard handed over", "shard", sh)
				s.lose(sh)
			}
			continue
		}
		start := s.cfg.Now()
		ok, err := s.cfg.Leases.AcquireLease(ctx, sh, s.cfg.Owner, ttl)
		switch {
		case err != nil:
			s.cfg.Log.Warn("push: acquire lease", "shard", sh, "err", err)
		case ok:
			if !held {
				s.cfg.Log.Info("push: shard taken", "shard", sh, "owner", s.cfg.Owner)
				s.gain(ctx, sh)
			}
			// Trust the lease a fifth of its life less than the store does,
			// so a slow renewal stops this sender before another may start.
			s.owned[sh] = start.Add(ttl - ttl/5)
		case held:
			s.lose(sh)
		}
	}
}

// gain starts serving shard: its checkpoint is read again (another sender
// may have moved it) and its stored retries are loaded.
func (s *Sender) gain(ctx context.Context, shard int) {
	delete(s.cps, shard)
	delete(s.early, shard)
	if s.cfg.Retries == nil {
		return
	}
	var after Retry
	var loaded, dropped int
	now := s.cfg.Now().UnixMilli()
	for {
		rs, err := s.cfg.Retries.Retries(ctx, shard, after, 500)
		if err != nil {
			s.cfg.Log.Warn("push: load retries", "shard", shard, "err", err)
			break
		}
		s.mu.Lock()
		for i := range rs {
			r := rs[i]
			if r.Deadline <= now {
				dropped++
				s.stale()
				if err := s.cfg.Retries.DeleteRetry(ctx, r); err != nil {
					s.cfg.Log.Warn("push: drop stale retry", "err", err)
				}
				continue
			}
			loaded++
			heap.Push(&s.retries, &job{shard: r.Shard, user: r.User, group: r.Group, sub: Subscription{User: r.User, ID: r.Sub},
				deadline: r.Deadline, attempt: r.Attempt, at: time.UnixMilli(r.Due), stored: &r})
		}
		s.mu.Unlock()
		if len(rs) < 500 {
			break
		}
		after = rs[len(rs)-1]
	}
	if loaded+dropped > 0 {
		s.cfg.Log.Info("push: resuming retries", "shard", shard, "retries", loaded, "stale", dropped)
	}
}

// lose stops serving shard; its retries stay in the store for the next
// owner.
func (s *Sender) lose(shard int) {
	delete(s.owned, shard)
	delete(s.cps, shard)
	delete(s.early, shard)
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.retries[:0]
	for _, j := range s.retries {
		if j.shard != shard {
			kept = append(kept, j)
		}
	}
	clear(s.retries[len(kept):])
	s.retries = kept
	heap.Init(&s.retries)
}

// releaseAll gives up every lease at shutdown, so another sender takes
// the shards at once rather than after LeaseTTL.
func (s *Sender) releaseAll(ctx context.Context) {
	if s.cfg.Leases == nil || len(s.owned) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for sh := range s.owned {
		if err := s.cfg.Leases.ReleaseLease(rctx, sh, s.cfg.Owner); err != nil {
			s.cfg.Log.Warn("push: release lease", "shard", sh, "err", err)
		}
		delete(s.owned, sh)
	}
	s.obs.PushShards(0)
}

// holds reports whether this sender may serve shard now.
func (s *Sender) holds(shard int) bool {
	until, ok := s.owned[shard]
	return ok && s.cfg.Now().Before(until)
}

// objectOf reads n's object type; gone reports (and counts) a push that
// must not be sent because its object was deleted or its broadcast ended.
func (s *Sender) objectOf(ctx context.Context, n *Notification) (objType string, gone bool, err error) {
	if s.cfg.Objects == nil || n.Object == "" {
		return "", false, nil
	}
	objs, err := s.cfg.Objects.Get(ctx, []string{n.Object})
	if err != nil {
		return "", false, fmt.Errorf("read object: %w", err)
	}
	o := objs[0]
	if n.Kind == KindLive && (o.Ended || o.Deleted) || o.Deleted {
		s.stale()
		return "", true, nil
	}
	return string(o.Type), false, nil
}

// prepare renders a retry as its group is now, for its device; ok is
// false when there is nothing to send any more (the group was retracted,
// the object deleted, the device unsubscribed).
func (s *Sender) prepare(ctx context.Context, j *job) (bool, error) {
	n, ok, err := s.cfg.Inbox.Group(ctx, j.user, j.group)
	if err != nil || !ok {
		return false, err
	}
	objType, gone, err := s.objectOf(ctx, &n)
	if err != nil || gone {
		return false, err
	}
	subs, err := s.cfg.Subs.Subscriptions(ctx, j.user)
	if err != nil {
		return false, fmt.Errorf("read subscriptions: %w", err)
	}
	i := slices.IndexFunc(subs, func(x Subscription) bool { return x.ID == j.sub.ID })
	if i < 0 {
		return false, nil
	}
	j.sub = subs[i]
	if n.Kind == KindLive && n.Until > 0 {
		j.deadline = min(j.deadline, n.Until)
	}
	j.msg, err = s.Message(&n, j.sub.Lang, objType)
	return err == nil, err
}

// Message renders n for a device in lang.
func (s *Sender) Message(n *Notification, lang, objType string) (Message, error) {
	c := s.cfg.Catalog
	l := c.Match(lang)
	topic := Topic(n.Kind, n.Object)
	p := Payload{Title: c.T(l, "title"), Body: c.Text(l, n, s.cfg.Names, objType),
		URL: "/#notifications", Tag: topic, ID: n.ID, Type: n.Kind, TS: n.TS}
	if n.Kind == KindLive {
		p.URL = "/#live/" + n.Object
	}
	if len(p.Body) > 400 {
		p.Body = p.Body[:400]
	}
	b, err := json.Marshal(&p)
	if err != nil {
		return Message{}, fmt.Errorf("notify: encode payload: %w", err)
	}
	if len(b) > MaxPayload {
		return Message{}, fmt.Errorf("notify: payload of %d bytes is over %d", len(b), MaxPayload)
	}
	m := Message{Payload: b, Urgency: "normal", Topic: topic}
	if n.Kind == KindLive {
		m.Urgency = "high"
	}
	return m, nil
}

// Topic is the RFC 8030 topic of a notification: one per object (or per
// kind for friends and followers), 32 base64url characters, so a newer
// push replaces an undelivered older one.
func Topic(k Kind, object string) string {
	h := sha256.Sum256([]byte(string(k) + ":" + object))
	return base64.RawURLEncoding.EncodeToString(h[:])[:32]
}

// attempt sends one job once and decides what follows.
func (s *Sender) attempt(ctx context.Context, j *job) {
	now := s.cfg.Now()
	if j.deadline-now.UnixMilli() < time.Second.Milliseconds() {
		s.stale()
		s.settle(ctx, j)
		return
	}
	if j.msg.Payload == nil { // a retry: render the group as it is now
		ok, err := s.prepare(ctx, j)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Warn("push: prepare retry", "user", j.user, "group", j.group, "err", err)
				s.retry(ctx, j, 0, err.Error())
			}
			return
		}
		if !ok {
			s.stats.Skipped.Add(1)
			s.settle(ctx, j)
			return
		}
	}
	left := time.Duration(j.deadline-s.cfg.Now().UnixMilli()) * time.Millisecond
	if left < time.Second {
		s.stale()
		s.settle(ctx, j)
		return
	}
	j.msg.TTL = left
	start := time.Now()
	out, err := s.cfg.Transport.Send(ctx, &j.sub, &j.msg)
	s.obs.PushSendDuration(time.Since(start))
	switch {
	case errors.Is(err, ErrRefused):
		s.remove(ctx, j, err.Error())
	case err != nil:
		if ctx.Err() != nil {
			return // stopping: a stored retry stays for the next owner
		}
		s.cfg.Log.Debug("push: send failed", "user", j.sub.User, "sub", j.sub.ID, "err", err)
		s.retry(ctx, j, 0, err.Error())
	case out.Status >= 200 && out.Status < 300:
		s.stats.Sent.Add(1)
		s.obs.PushSent()
		s.settle(ctx, j)
	case out.Status == 408 || out.Status == 429 || out.Status >= 500:
		s.retry(ctx, j, out.RetryAfter, "status "+strconv.Itoa(out.Status))
	default:
		s.remove(ctx, j, "status "+strconv.Itoa(out.Status))
	}
}

// settle deletes the stored retry a job came from, once nothing follows.
func (s *Sender) settle(ctx context.Context, j *job) {
	if j.stored == nil || s.cfg.Retries == nil {
		return
	}
	if err := s.cfg.Retries.DeleteRetry(ctx, *j.stored); err != nil {
		s.cfg.Log.Warn("push: delete retry", "err", err)
	}
	j.stored = nil
}

func (s *Sender) remove(ctx context.Context, j *job, why string) {
	s.stats.Removed.Add(1)
	s.obs.PushRemoved()
	s.cfg.Log.Info("push: subscription removed", "user", j.sub.User, "sub", j.sub.ID, "why", why)
	if err := s.cfg.Subs.DeleteSubscription(ctx, j.sub.User, j.sub.ID); err != nil {
		s.cfg.Log.Warn("push: remove subscription", "err", err)
	}
	s.settle(ctx, j)
}

// retry schedules the next attempt: exponential backoff with jitter, or
// Retry-After when longer; dropped when it would land past the deadline.
// The retry is stored before the one it replaces is deleted, so a crash
// in between repeats an attempt rather than losing one.
func (s *Sender) retry(ctx context.Context, j *job, after time.Duration, why string) {
	j.attempt++
	if j.attempt >= s.cfg.MaxAttempts {
		s.stats.Failed.Add(1)
		s.obs.PushFailed()
		s.cfg.Log.Warn("push: giving up", "user", j.sub.User, "sub", j.sub.ID, "why", why)
		s.settle(ctx, j)
		return
	}
	d := s.cfg.MinBackoff << (j.attempt - 1)
	d = min(d, s.cfg.MaxBackoff)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	d = max(d, after)
	at := s.cfg.Now().Add(d)
	if at.UnixMilli() >= j.deadline {
		s.stale()
		s.settle(ctx, j)
		return
	}
	s.stats.Retried.Add(1)
	s.obs.PushRetried()
	prev := j.stored
	next := &job{shard: j.shard, user: j.user, group: j.group, sub: Subscription{User: j.user, ID: j.sub.ID},
		deadline: j.deadline, attempt: j.attempt, at: at}
	if s.cfg.Retries != nil {
		// Stored even when the sender is stopping: that is when it matters.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		ctx := sctx
		r := Retry{Shard: j.shard, Due: at.UnixMilli(), User: j.user, Group: j.group, Sub: j.sub.ID,
			Attempt: j.attempt, Deadline: j.deadline}
		if err := s.cfg.Retries.PutRetry(ctx, r); err != nil {
			s.cfg.Log.Warn("push: store retry (kept in memory)", "err", err)
			next.stored = prev // still stored under its old due time, or not at all
		} else {
			next.stored = &r
			if prev != nil {
				if err := s.cfg.Retries.DeleteRetry(ctx, *prev); err != nil {
					s.cfg.Log.Warn("push: delete retry", "err", err)
				}
			}
		}
	} else {
		next.sub, next.msg = j.sub, j.msg // in memory: no need to render again
	}
	s.mu.Lock()
	heap.Push(&s.retries, next)
	s.mu.Unlock()
}

// dueRetries pops the retries due at now of the shards this sender holds.
func (s *Sender) dueRetries(now time.Time) []*job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*job
	for len(s.retries) > 0 && !s.retries[0].at.After(now) {
		j := heap.Pop(&s.retries).(*job)
		if _, ok := s.owned[j.shard]; ok {
			out = append(out, j)
		}
	}
	return out
}

type retryHeap []*job

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(*job)) }
func (h *retryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
