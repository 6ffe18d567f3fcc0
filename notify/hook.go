package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
)

// Push TTLs by kind: how long a notification is worth delivering. A
// broadcast's lasts until it ends.
const (
	ClassTTL  = 6 * time.Hour
	GiftTTL   = 24 * time.Hour
	FriendTTL = 12 * time.Hour
	FollowTTL = 12 * time.Hour
)

// deadlineOf is the push deadline (unix ms) of an activity.
func deadlineOf(a *Activity) int64 {
	switch a.Kind {
	case KindLive:
		return a.Until
	case KindGift:
		return a.TS + GiftTTL.Milliseconds()
	case KindFriend:
		return a.TS + FriendTTL.Milliseconds()
	case KindFollow:
		return a.TS + FollowTTL.Milliseconds()
	}
	return a.TS + ClassTTL.Milliseconds()
}

// Shards is the number of push queue shards (user % Shards).
const Shards = 16

// CoalesceWindow: activities of one group queued within the same window
// become one push task.
const CoalesceWindow = 2 * time.Second

// HookConfig wires a Hook.
type HookConfig struct {
	Inbox *Inbox
	// Queue gets a push task per new notification; nil queues nothing.
	Queue Queue
	// Graph reads blocks and, for authors above the hybrid threshold, the
	// audience of a broadcast.
	Graph Graph
	// LiveCap bounds how many users a large author's broadcast notifies
	// (default 100,000).
	LiveCap int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Comments pages an object's comments, so a deleted comment leaves its
	// author in the owner's comment group while another comment of theirs
	// stands in the group's window; nil: it always leaves.
	Comments CommentPager
}

// Hook fills inboxes and the push queue from applied events. It runs
// inside the fan-out (fanout.Config.Hooks) and is idempotent: activities
// are keyed by (user, group, actor) and a re-applied event finds its own.
type Hook struct {
	cfg HookConfig
}

var _ fanout.Hook = (*Hook)(nil)

// NewHook makes a Hook.
func NewHook(cfg HookConfig) *Hook {
	if cfg.LiveCap <= 0 {
		cfg.LiveCap = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hook{cfg: cfg}
}

// Applied implements fanout.Hook.
func (h *Hook) Applied(ctx context.Context, ev *schema.Event, eff *fanout.Effect) error {
	switch ev.Type {
	case schema.Class, schema.React:
		// One group per object for every kind, keyed by when the
		// reaction turned on: a change of kind rewrites the actor's
		// activity in the same group.
		m := eff.Mark
		if !m.On || m.Owner == ev.Actor || (eff.Object.Exists() && eff.Object.Deleted) {
			return nil
		}
		return h.single(ctx, ev, Activity{User: m.Owner, Kind: ReactionKind(m.KindName()), Object: ev.Object,
			Group: GroupKey(KindClass, ev.Object, m.Since.TS), EventID: reactionEventID(&m)})
	case schema.Unclass, schema.Unreact:
		m := eff.Mark
		if m.On || m.Owner == 0 || m.Since.IsZero() {
			return nil
		}
		return h.cfg.Inbox.Retract(ctx, m.Owner, GroupKey(KindClass, m.Object, m.Since.TS), ev.Actor)
	case schema.Gift:
		return h.single(ctx, ev, Activity{User: ev.Target, Kind: KindGift, Object: ev.Object,
			Group: GroupKey(KindGift, ev.Object, ev.TS)})
	case schema.Friend:
		// The engine refuses a friendship across a block and calls hooks
		// only for events that took effect: no block to read again.
		return h.add(ctx, ev, Activity{User: ev.Target, Kind: KindFriend,
			Group: GroupKey(KindFriend, "", ev.TS)})
	case schema.Follow:
		return h.add(ctx, ev, Activity{User: ev.Target, Kind: KindFollow,
			Group: GroupKey(KindFollow, "", ev.TS)}) // as for Friend
	case schema.Live:
		return h.live(ctx, ev, eff)
	case schema.Delete:
		return h.deleted(ctx, ev, eff)
	case schema.Comment:
		return h.comment(ctx, ev, eff)
	case schema.CommentDelete:
		return h.uncomment(ctx, eff)
	case schema.Block:
		// A block hides each user from the other in the inbox too (and so
		// in the pushes built from it), as it does in feeds.
		if err := h.cfg.Inbox.RetractActor(ctx, ev.Actor, ev.Target); err != nil {
			return err
		}
		return h.cfg.Inbox.RetractActor(ctx, ev.Target, ev.Actor)
	}
	return nil
}

// InboxTTL is how long stores keep inbox rows (Cassandra: the tables'
// TTL).
const InboxTTL = 30 * 24 * time.Hour

// deleted retracts the notifications about a deleted object: its Class
// and comment groups in the owner's inbox (every 12-hour window the marks can be in
// while inbox rows live: one read of at most ~62 group keys), a gift's
// notification for its recipient, and a broadcast's for the author's
// friends and followers (blind deletes at the broadcast's position, in
// chunks; at most LiveCap users). Idempotent: a repeated delete finds
// nothing. Pushes still queued are dropped by the sender (the object is
// deleted and the group is gone).
func (h *Hook) deleted(ctx context.Context, ev *schema.Event, eff *fanout.Effect) error {
	o := &eff.Object
	if ev.Object == "" {
		return nil
	}
	owners := []int64{o.Author}
	if o.Author == 0 {
		owners[0] = ev.Actor
	}
	if o.Target != 0 && o.Target != owners[0] {
		owners = append(owners, o.Target)
	}
	span := GroupSpan.Milliseconds()
	now := h.cfg.Now().UnixMilli()
	lo := now - InboxTTL.Milliseconds()
	if o.TS > 0 {
		lo = max(lo, o.TS-span)
	}
	hi := max(ev.TS, now) + span
	var keys []string
	for w := lo / span; w <= hi/span; w++ {
		keys = append(keys, GroupKey(KindClass, ev.Object, w*span), GroupKey(KindComment, ev.Object, w*span))
	}
	for _, u := range owners {
		if err := h.cfg.Inbox.RemoveGroups(ctx, u, keys); err != nil {
			return err
		}
	}
	switch o.Type {
	case schema.Gift:
		if o.Target != 0 {
			return h.cfg.Inbox.RemoveGroups(ctx, o.Target, []string{GroupKey(KindGift, ev.Object, o.TS)})
		}
	case schema.Live:
		return h.unlive(ctx, o.Author, Position{TS: o.TS, Group: GroupKey(KindLive, ev.Object, o.TS)})
	}
	return nil
}

// liveAudience is who a large author's broadcast notifies: the author's
// friends and followers, each once (a friend who also follows is one
// user), ascending, at most LiveCap of them. live and unlive share it, so
// a deletion reaches everyone the broadcast reached.
func (h *Hook) liveAudience(ctx context.Context, author int64) ([]int64, error) {
	fr, err := h.cfg.Graph.Friends(ctx, author)
	if err != nil {
		return nil, fmt.Errorf("notify: friends: %w", err)
	}
	fo, err := h.cfg.Graph.Followers(ctx, author)
	if err != nil {
		return nil, fmt.Errorf("notify: followers: %w", err)
	}
	users := graph.Union(fr, fo)
	if len(users) > h.cfg.LiveCap {
		users = users[:h.cfg.LiveCap]
	}
	return users, nil
}

// unlive removes a deleted broadcast's notification from the inboxes of
// its author's friends and followers (the audience it was sent to, or a
// superset of it).
func (h *Hook) unlive(ctx context.Context, author int64, at Position) error {
	if h.cfg.Graph == nil || author == 0 {
		return nil
	}
	users, err := h.liveAudience(ctx, author)
	if err != nil {
		return err
	}
	const chunk = 1000
	rows := make([]GroupAt, 0, min(len(users), chunk))
	for i, u := range users {
		rows = append(rows, GroupAt{User: u, Pos: at})
		if len(rows) == chunk || i == len(users)-1 {
			if err := h.cfg.Inbox.RemoveAt(ctx, rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	return nil
}

// single adds a one-recipient activity unless a block stands between the
// two users, and queues its push when it is new.
func (h *Hook) single(ctx context.Context, ev *schema.Event, a Activity) error {
	if a.User == 0 || a.User == ev.Actor {
		return nil
	}
	if h.cfg.Graph != nil {
		blocked, err := graph.BlockedEitherWay(ctx, h.cfg.Graph, a.User, ev.Actor)
		if err != nil || blocked {
			return err
		}
	}
	return h.add(ctx, ev, a)
}

// add adds a one-recipient activity and queues its push when it is new
// (its EventID, the event's id unless the caller named another, is not
// the stored one);
// the caller has ruled out a block between the two users. (A block
// committed from the other user's partition after that check and
// retracted before this write can leave the activity, as it could after a
// second check here: the window is the same few microseconds.)
func (h *Hook) add(ctx context.Context, ev *schema.Event, a Activity) error {
	if a.User == 0 || a.User == ev.Actor {
		return nil
	}
	a.Actor, a.TS = ev.Actor, ev.TS
	if a.EventID == "" {
		a.EventID = ev.ID
	}
	added, err := h.cfg.Inbox.Add(ctx, a)
	if err != nil || !added {
		return err
	}
	return h.enqueue(ctx, []Activity{a})
}

// live notifies a broadcast's audience: the users whose feeds got it. For
// an author above the hybrid threshold (Recipients nil) a public
// broadcast goes to friends and followers read from the graph, at most
// LiveCap of them (the rest see it in their feeds only); a narrower one is
// not pushed.
func (h *Hook) live(ctx context.Context, ev *schema.Event, eff *fanout.Effect) error {
	if eff.Object.Ended || eff.Object.Deleted {
		return nil
	}
	if now := h.cfg.Now().UnixMilli(); ev.Until > 0 && ev.Until <= now {
		return nil
	}
	users := eff.Recipients
	if eff.Large && h.cfg.Graph != nil {
		kind, _, _ := schema.ParseAudience(ev.Audience)
		if kind != schema.ToPublic {
			return nil
		}
		var err error
		if users, err = h.liveAudience(ctx, ev.Actor); err != nil {
			return err
		}
	}
	if len(users) > h.cfg.LiveCap {
		users = users[:h.cfg.LiveCap]
	}
	const chunk = 1000
	acts := make([]Activity, 0, min(len(users), chunk))
	seen := make(map[int64]struct{}, len(users))
	flush := func() error {
		if err := h.cfg.Inbox.AddMany(ctx, acts); err != nil {
			return err
		}
		if err := h.enqueue(ctx, acts); err != nil {
			return err
		}
		acts = acts[:0]
		return nil
	}
	for _, u := range users {
		if _, dup := seen[u]; dup || u == ev.Actor || u == eff.Object.Target {
			continue
		}
		seen[u] = struct{}{}
		acts = append(acts, Activity{User: u, Group: GroupKey(KindLive, ev.Object, ev.TS), Kind: KindLive,
			Object: ev.Object, Actor: ev.Actor, TS: ev.TS, EventID: ev.ID, Until: ev.Until})
		if len(acts) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// enqueue queues one push task per activity: for a coalesced kind due at
// the end of the current coalescing window, so a burst in one group is
// one task; for the others due now (the current second).
func (h *Hook) enqueue(ctx context.Context, acts []Activity) error {
	if h.cfg.Queue == nil || len(acts) == 0 {
		return nil
	}
	now := h.cfg.Now()
	w := int64(CoalesceWindow / time.Second)
	windowEnd := (now.Unix()/w + 1) * w
	tasks := make([]Task, 0, len(acts))
	for i := range acts {
		a := &acts[i]
		dl := deadlineOf(a)
		if dl <= now.UnixMilli() {
			continue // stale already: never pushed
		}
		due := now.Unix()
		if a.Kind.Coalesced() {
			due = windowEnd
		}
		tasks = append(tasks, Task{Shard: ShardOf(a.User), Due: due, User: a.User, Group: a.Group, Deadline: dl})
	}
	if len(tasks) == 0 {
		return nil
	}
	if err := h.cfg.Queue.Enqueue(ctx, tasks); err != nil {
		return fmt.Errorf("notify: enqueue push: %w", err)
	}
	return nil
}

// ShardOf is the push queue shard of a user.
func ShardOf(user int64) int {
	s := user % Shards
	if s < 0 {
		s = -s
	}
	return int(s)
}
