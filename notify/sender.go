package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/retry"
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
	// People, if set, gives push texts display names ("Anna and 12
	// others ...") and each user's profile language; nil, or a user
	// without a profile: "User 7", the browser's language.
	People *people.Directory
	// Objects, if set, tells object types ("photo") and drops pushes of
	// broadcasts that ended and of deleted objects.
	Objects Objects
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
	// MinBackoff and MaxBackoff bound retry delays (default 1s and 60s):
	// the delay doubles from MinBackoff, jittered down to half, at most
	// MaxBackoff; a Retry-After header overrides it when longer.
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
	PushSkipped()                     // a task with nothing to push: no device, group retracted, already pushed
	PushClaimed()                     // a task pushed by its shard's previous owner (a handover)
	PushSendDuration(d time.Duration) // one attempt's time at the push service
	PushShards(n int)                 // shards this sender serves now
}

// Sender reads the push queue and delivers pushes with a bounded pool of
// workers: 404/410 and other non-retryable 4xx remove the subscription,
// 408/429/5xx and network errors are retried with backoff that honours
// Retry-After, and anything past its deadline is dropped. Retries are kept
// in the store (SenderConfig.Retries) and served by the owner of their
// shard (SenderConfig.Leases).
type Sender struct {
	cfg     SenderConfig
	obs     Observer     // the one place what the sender does is counted
	backoff retry.Policy // the wait after a failed attempt (deliver.go)

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
	// Equal jitter: a wait after the n-th failure is drawn from [d/2, d],
	// d = MinBackoff·2^(n−1) up to MaxBackoff.
	backoff := retry.Policy{Min: cfg.MinBackoff, Max: cfg.MaxBackoff, Jitter: 0.5}
	return &Sender{cfg: cfg, obs: obs, backoff: backoff, lastSent: map[string]int64{}, cps: map[int]int64{},
		early: map[int]map[taskKey]*taskRun{}, owned: map[int]time.Time{}}, nil
}

type nopObserver struct{}

func (nopObserver) PushSent()                      {}
func (nopObserver) PushRetried()                   {}
func (nopObserver) PushFailed()                    {}
func (nopObserver) PushRemoved()                   {}
func (nopObserver) PushStale()                     {}
func (nopObserver) PushSkipped()                   {}
func (nopObserver) PushClaimed()                   {}
func (nopObserver) PushSendDuration(time.Duration) {}
func (nopObserver) PushShards(int)                 {}

func (s *Sender) stale() { s.obs.PushStale() }

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
		wg.Go(func() { s.work(ctx, jobs) })
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

// work is one worker: it expands tasks and makes attempts until jobs is
// closed.
func (s *Sender) work(ctx context.Context, jobs <-chan *job) {
	for j := range jobs {
		if j.task != nil {
			s.runTask(ctx, j)
			continue
		}
		s.attempt(ctx, j)
	}
}
