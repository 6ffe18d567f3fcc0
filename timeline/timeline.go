package timeline

import (
	"context"
	"time"
)

// Kind is what an entry shows.
type Kind uint8

// Entry kinds.
const (
	KindPost Kind = 1 + iota
	KindPhoto
	KindGift
	KindLive
	KindClass   // "your friend Actor gave Class to Object (owned by Owner)"
	KindComment // "your friend Actor commented on Object (owned by Owner)"
)

var kindNames = [...]string{"", "post", "photo", "gift", "live", "class", "comment"}

// Aggregated reports whether entries of kind k are shown aggregated per
// object (Class! and comment entries): their Home rows are indexed in the
// marker index under MarkerObject, and a reader shows one entry per
// object, at the newest valid marker.
func (k Kind) Aggregated() bool { return k == KindClass || k == KindComment }

// commentMarkers prefixes the marker-index key of comment entries; '~' is
// outside the object id charset, so no object id is ever one of them.
const commentMarkers = "~comment:"

// MarkerObject is the key under which a Home row of an aggregated kind is
// indexed (Store.Markers): the object itself for Class!, the object
// prefixed apart for comments, so the two aggregates of one object keep
// separate markers in the one index.
func MarkerObject(k Kind, object string) string {
	if k == KindComment {
		return commentMarkers + object
	}
	return object
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k]
	}
	return "unknown"
}

// NS names which of a user's timelines a row belongs to.
type NS uint8

// Namespaces.
const (
	Home   NS = 1 // what the user reads
	Outbox NS = 2 // what the user authored
)

// Entry is one timeline row. It is deliberately small: the content lives
// with the object and is hydrated at read time.
type Entry struct {
	TS       int64  // unix ms of the event that made it; the sort key
	ID       string // the event id; unique within a timeline
	Kind     Kind
	Actor    int64  // author, marker or giver
	Object   string // the object shown
	Owner    int64  // class: the object's owner; gift: the recipient
	Until    int64  // live: planned end, unix ms
	Audience string // items: the audience they were published to
}

// Pos is the entry's place in the timeline order.
func (e *Entry) Pos() Position { return Position{TS: e.TS, ID: e.ID} }

// Row is an entry in one user's timeline.
type Row struct {
	NS    NS
	User  int64
	Entry Entry
}

// Position is a place in a timeline: entries are ordered by TS descending,
// then ID descending. The zero Position is the top (newer than everything).
type Position struct {
	TS int64
	ID string
}

// IsTop reports whether p is the top of the timeline.
func (p Position) IsTop() bool { return p.TS == 0 && p.ID == "" }

// Before reports whether an entry at p comes after (is older than) q in
// timeline order. Everything comes after the top.
func (p Position) Before(q Position) bool {
	if q.IsTop() {
		return !p.IsTop()
	}
	if p.TS != q.TS {
		return p.TS < q.TS
	}
	return p.ID < q.ID
}

// Marker is one friend's Class! in a viewer's per-object aggregation index.
type Marker struct {
	Actor   int64
	TS      int64
	EventID string
}

// Store keeps timelines. Implementations must be safe for concurrent use.
type Store interface {
	// Write upserts rows; writing the same row twice leaves one row. Home
	// rows of an Aggregated kind are also indexed by (user,
	// MarkerObject(kind, object), actor) for Markers.
	Write(ctx context.Context, rows []Row) error
	// Delete removes rows (and their class index entries); deleting a
	// missing row is not an error.
	Delete(ctx context.Context, rows []Row) error
	// Page returns up to limit entries of one timeline strictly after
	// position after, newest first.
	Page(ctx context.Context, ns NS, user int64, after Position, limit int) ([]Entry, error)
	// Markers returns the class index for (user, object), in any order.
	Markers(ctx context.Context, user int64, object string) ([]Marker, error)
	// MarkersOf returns the class index for (user, object) of each of
	// objects, in order (each as Markers would return it); a feed read
	// loads the markers of a page's Class rows in one call.
	MarkersOf(ctx context.Context, user int64, objects []string) ([][]Marker, error)
	// Trim keeps the newest keep entries of one timeline and removes every
	// entry older than minTS.
	Trim(ctx context.Context, ns NS, user int64, keep int, minTS int64) error
	// Version is a value that changes whenever Write or Delete changes the
	// timeline (ns, user): after such a call returns, Version returns a
	// value it never returned for that timeline before. It is 0 for a
	// timeline never written. Trim need not change it (it only removes
	// the oldest entries). Readers use it to know that a cached view of
	// the timeline's head is still exact without reading the head.
	Version(ctx context.Context, ns NS, user int64) (uint64, error)
}

// Policy bounds timelines.
type Policy struct {
	Cap    int           // entries kept per timeline
	MaxAge time.Duration // entries older than this are dropped
}

// DefaultPolicy keeps 800 entries (Mastodon's home cap) of at most 30 days.
var DefaultPolicy = Policy{Cap: 800, MaxAge: 30 * 24 * time.Hour}
