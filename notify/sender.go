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
	// broadcasts that ended.
	Objects objects.Store
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
	// Shards this sender serves (default all): several push processes
	// split the shards between them.
	Shards []int
	Now    func() time.Time
	Log    *slog.Logger
}

// Stats count what a Sender did.
type Stats struct {
	Sent, Retried, Stale, Removed, Failed, Skipped atomic.Int64
}

// Sender reads the push queue and delivers pushes with a bounded pool of
// workers: 404/410 and other non-retryable 4xx remove the subscription,
// 408/429/5xx and network errors are retried with backoff that honours
// Retry-After, and anything past its deadline is dropped. Retries live in
// memory: a push being retried when the process stops is lost.
type Sender struct {
	cfg   SenderConfig
	stats Stats

	mu       sync.Mutex
	retries  retryHeap
	lastSent map[string]int64 // user|group -> newest activity ts pushed
	cps      map[int]int64
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
	return &Sender{cfg: cfg, lastSent: map[string]int64{}, cps: map[int]int64{}}, nil
}

// Stats are the sender's counters.
func (s *Sender) Stats() *Stats { return &s.stats }

type job struct {
	sub      Subscription
	msg      Message
	deadline int64 // unix ms
	attempt  int
	at       time.Time // not before
	done     chan<- struct{}
}

// maxBacklog bounds the queue seconds one scan reads per shard.
const maxBacklog = 600

// Run sends pushes until ctx ends; it returns ctx's error once every
// worker has stopped.
func (s *Sender) Run(ctx context.Context) error {
	jobs := make(chan *job, s.cfg.Workers*4)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				s.attempt(ctx, j)
			}
		})
	}
	defer func() { close(jobs); wg.Wait() }()
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
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

// tick hands due retries to the workers and reads each shard's due tasks.
func (s *Sender) tick(ctx context.Context, jobs chan<- *job) error {
	now := s.cfg.Now()
	for _, j := range s.dueRetries(now) {
		select {
		case jobs <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	upTo := now.Add(-s.cfg.Lag).Unix()
	for _, sh := range s.cfg.Shards {
		if err := s.scan(ctx, sh, upTo, jobs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sender) scan(ctx context.Context, shard int, upTo int64, jobs chan<- *job) error {
	cp, ok := s.cps[shard]
	if !ok {
		var err error
		if cp, err = s.cfg.Queue.Checkpoint(ctx, shard); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		switch floor := upTo - maxBacklog; {
		case cp == 0:
			cp = upTo - 10 // a new queue: nothing older to read
		case cp < floor:
			cp = floor // long down: older tasks are past their deadlines
		}
	}
	for due := cp + 1; due <= upTo; due++ {
		var n int
		done := make(chan struct{}, 4096)
		var afterU int64
		var afterG string
		for {
			tasks, err := s.cfg.Queue.Due(ctx, shard, due, afterU, afterG, 500)
			if err != nil {
				return fmt.Errorf("read queue: %w", err)
			}
			for i := range tasks {
				js, err := s.jobsFor(ctx, &tasks[i])
				if err != nil {
					return err
				}
				for _, j := range js {
					if n == cap(done) {
						break // beyond this, do not wait for first attempts
					}
					j.done = done
					n++
					select {
					case jobs <- j:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			if len(tasks) < 500 {
				break
			}
			afterU, afterG = tasks[len(tasks)-1].User, tasks[len(tasks)-1].Group
		}
		for range n { // first attempts done: the second is safe to checkpoint
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := s.cfg.Queue.SetCheckpoint(ctx, shard, due); err != nil {
			return fmt.Errorf("set checkpoint: %w", err)
		}
		s.cps[shard] = due
	}
	if _, ok := s.cps[shard]; !ok {
		s.cps[shard] = max(cp, upTo)
	}
	return nil
}

// jobsFor turns one task into one job per device of the user.
func (s *Sender) jobsFor(ctx context.Context, t *Task) ([]*job, error) {
	now := s.cfg.Now()
	if now.UnixMilli() >= t.Deadline {
		s.stats.Stale.Add(1)
		return nil, nil
	}
	n, ok, err := s.cfg.Inbox.Group(ctx, t.User, t.Group)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.stats.Skipped.Add(1)
		return nil, nil // retracted
	}
	key := strconv.FormatInt(t.User, 10) + "|" + t.Group
	s.mu.Lock()
	last := s.lastSent[key]
	s.mu.Unlock()
	if last >= n.TS {
		s.stats.Skipped.Add(1)
		return nil, nil // already pushed (a burst, or a re-applied event)
	}
	objType := ""
	if s.cfg.Objects != nil && n.Object != "" {
		objs, err := s.cfg.Objects.Get(ctx, []string{n.Object})
		if err != nil {
			return nil, fmt.Errorf("read object: %w", err)
		}
		o := objs[0]
		if n.Kind == KindLive && (o.Ended || o.Deleted) || o.Deleted {
			s.stats.Stale.Add(1)
			return nil, nil
		}
		objType = string(o.Type)
	}
	subs, err := s.cfg.Subs.Subscriptions(ctx, t.User)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	s.mu.Lock()
	if len(s.lastSent) > 200_000 {
		clear(s.lastSent)
	}
	s.lastSent[key] = n.TS
	s.mu.Unlock()
	deadline := t.Deadline
	if n.Kind == KindLive && n.Until > 0 {
		deadline = min(deadline, n.Until)
	}
	s.cfg.Log.Debug("push: task", "user", t.User, "group", t.Group, "devices", len(subs))
	out := make([]*job, 0, len(subs))
	for _, sub := range subs {
		msg, err := s.Message(&n, sub.Lang, objType)
		if err != nil {
			return nil, err
		}
		out = append(out, &job{sub: sub, msg: msg, deadline: deadline})
	}
	return out, nil
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
	defer func() {
		if j.done != nil {
			j.done <- struct{}{}
			j.done = nil
		}
	}()
	now := s.cfg.Now()
	left := time.Duration(j.deadline-now.UnixMilli()) * time.Millisecond
	if left < time.Second {
		s.stats.Stale.Add(1)
		return
	}
	j.msg.TTL = left
	out, err := s.cfg.Transport.Send(ctx, &j.sub, &j.msg)
	switch {
	case errors.Is(err, ErrRefused):
		s.remove(ctx, j, err.Error())
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		s.cfg.Log.Debug("push: send failed", "user", j.sub.User, "sub", j.sub.ID, "err", err)
		s.retry(j, 0, err.Error())
	case out.Status >= 200 && out.Status < 300:
		s.stats.Sent.Add(1)
	case out.Status == 408 || out.Status == 429 || out.Status >= 500:
		s.retry(j, out.RetryAfter, "status "+strconv.Itoa(out.Status))
	default:
		s.remove(ctx, j, "status "+strconv.Itoa(out.Status))
	}
}

func (s *Sender) remove(ctx context.Context, j *job, why string) {
	s.stats.Removed.Add(1)
	s.cfg.Log.Info("push: subscription removed", "user", j.sub.User, "sub", j.sub.ID, "why", why)
	if err := s.cfg.Subs.DeleteSubscription(ctx, j.sub.User, j.sub.ID); err != nil {
		s.cfg.Log.Warn("push: remove subscription", "err", err)
	}
}

// retry schedules the next attempt: exponential backoff with jitter, or
// Retry-After when longer; dropped when it would land past the deadline.
func (s *Sender) retry(j *job, after time.Duration, why string) {
	j.attempt++
	if j.attempt >= s.cfg.MaxAttempts {
		s.stats.Failed.Add(1)
		s.cfg.Log.Warn("push: giving up", "user", j.sub.User, "sub", j.sub.ID, "why", why)
		return
	}
	d := s.cfg.MinBackoff << (j.attempt - 1)
	d = min(d, s.cfg.MaxBackoff)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	d = max(d, after)
	at := s.cfg.Now().Add(d)
	if at.UnixMilli() >= j.deadline {
		s.stats.Stale.Add(1)
		return
	}
	s.stats.Retried.Add(1)
	j.at = at
	s.mu.Lock()
	heap.Push(&s.retries, j)
	s.mu.Unlock()
}

func (s *Sender) dueRetries(now time.Time) []*job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*job
	for len(s.retries) > 0 && !s.retries[0].at.After(now) {
		out = append(out, heap.Pop(&s.retries).(*job))
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
