package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lenta-dev/lenta/people"
)

// Kind is what a notification is about. The string values are the wire
// values of the API and the push payload.
type Kind string

// Notification kinds.
const (
	KindClass  Kind = "class"  // someone gave Class! to your object (grouped per object)
	KindGift   Kind = "gift"   // someone gave you a gift
	KindFriend Kind = "friend" // someone became your friend (grouped)
	KindFollow Kind = "follow" // someone started following you (grouped)
	KindLive   Kind = "live"   // someone you follow or are friends with went live
	// KindComment: someone commented on your object (grouped per object).
	KindComment Kind = "comment"
	// KindReply: someone replied to your comment, or in a reply chain you
	// wrote in, on an object (grouped per object).
	KindReply Kind = "reply"
	// KindReact is a group of reactions on your object that holds at
	// least one other than Class! (grouped per object with the Class!
	// marks; reactions.go). Its activities are stored with the kind
	// ReactionKind gives.
	KindReact Kind = "react"
)

// Coalesced reports whether pushes of k wait for the end of their
// coalescing window (CoalesceWindow), so a burst in one group is one push:
// the grouped kinds. A gift or a broadcast is pushed as soon as it is
// queued.
func (k Kind) Coalesced() bool {
	switch k.base() {
	case KindClass, KindFriend, KindFollow, KindComment, KindReply:
		return true
	}
	return false
}

// Known reports whether k is a kind this build makes.
func (k Kind) Known() bool {
	switch k.base() {
	case KindClass, KindGift, KindFriend, KindFollow, KindLive, KindReact, KindComment, KindReply:
		return true
	}
	return false
}

// GroupSpan is the time window one group covers: activities of one kind on
// one object fall into the same group when their timestamps fall into the
// same 12-hour window (UTC-aligned). Mastodon groups by type and object in
// hour buckets spanning up to 12 hours; a fixed window gives the same shape
// and is a pure function of the event, so re-applying an event, or
// retracting a Class, finds its group without reading anything.
const GroupSpan = 12 * time.Hour

// GroupKey is the group an activity of kind on object at ts (unix ms)
// belongs to. Gifts and broadcasts are never merged with others: their
// object is unique. Friend and follow notifications group by kind alone.
func GroupKey(kind Kind, object string, ts int64) string {
	w := ts / GroupSpan.Milliseconds()
	switch kind {
	case KindGift, KindLive:
		return string(kind) + ":" + object
	case KindFriend, KindFollow:
		return string(kind) + ":" + strconv.FormatInt(w, 10)
	}
	return string(kind) + ":" + strconv.FormatInt(w, 10) + ":" + object
}

// Activity is one actor's part in one notification group of one user: the
// stored unit. (User, Group, Actor) is its key, so re-applying the event
// that made it changes nothing.
type Activity struct {
	User    int64
	Group   string
	Kind    Kind
	Object  string
	Actor   int64
	TS      int64  // unix ms of the event
	EventID string // the event
	Until   int64  // live: planned end, unix ms
}

// Position is a place in one user's inbox: groups are ordered by their
// newest activity (TS desc, then Group desc). The zero Position is the top.
type Position struct {
	TS    int64
	Group string
}

// IsTop reports whether p is the top of the inbox.
func (p Position) IsTop() bool { return p.TS == 0 && p.Group == "" }

// After reports whether p is strictly newer than q.
func (p Position) After(q Position) bool {
	if p.TS != q.TS {
		return p.TS > q.TS
	}
	return p.Group > q.Group
}

// Notification is one group as the API shows it.
type Notification struct {
	ID         string  `json:"id" msgpack:"id"`
	Kind       Kind    `json:"type" msgpack:"type"`
	Object     string  `json:"object,omitempty" msgpack:"object,omitempty"`
	Actors     []int64 `json:"actors" msgpack:"actors"` // newest first, at most MaxActorsShown
	ActorCount int     `json:"actor_count" msgpack:"actor_count"`
	TS         int64   `json:"ts" msgpack:"ts"`
	Until      int64   `json:"until,omitempty" msgpack:"until,omitempty"`
	// Reactions are the kinds of a reactions group (class or react), the
	// most given first: ["love", "class"].
	Reactions []string `json:"reactions,omitempty" msgpack:"reactions,omitempty"`
	Read      bool     `json:"read" msgpack:"read"`
	Pos       Position `json:"-" msgpack:"-"`
	// People are the actors named who have a profile, in the order of
	// Actors (NamePeople, at read time); nil when none has one.
	People []people.Person `json:"people,omitempty" msgpack:"people,omitempty"`
}

// MaxActorsShown is how many actors a notification names.
const MaxActorsShown = 5

// MaxGroupActors bounds the actors read for one group; a larger group
// shows an actor count of at least this.
const MaxGroupActors = 1000

// ID is the notification id of a position: "<ts>-<group>". It names the
// group at its newest activity, which is what POST /v1/notifications/read
// marks read up to.
func (p Position) ID() string { return strconv.FormatInt(p.TS, 10) + "-" + p.Group }

// ParseID reads a notification id back into a position.
func ParseID(id string) (Position, error) {
	ts, g, ok := strings.Cut(id, "-")
	if !ok || g == "" || len(id) > 300 {
		return Position{}, fmt.Errorf("notification id %q: want <ts>-<group>", trim(id))
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return Position{}, fmt.Errorf("notification id %q: bad timestamp", trim(id))
	}
	return Position{TS: n, Group: g}, nil
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
