package fanout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// Config tunes the engine. Zero fields take the defaults.
type Config struct {
	// LargeThreshold: authors with more friends plus followers than this
	// are not fanned out on write; readers merge their outbox (hybrid).
	LargeThreshold int64
	// MergeRecent is how many recent items of a new friend or followee are
	// merged into the other's timeline.
	MergeRecent int
	// Policy bounds timelines.
	Policy timeline.Policy
	// TrimEvery: about one delivery in TrimEvery trims its timeline.
	TrimEvery int
	// Now is the clock (tests pin it).
	Now func() time.Time
	// Hooks are told about every event that took effect, in order.
	Hooks []Hook
	// Profiles keeps the profile events' profiles; nil refuses them to
	// the dead letters (nothing here to keep them in).
	Profiles Profiles
	// Comments keeps comments and their counts; without it comment and
	// comment_delete events are refused (reason other).
	Comments Comments
	// Overlap is how many independent store calls of one event (an
	// item's audience size and friends; a flush's trims) the engine runs
	// at once. 0 or 1: one after another, right for an in-process store,
	// whose calls take microseconds: a goroutine started for one waits
	// behind the process's CPU-bound readers for a scheduler slice, which
	// under the bench's mixed load cut the applied rate from 1.0 to 0.6
	// of the offered one. Set it where each call is a network round trip
	// (Cassandra).
	Overlap int
	// Reactions is the configured set of reaction kinds a react may name
	// (zero: schema.DefaultReactions); a react of another kind is refused.
	Reactions schema.ReactionSet
}

// Effect is what applying one event did, for the hooks.
type Effect struct {
	// Object is the object as stored: items, delete, live_end, and
	// class/unclass when the object is known.
	Object objects.Object
	// Recipients are the users whose home timelines got an item (not its
	// author), ascending; nil when the author is Large.
	Recipients []int64
	// Large: the author is merged at read time (hybrid fan-out).
	Large bool
	// Mark is the mark as stored after a class, unclass, react or
	// unreact; Before is the mark it replaced (equal to Mark when the
	// event was delivered again after it took effect).
	Mark   objects.Mark
	Before objects.Mark
	// Comment is the comment as stored after a comment or comment_delete.
	Comment objects.Comment
	// Thread, on a reply (or the delete of one), is who wrote the
	// comments of its reply-to chain (the comment replied to first, then
	// its ancestors), each once, not the replier: the people a reply
	// notifies besides the object's owner.
	Thread []int64
	// applied is set by a handler when the event took effect (it was not
	// stale, late or a no-op).
	applied bool
}

// Hook reacts to events that took effect: notifications, ranking signals.
// It must be idempotent, because a failed batch is retried whole and events
// may be delivered again; an error fails the batch (it is retried).
type Hook interface {
	Applied(ctx context.Context, ev *schema.Event, eff *Effect) error
}

// Defaults.
const (
	DefaultLargeThreshold = 10_000
	DefaultMergeRecent    = 20
	DefaultTrimEvery      = 256
)

func (c Config) withDefaults() Config {
	if c.LargeThreshold <= 0 {
		c.LargeThreshold = DefaultLargeThreshold
	}
	if c.MergeRecent <= 0 {
		c.MergeRecent = DefaultMergeRecent
	}
	if c.Policy.Cap <= 0 {
		c.Policy.Cap = timeline.DefaultPolicy.Cap
	}
	if c.Policy.MaxAge <= 0 {
		c.Policy.MaxAge = timeline.DefaultPolicy.MaxAge
	}
	if c.TrimEvery <= 0 {
		c.TrimEvery = DefaultTrimEvery
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Engine applies events to the stores. It is safe for concurrent use by
// several workers, provided each actor's events go through one worker in
// order (as the bus guarantees).
type Engine struct {
	graph     Graph
	objects   Objects
	timelines Timelines
	ledger    Ledger
	cfg       Config
	pool      sync.Pool // *batch
}

// NewEngine wires an engine to its stores; graph.Store, objects.Store and
// timeline.Store satisfy the narrow interfaces it takes.
func NewEngine(g Graph, o Objects, t Timelines, l Ledger, cfg Config) *Engine {
	e := &Engine{graph: g, objects: o, timelines: t, ledger: l, cfg: cfg.withDefaults()}
	e.pool.New = func() any { return &batch{} }
	return e
}

// Rejection is an event the engine refused for a reason that retrying will
// not change (it goes to the dead-letter store).
type Rejection struct {
	Index   int
	EventID string
	Reason  string
	Code    string // one of the Reason* codes
}

// Result is what one Apply did.
type Result struct {
	Applied    int // events applied (including harmless stale ones)
	Duplicates int // events skipped because the ledger had them
	Deliveries int // home timeline rows written
	Rejected   []Rejection
}

// rejectError marks a per-event refusal inside the engine.
type rejectError struct {
	reason string
	err    error // sentinel that classifies it, or nil
}

func (r *rejectError) Error() string { return r.reason }
func (r *rejectError) Unwrap() error { return r.err }

// reject is a refusal without a sentinel: ReasonOf gives it "other", or
// "not_visible" when its text starts so.
func reject(format string, args ...any) error {
	return &rejectError{reason: fmt.Sprintf(format, args...)}
}

// batch buffers the timeline rows of one Apply so they are written in few
// large store calls.
type batch struct {
	rows       []timeline.Row
	trim       []int64
	ids        []string
	seen       map[string]uint64 // id -> digest, within this batch
	deliveries int
	eff        Effect
}

func (b *batch) reset() {
	clear(b.rows)
	b.rows = b.rows[:0]
	b.trim = b.trim[:0]
	b.ids = b.ids[:0]
	clear(b.seen)
	b.deliveries = 0
}

// Apply applies a batch of normalized, valid events in order. A store error
// aborts the batch and is returned: the caller retries the whole batch,
// which is safe because every write is idempotent. Events refused for good
// come back in Result.Rejected.
func (e *Engine) Apply(ctx context.Context, evs []schema.Event) (Result, error) {
	var res Result
	if len(evs) == 0 {
		return res, nil
	}
	b := e.pool.Get().(*batch)
	defer func() { b.reset(); e.pool.Put(b) }()
	if b.seen == nil {
		b.seen = make(map[string]uint64, len(evs))
	}
	for i := range evs {
		b.ids = append(b.ids, evs[i].ID)
	}
	seen, err := e.ledger.Seen(ctx, b.ids)
	if err != nil {
		return res, fmt.Errorf("read ledger: %w", err)
	}
	done := b.ids[:0]
	var digests []uint64
	for i := range evs {
		ev := &evs[i]
		dg := Digest(ev)
		if dup, conflict := b.duplicate(ev.ID, dg, seen[i]); dup {
			res.Duplicates++
			continue
		} else if conflict {
			res.Rejected = append(res.Rejected, conflictRejection(i, ev.ID))
			continue
		}
		b.seen[ev.ID] = dg
		if err := e.apply(ctx, b, ev); err != nil {
			var rj *rejectError
			if !errors.As(err, &rj) {
				return res, fmt.Errorf("apply %s %q: %w", ev.Type, ev.ID, err)
			}
			// A refused event is not recorded as applied, so that a
			// replay after the cause is fixed is not skipped.
			res.Rejected = append(res.Rejected, Rejection{Index: i, EventID: ev.ID, Reason: rj.reason, Code: ReasonOf(rj)})
			continue
		}
		res.Applied++
		done = append(done, ev.ID)
		digests = append(digests, dg)
	}
	if err := e.flush(ctx, b); err != nil {
		return res, err
	}
	res.Deliveries = b.deliveries
	if len(done) > 0 {
		if err := e.ledger.Record(ctx, done, digests, e.cfg.Now().UnixMilli()); err != nil {
			return res, fmt.Errorf("record ledger: %w", err)
		}
	}
	return res, nil
}

// flush writes buffered rows, then trims the timelines picked for it.
func (e *Engine) flush(ctx context.Context, b *batch) error {
	if len(b.rows) > 0 {
		if err := e.timelines.Write(ctx, b.rows); err != nil {
			return fmt.Errorf("write timelines: %w", err)
		}
		clear(b.rows)
		b.rows = b.rows[:0]
	}
	if len(b.trim) > 0 {
		minTS := e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli()
		slices.Sort(b.trim)
		// Trims are independent (one timeline each) and each is a read and
		// a delete: round trips worth overlapping where calls are remote.
		users := slices.Compact(b.trim)
		err := e.overlap(ctx, len(users), func(ctx context.Context, i int) error {
			if err := e.timelines.Trim(ctx, timeline.Home, users[i], e.cfg.Policy.Cap, minTS); err != nil {
				return fmt.Errorf("trim timeline of %d: %w", users[i], err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		b.trim = b.trim[:0]
	}
	return nil
}

// overlap runs fn(0..n-1): one after another unless Config.Overlap allows
// several at once; it returns the first error.
func (e *Engine) overlap(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if e.cfg.Overlap <= 1 || n <= 1 {
		for i := range n {
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.cfg.Overlap)
	for i := range n {
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

func (e *Engine) apply(ctx context.Context, b *batch, ev *schema.Event) error {
	b.eff = Effect{}
	if err := e.dispatch(ctx, b, ev); err != nil {
		return err
	}
	if !b.eff.applied {
		return nil
	}
	for _, h := range e.cfg.Hooks {
		if err := h.Applied(ctx, ev, &b.eff); err != nil {
			return fmt.Errorf("hook: %w", err)
		}
	}
	return nil
}

func (e *Engine) dispatch(ctx context.Context, b *batch, ev *schema.Event) error {
	switch ev.Type {
	case schema.Post, schema.Photo, schema.Gift, schema.Live:
		return e.item(ctx, b, ev)
	case schema.Class:
		return e.class(ctx, b, ev)
	case schema.Unclass, schema.Unreact:
		return e.unclass(ctx, b, ev)
	case schema.React:
		return e.reactEvent(ctx, b, ev)
	case schema.LiveEnd:
		return e.liveEnd(ctx, b, ev)
	case schema.Delete:
		return e.delete(ctx, b, ev)
	case schema.Friend, schema.Unfriend:
		return e.friend(ctx, b, ev, ev.Type == schema.Friend)
	case schema.Follow, schema.Unfollow:
		return e.follow(ctx, b, ev, ev.Type == schema.Follow)
	case schema.Block, schema.Unblock:
		return e.block(ctx, b, ev, ev.Type == schema.Block)
	case schema.GroupAdd, schema.GroupRemove:
		return e.group(ctx, b, ev, ev.Type == schema.GroupAdd)
	case schema.Profile:
		return e.profile(ctx, b, ev)
	case schema.Comment:
		return e.comment(ctx, b, ev)
	case schema.CommentDelete:
		return e.commentDelete(ctx, b, ev)
	}
	return rejectAs(ErrUnknownType, "unknown type %q", ev.Type)
}
