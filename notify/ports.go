package notify

import "context"

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

// Settings keeps small named values that must be created once and then
// shared by every process, such as the VAPID key pair.
type Settings interface {
	// PutSettingIfAbsent stores value under name unless a value is there,
	// and returns the value stored afterwards.
	PutSettingIfAbsent(ctx context.Context, name, value string) (string, error)
}

// Names gives a user's display name for push texts; nil means "#id".
type Names interface {
	Name(user int64) string
}
