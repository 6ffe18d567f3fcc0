package notify

import (
	"context"
	"time"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
)

// Store keeps inboxes. Implementations must be safe for concurrent use;
// every write is idempotent.
type Store interface {
	// PutActivities upserts activities by (User, Group, Actor). With index
	// set it also writes each one's inbox index row (User, TS, Group).
	PutActivities(ctx context.Context, acts []Activity, index bool) error
	// DeleteActivity removes one actor's activity from a group (missing is
	// not an error).
	DeleteActivity(ctx context.Context, user int64, group string, actor int64) error
	// Groups returns, for each group, its activities (any order, at most
	// MaxGroupActors).
	Groups(ctx context.Context, user int64, groups []string) ([][]Activity, error)
	// Head is what Inbox.Add needs of one group, read without reading the
	// group whole (a friend's group grows with every new friend, and
	// reading it per activity made a graph load quadratic): the ts of
	// its newest activity and actor's own activity's event id. A store may
	// keep the newest ts as a head row written by PutActivities with
	// index set; it must never report a newest ts above the group's true
	// newest activity (an emptied or retracted group rereads its rows), or
	// Add would leave a newer activity unindexed.
	Head(ctx context.Context, user int64, group string, actor int64) (GroupHead, error)
	// Index returns up to limit index rows strictly after position after,
	// newest first. A group may have stale rows (older than its newest
	// activity): readers skip and drop them.
	Index(ctx context.Context, user int64, after Position, limit int) ([]Position, error)
	// DropIndex removes index rows (missing is not an error).
	DropIndex(ctx context.Context, user int64, rows []Position) error
	// ReadMark is the user's read watermark (zero if never set).
	ReadMark(ctx context.Context, user int64) (Position, error)
	// SetReadMark moves the watermark forward to p; an older p changes
	// nothing.
	SetReadMark(ctx context.Context, user int64, p Position) error
	// DeleteGroups removes whole groups (every actor) together with the
	// index row at each GroupAt's Pos (missing is not an error).
	DeleteGroups(ctx context.Context, groups []GroupAt) error
}

// GroupHead is one group's newest activity ts (0 when it has none) and
// the event id of one actor's activity in it ("" when the actor has none).
type GroupHead struct {
	Newest  int64
	EventID string
}

// GroupAt names one user's group (Pos.Group) and one of its index rows
// (Pos.TS).
type GroupAt struct {
	User int64
	Pos  Position
}

// Subscription is one browser's push subscription.
type Subscription struct {
	User     int64
	ID       string // derived from the endpoint (SubscriptionID)
	Endpoint string
	P256dh   string // base64url, the browser's ECDH public key
	Auth     string // base64url, the 16-byte auth secret
	Lang     string // the browser's language, e.g. "ru"
	Created  int64  // unix ms
}

// Subscriptions keeps push subscriptions. Implementations must be safe for
// concurrent use.
type Subscriptions interface {
	// PutSubscription upserts by (User, ID).
	PutSubscription(ctx context.Context, s Subscription) error
	// DeleteSubscription removes one (missing is not an error).
	DeleteSubscription(ctx context.Context, user int64, id string) error
	// Subscriptions lists a user's subscriptions, oldest first.
	Subscriptions(ctx context.Context, user int64) ([]Subscription, error)
}

// Task is one queued push: "tell User about Group". Tasks are keyed by
// (Shard, Due, User, Group), so a burst of activities in one group within
// one coalescing window is one task.
type Task struct {
	Shard    int
	Due      int64 // unix seconds: when to send
	User     int64
	Group    string
	Deadline int64 // unix ms: drop the push after this (its TTL)
}

// Queue is the durable push queue between the fan-out hook and the push
// sender. Tasks are never deleted: each expires by itself (stores use a
// TTL), and the sender keeps a per-shard checkpoint of the last due second
// it finished.
type Queue interface {
	// Enqueue upserts tasks.
	Enqueue(ctx context.Context, tasks []Task) error
	// Due returns up to limit tasks of one (shard, due) strictly after
	// (user, group), ordered by (user, group).
	Due(ctx context.Context, shard int, due int64, afterUser int64, afterGroup string, limit int) ([]Task, error)
	// Checkpoint is the last due second finished for shard (0 if none).
	Checkpoint(ctx context.Context, shard int) (int64, error)
	// SetCheckpoint records it.
	SetCheckpoint(ctx context.Context, shard int, due int64) error
}

// Retry is one push to one device waiting for its next attempt. Retries
// are kept in the store, so a push being retried when the sender stops is
// resumed by whichever sender owns its shard next. Key: (Shard, Due, User,
// Group, Sub).
type Retry struct {
	Shard    int
	Due      int64 // unix ms: the next attempt, not before
	User     int64
	Group    string
	Sub      string // the subscription (device) id
	Attempt  int    // attempts made so far (1 after the first failure)
	Deadline int64  // unix ms: dropped after this
}

// Retries keeps pending retries. Implementations must be safe for
// concurrent use; a store with TTLs may expire a retry after its Deadline.
type Retries interface {
	// PutRetry upserts r by its key.
	PutRetry(ctx context.Context, r Retry) error
	// DeleteRetry removes the retry with r's key (missing is not an error).
	DeleteRetry(ctx context.Context, r Retry) error
	// Retries returns up to limit retries of shard in key order strictly
	// after after's key (the zero Retry: from the start).
	Retries(ctx context.Context, shard int, after Retry, limit int) ([]Retry, error)
}

// Leases split the push queue's shards between push processes: a shard is
// served only by the holder of its lease, which expires unless renewed.
// Implementations must be safe for concurrent use and must never let two
// owners hold one shard's lease at once.
type Leases interface {
	// Heartbeat records that owner is alive for ttl and returns every owner
	// alive now, owner included, in ascending order.
	Heartbeat(ctx context.Context, owner string, ttl time.Duration) ([]string, error)
	// AcquireLease takes shard's lease for owner when nobody holds it, or
	// extends it when owner does, to ttl from now; it reports whether owner
	// holds it afterwards.
	AcquireLease(ctx context.Context, shard int, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives shard's lease up if owner holds it.
	ReleaseLease(ctx context.Context, shard int, owner string) error
}

// Settings keeps small named values that must be created once and then
// shared by every process, such as the VAPID key pair.
type Settings interface {
	// PutSettingIfAbsent stores value under name unless a value is there,
	// and returns the value stored afterwards.
	PutSettingIfAbsent(ctx context.Context, name, value string) (string, error)
}

// Graph is what the hook reads of the social graph (graph.Store satisfies
// it): the block edges between an actor and each recipient
// (graph.BlockedEitherWay), and a large author's friends and followers,
// whom a broadcast notifies.
type Graph interface {
	graph.EdgeReader
	Friends(ctx context.Context, user int64) ([]int64, error)
	Followers(ctx context.Context, user int64) ([]int64, error)
}

// Objects is what the sender reads of objects (objects.Store satisfies
// it): an object's type, whether it was deleted, whether a broadcast ended.
type Objects interface {
	Get(ctx context.Context, ids []string) ([]objects.Object, error)
}

// Names gives a user's display name for push texts ("" or a nil Names:
// "User 7"); *people.Names satisfies it.
type Names interface {
	Name(user int64) string
}
