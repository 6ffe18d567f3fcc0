package fanout

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/graph"
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
	// Mark is the mark as stored after a class or unclass.
	Mark objects.Mark
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
	graph     graph.Store
	objects   objects.Store
	timelines timeline.Store
	ledger    Ledger
	cfg       Config
	pool      sync.Pool // *batch
}

// NewEngine wires an engine to its stores.
func NewEngine(g graph.Store, o objects.Store, t timeline.Store, l Ledger, cfg Config) *Engine {
	e := &Engine{graph: g, objects: o, timelines: t, ledger: l, cfg: cfg.withDefaults()}
	e.pool.New = func() any { return &batch{} }
	return e
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

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
		for _, u := range slices.Compact(b.trim) {
			if err := e.timelines.Trim(ctx, timeline.Home, u, e.cfg.Policy.Cap, minTS); err != nil {
				return fmt.Errorf("trim timeline of %d: %w", u, err)
			}
		}
		b.trim = b.trim[:0]
	}
	return nil
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
	case schema.Unclass:
		return e.unclass(ctx, b, ev)
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
	}
	return rejectAs(ErrUnknownType, "unknown type %q", ev.Type)
}

func kindOf(t schema.Type) timeline.Kind {
	switch t {
	case schema.Photo:
		return timeline.KindPhoto
	case schema.Gift:
		return timeline.KindGift
	case schema.Live:
		return timeline.KindLive
	}
	return timeline.KindPost
}

func normAudience(a string) string {
	if a == "" {
		return schema.AudiencePublic
	}
	return a
}

// item stores a post, photo, gift or broadcast and fans it out.
func (e *Engine) item(ctx context.Context, b *batch, ev *schema.Event) error {
	obj := objects.Object{ID: ev.Object, Type: ev.Type, Author: ev.Actor, Target: ev.Target,
		Audience: normAudience(ev.Audience), Text: ev.Text, Media: ev.Media, TS: ev.TS,
		Until: ev.Until, EventID: ev.ID}
	stored, err := e.objects.Put(ctx, obj)
	if err != nil {
		return fmt.Errorf("store object: %w", err)
	}
	if stored.Deleted || (stored.Ended && ev.Type == schema.Live) {
		return nil // deleted or ended before this (late or repeated) copy arrived
	}
	if stored.EventID != ev.ID {
		if stored.Exists() {
			return reject("object %q already exists (created by event %q)", ev.Object, stored.EventID)
		}
		return reject("object %q is a tombstone owned by user %d", ev.Object, stored.Author)
	}
	if ev.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		b.eff.Object, b.eff.applied = stored, true
		return nil // kept as an object, too old for any timeline
	}
	entry := itemEntry(&stored)
	b.eff.Object, b.eff.applied = stored, true
	kind, group, _ := schema.ParseAudience(ev.Audience)
	if kind == schema.ToPrivate {
		if ev.Type != schema.Gift {
			b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: ev.Actor, Entry: entry})
		}
		return nil
	}
	// The outbox row is written before the audience is read, and a merge
	// (friend, follow) writes its edge before it reads the outbox: so a
	// concurrent merge on another worker either sees this item in the
	// outbox or its new edge is seen here. Neither can miss the item.
	if err := e.timelines.Write(ctx, []timeline.Row{
		{NS: timeline.Outbox, User: ev.Actor, Entry: entry},
		{NS: timeline.Home, User: ev.Actor, Entry: entry},
	}); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	users, large, err := e.audienceOf(ctx, ev.Actor, kind, group)
	if err != nil {
		return err
	}
	b.eff.Large = large
	if ev.Type == schema.Gift {
		users = addSorted(users, ev.Target)
	}
	e.deliver(b, ev.ID, users, ev.Actor, entry)
	b.eff.Recipients = users
	return nil
}

func itemEntry(o *objects.Object) timeline.Entry {
	return timeline.Entry{TS: o.TS, ID: o.EventID, Kind: kindOf(o.Type), Actor: o.Author,
		Object: o.ID, Owner: o.Target, Until: o.Until, Audience: o.Audience}
}

// deliver buffers home rows for users (except skip) and picks some of them
// for trimming.
func (e *Engine) deliver(b *batch, eventID string, users []int64, skip int64, entry timeline.Entry) {
	h := fnv.New64a()
	h.Write([]byte(eventID))
	seed := h.Sum64()
	every := uint64(e.cfg.TrimEvery)
	for _, u := range users {
		if u == skip {
			continue
		}
		b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: u, Entry: entry})
		b.deliveries++
		if (seed^uint64(u)*0x9E3779B97F4A7C15)%every == 0 {
			b.trim = append(b.trim, u)
		}
	}
}

// audience resolves who receives an author's item. Authors above the
// hybrid threshold get nobody: their outbox is merged at read time.
func (e *Engine) audience(ctx context.Context, author int64, kind schema.AudienceKind, group string) ([]int64, error) {
	users, _, err := e.audienceOf(ctx, author, kind, group)
	return users, err
}

// audienceOf is audience, also telling whether the author is large.
func (e *Engine) audienceOf(ctx context.Context, author int64, kind schema.AudienceKind, group string) ([]int64, bool, error) {
	size, err := e.graph.AudienceSize(ctx, author)
	if err != nil {
		return nil, false, fmt.Errorf("audience size: %w", err)
	}
	if size > e.cfg.LargeThreshold {
		if err := e.graph.MarkLarge(ctx, author); err != nil {
			return nil, false, fmt.Errorf("mark large: %w", err)
		}
		return nil, true, nil
	}
	users, err := e.smallAudience(ctx, author, kind, group)
	return users, false, err
}

func (e *Engine) smallAudience(ctx context.Context, author int64, kind schema.AudienceKind, group string) ([]int64, error) {
	friends, err := e.graph.Friends(ctx, author)
	if err != nil {
		return nil, fmt.Errorf("friends: %w", err)
	}
	switch kind {
	case schema.ToFriends:
		return friends, nil
	case schema.ToGroup:
		members, err := e.graph.GroupMembers(ctx, author, group)
		if err != nil {
			return nil, fmt.Errorf("group members: %w", err)
		}
		return graph.Intersect(members, friends), nil
	case schema.ToPrivate:
		return nil, nil
	}
	followers, err := e.graph.Followers(ctx, author)
	if err != nil {
		return nil, fmt.Errorf("followers: %w", err)
	}
	return graph.Union(friends, followers), nil
}

// class records a Class! and shows it to the marker's friends.
func (e *Engine) class(ctx context.Context, b *batch, ev *schema.Event) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	obj := objs[0]
	if obj.Exists() && obj.Author != ev.Target {
		return rejectAs(ErrNotOwner, "target %d is not the owner of object %q (owner %d)", ev.Target, ev.Object, obj.Author)
	}
	if err := e.checkMarkVisible(ctx, ev, &obj); err != nil {
		return err
	}
	cur, err := e.objects.SetMark(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: true, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set mark: %w", err)
	}
	// Only the class that turned the mark on has timeline rows: a later
	// class while on, or a late copy after an unclass, adds nothing.
	if !cur.On || cur.Since != ev.Stamp() {
		return nil
	}
	b.eff.Object, b.eff.Mark, b.eff.applied = obj, cur, true
	if obj.Deleted {
		return nil
	}
	if ev.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		return nil
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	e.deliver(b, ev.ID, friends, ev.Actor, classEntry(ev.Actor, ev.Object, ev.Target, ev.Stamp()))
	return nil
}

func classEntry(actor int64, object string, owner int64, since schema.Stamp) timeline.Entry {
	return timeline.Entry{TS: since.TS, ID: since.ID, Kind: timeline.KindClass, Actor: actor,
		Object: object, Owner: owner}
}

// unclass takes a Class! back and removes its rows.
func (e *Engine) unclass(ctx context.Context, b *batch, ev *schema.Event) error {
	cur, err := e.objects.SetMark(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: false, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set mark: %w", err)
	}
	if cur.On || cur.Stamp != ev.Stamp() || cur.Since.IsZero() {
		return nil // a newer class stands, or nothing was ever on
	}
	b.eff.Mark, b.eff.applied = cur, true
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	entry := classEntry(ev.Actor, ev.Object, cur.Owner, cur.Since)
	rows := make([]timeline.Row, 0, len(friends))
	for _, f := range friends {
		rows = append(rows, timeline.Row{NS: timeline.Home, User: f, Entry: entry})
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete class rows: %w", err)
	}
	return nil
}

// liveEnd retires a broadcast: readers stop showing it at once.
func (e *Engine) liveEnd(ctx context.Context, b *batch, ev *schema.Event) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	if o := objs[0]; o.Exists() && (o.Author != ev.Actor || o.Type != schema.Live) {
		return rejectAs(ErrNotOwner, "object %q is not a broadcast of user %d", ev.Object, ev.Actor)
	}
	obj, err := e.objects.End(ctx, ev.Object, ev.Actor, ev.Stamp())
	if err != nil {
		return fmt.Errorf("end broadcast: %w", err)
	}
	b.eff.Object, b.eff.applied = obj, true
	return nil
}

// delete removes an object from every feed: at once for readers (the
// object's state), then physically from the timelines it reached.
func (e *Engine) delete(ctx context.Context, b *batch, ev *schema.Event) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	if o := objs[0]; (o.Exists() || o.Author != 0) && o.Author != ev.Actor {
		return rejectAs(ErrNotOwner, "user %d may not delete object %q of user %d", ev.Actor, ev.Object, o.Author)
	}
	obj, err := e.objects.Delete(ctx, ev.Object, ev.Actor, ev.Stamp())
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	b.eff.Object, b.eff.applied = obj, true
	if !obj.Exists() {
		return nil // a tombstone: the object, if it ever comes, stays hidden
	}
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	entry := itemEntry(&obj)
	users, err := e.audience(ctx, obj.Author, schema.ToPublic, "")
	if err != nil {
		return err
	}
	if obj.Type == schema.Gift {
		users = addSorted(users, obj.Target)
	}
	rows := make([]timeline.Row, 0, len(users)+2)
	rows = append(rows, timeline.Row{NS: timeline.Outbox, User: obj.Author, Entry: entry},
		timeline.Row{NS: timeline.Home, User: obj.Author, Entry: entry})
	for _, u := range users {
		if u != obj.Author {
			rows = append(rows, timeline.Row{NS: timeline.Home, User: u, Entry: entry})
		}
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete rows: %w", err)
	}
	return nil
}

// stale reports whether the stored edge is newer than the event.
func (e *Engine) stale(ctx context.Context, rel graph.Rel, from, to int64, group string, at schema.Stamp) (graph.Edge, bool, error) {
	cur, err := e.graph.Edge(ctx, rel, from, to, group)
	if err != nil {
		return cur, false, fmt.Errorf("read %s edge: %w", rel, err)
	}
	return cur, cur.Stamp.After(at), nil
}

func (e *Engine) blockedEitherWay(ctx context.Context, a, b int64) (bool, error) {
	for _, p := range [2][2]int64{{a, b}, {b, a}} {
		edge, err := e.graph.Edge(ctx, graph.Block, p[0], p[1], "")
		if err != nil {
			return false, fmt.Errorf("read block edge: %w", err)
		}
		if edge.On {
			return true, nil
		}
	}
	return false, nil
}

// friend makes or ends a mutual friendship, merging or unmerging items.
func (e *Engine) friend(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Friend, a, t, "", at); err != nil || old {
		return err
	}
	if on {
		blocked, err := e.blockedEitherWay(ctx, a, t)
		if err != nil {
			return err
		}
		if blocked {
			return rejectAs(ErrBlocked, "users %d and %d cannot be friends: a block stands between them", a, t)
		}
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{
		{Rel: graph.Friend, From: a, To: t, On: on, Stamp: at},
		{Rel: graph.Friend, From: t, To: a, On: on, Stamp: at},
	}); err != nil {
		return fmt.Errorf("set friend edges: %w", err)
	}
	b.eff.applied = true
	if on {
		if err := e.merge(ctx, b, a, t, true); err != nil {
			return err
		}
		return e.merge(ctx, b, t, a, true)
	}
	if err := e.unmergeAuthor(ctx, b, a, t); err != nil {
		return err
	}
	return e.unmergeAuthor(ctx, b, t, a)
}

// follow starts or stops following an account.
func (e *Engine) follow(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Follow, a, t, "", at); err != nil || old {
		return err
	}
	if on {
		blocked, err := e.blockedEitherWay(ctx, a, t)
		if err != nil {
			return err
		}
		if blocked {
			return rejectAs(ErrBlocked, "user %d cannot follow %d: a block stands between them", a, t)
		}
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{{Rel: graph.Follow, From: a, To: t, On: on, Stamp: at}}); err != nil {
		return fmt.Errorf("set follow edge: %w", err)
	}
	b.eff.applied = true
	if on {
		return e.merge(ctx, b, a, t, false)
	}
	return e.unmergeAuthor(ctx, b, a, t)
}

// block ends every relation between two users and hides each from the other.
func (e *Engine) block(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Block, a, t, "", at); err != nil || old {
		return err
	}
	edges := []graph.Edge{{Rel: graph.Block, From: a, To: t, On: on, Stamp: at}}
	if on {
		edges = append(edges,
			graph.Edge{Rel: graph.Friend, From: a, To: t, Stamp: at},
			graph.Edge{Rel: graph.Friend, From: t, To: a, Stamp: at},
			graph.Edge{Rel: graph.Follow, From: a, To: t, Stamp: at},
			graph.Edge{Rel: graph.Follow, From: t, To: a, Stamp: at})
	}
	if err := e.graph.SetEdges(ctx, edges); err != nil {
		return fmt.Errorf("set block edges: %w", err)
	}
	b.eff.applied = true
	if !on {
		return nil
	}
	if err := e.unmergeAuthor(ctx, b, a, t); err != nil {
		return err
	}
	return e.unmergeAuthor(ctx, b, t, a)
}

// group adds a friend to, or removes one from, the actor's friend group.
func (e *Engine) group(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, g, at := ev.Actor, ev.Target, ev.Object, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Member, a, t, g, at); err != nil || old {
		return err
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{{Rel: graph.Member, From: a, To: t, Group: g, On: on, Stamp: at}}); err != nil {
		return fmt.Errorf("set group edge: %w", err)
	}
	b.eff.applied = true
	if on {
		return nil // only later items go to the group
	}
	aud := "group:" + g
	return e.unmerge(ctx, b, t, func(en *timeline.Entry) bool {
		return en.Actor == a && en.Audience == aud
	})
}

// merge copies author's recent items that viewer may now see into viewer's
// home timeline.
func (e *Engine) merge(ctx context.Context, b *batch, viewer, author int64, asFriend bool) error {
	recent, err := e.timelines.Page(ctx, timeline.Outbox, author, timeline.Position{}, e.cfg.MergeRecent)
	if err != nil {
		return fmt.Errorf("read outbox of %d: %w", author, err)
	}
	minTS := e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli()
	for _, en := range recent {
		if en.TS < minTS {
			break
		}
		kind, _, _ := schema.ParseAudience(en.Audience)
		if kind == schema.ToPublic || (asFriend && kind == schema.ToFriends) {
			b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: viewer, Entry: en})
			b.deliveries++
		}
	}
	return nil
}

// unmergeAuthor removes from viewer's home timeline what author's items
// viewer may no longer see, judged by the relations now stored.
func (e *Engine) unmergeAuthor(ctx context.Context, b *batch, viewer, author int64) error {
	friend, err := e.graph.Edge(ctx, graph.Friend, viewer, author, "")
	if err != nil {
		return fmt.Errorf("read friend edge: %w", err)
	}
	follow, err := e.graph.Edge(ctx, graph.Follow, viewer, author, "")
	if err != nil {
		return fmt.Errorf("read follow edge: %w", err)
	}
	blocked, err := e.blockedEitherWay(ctx, viewer, author)
	if err != nil {
		return err
	}
	return e.unmerge(ctx, b, viewer, func(en *timeline.Entry) bool {
		if en.Actor != author && (en.Owner != author || !blocked) {
			return false
		}
		if blocked {
			return true
		}
		if friend.On {
			return false
		}
		kind, _, _ := schema.ParseAudience(en.Audience)
		return en.Kind == timeline.KindClass || kind != schema.ToPublic || !follow.On
	})
}

// unmerge deletes the entries of viewer's home timeline that drop says to.
func (e *Engine) unmerge(ctx context.Context, b *batch, viewer int64, drop func(*timeline.Entry) bool) error {
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	const chunk = 256
	var rows []timeline.Row
	after := timeline.Position{}
	for scanned := 0; scanned < e.cfg.Policy.Cap*2; {
		page, err := e.timelines.Page(ctx, timeline.Home, viewer, after, chunk)
		if err != nil {
			return fmt.Errorf("read timeline of %d: %w", viewer, err)
		}
		for i := range page {
			if drop(&page[i]) {
				rows = append(rows, timeline.Row{NS: timeline.Home, User: viewer, Entry: page[i]})
			}
		}
		scanned += len(page)
		if len(page) < chunk {
			break
		}
		after = page[len(page)-1].Pos()
	}
	if len(rows) == 0 {
		return nil
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("unmerge from %d: %w", viewer, err)
	}
	return nil
}

func addSorted(s []int64, u int64) []int64 {
	i, ok := slices.BinarySearch(s, u)
	if ok {
		return s
	}
	return slices.Insert(slices.Clip(s), i, u)
}
