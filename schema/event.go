package schema

// Version is the contract version this build writes. Readers accept any
// version up to MaxVersion and ignore keys they do not know.
const (
	Version    = 1
	MaxVersion = 1
)

// Type names what happened. The string values are the wire values.
type Type string

// Event types of contract version 1.
const (
	Post        Type = "post"         // a text post by actor
	Photo       Type = "photo"        // a photo (media required) by actor
	Class       Type = "class"        // actor gives "Class!" to object owned by target
	Unclass     Type = "unclass"      // actor takes a Class back
	Gift        Type = "gift"         // actor gives a gift to target
	Live        Type = "live"         // actor starts a live broadcast (object), until = planned end
	LiveEnd     Type = "live_end"     // actor ends the broadcast object
	Delete      Type = "delete"       // actor deletes their object
	Friend      Type = "friend"       // actor and target become friends (mutual)
	Unfriend    Type = "unfriend"     // actor and target stop being friends
	Follow      Type = "follow"       // actor follows target (a community or public profile)
	Unfollow    Type = "unfollow"     // actor stops following target
	Block       Type = "block"        // actor blocks target: no items either way, friendship and follows end
	Unblock     Type = "unblock"      // actor lifts a block
	GroupAdd    Type = "group_add"    // actor puts friend target into their friend group object
	GroupRemove Type = "group_remove" // actor takes target out of their friend group object
	React       Type = "react"        // actor reacts to object owned by target with reaction (replaces their previous one)
	Unreact     Type = "unreact"      // actor takes their reaction back, whatever its kind
	Profile     Type = "profile"      // a service sets actor's display name, avatar and language
	// Comments (comment.go).
	Comment       Type = "comment"        // actor comments on object (id: the comment's id), optionally replying to comment reply_to
	CommentDelete Type = "comment_delete" // actor deletes comment `comment` on object
)

// Types lists every known type, in documentation order.
var Types = []Type{Post, Photo, Class, Unclass, Gift, Live, LiveEnd, Delete,
	Friend, Unfriend, Follow, Unfollow, Block, Unblock, GroupAdd, GroupRemove, React, Unreact, Profile, Comment, CommentDelete}

// Known reports whether t is a type of a contract version this build reads.
func (t Type) Known() bool {
	switch t {
	case Post, Photo, Class, Unclass, Gift, Live, LiveEnd, Delete,
		Friend, Unfriend, Follow, Unfollow, Block, Unblock, GroupAdd, GroupRemove, React, Unreact,
		Profile, Comment, CommentDelete:
		return true
	}
	return false
}

// IsItem reports whether events of this type create a feed item (an object
// with an author that appears in timelines).
func (t Type) IsItem() bool {
	switch t {
	case Post, Photo, Gift, Live:
		return true
	}
	return false
}

// IsGraph reports whether events of this type change the social graph.
func (t Type) IsGraph() bool {
	switch t {
	case Friend, Unfriend, Follow, Unfollow, Block, Unblock, GroupAdd, GroupRemove:
		return true
	}
	return false
}

// Event is one fact published to Lenta. Field tags give the short stable
// wire keys, identical in msgpack and JSON.
type Event struct {
	// V is the contract version the producer wrote; 0 means 1.
	V int `msgpack:"v,omitempty" json:"v,omitempty"`
	// ID is unique across all events: the idempotency key.
	ID string `msgpack:"id" json:"id"`
	// Type says what happened.
	Type Type `msgpack:"type" json:"type"`
	// Actor is the user who did it.
	Actor int64 `msgpack:"actor" json:"actor"`
	// Target is the other user: the new friend, the followed account, the
	// gift recipient, the owner of the object a Class marks.
	Target int64 `msgpack:"target,omitempty" json:"target,omitempty"`
	// Object is the id of the post, photo, gift or broadcast (for item
	// types it defaults to ID), or the friend group for group_add/remove.
	Object string `msgpack:"object,omitempty" json:"object,omitempty"`
	// Audience narrows who sees an item: public (default), friends,
	// group:<id>, or private.
	Audience string `msgpack:"audience,omitempty" json:"audience,omitempty"`
	// Text is the item's text.
	Text string `msgpack:"text,omitempty" json:"text,omitempty"`
	// Media are references (URLs or media ids) attached to the item.
	Media []string `msgpack:"media,omitempty" json:"media,omitempty"`
	// Until is when a live broadcast is planned to end, unix ms.
	Until int64 `msgpack:"until,omitempty" json:"until,omitempty"`
	// TS is when it happened, unix ms.
	TS int64 `msgpack:"ts" json:"ts"`
	// Reaction is the kind of a react: one of the configured set
	// (Reactions); "class" is a Class!.
	Reaction string `msgpack:"reaction,omitempty" json:"reaction,omitempty"`
	// Name is the display name a profile sets (profile.go).
	Name string `msgpack:"name,omitempty" json:"name,omitempty"`
	// Avatar is the absolute https URL of the picture a profile sets.
	Avatar string `msgpack:"avatar,omitempty" json:"avatar,omitempty"`
	// Lang is the language tag a profile sets ("ru", "en-GB").
	Lang string `msgpack:"lang,omitempty" json:"lang,omitempty"`
	// ReplyTo is, on a comment, the id of the comment (on the same
	// object) it replies to.
	ReplyTo string `msgpack:"reply_to,omitempty" json:"reply_to,omitempty"`
	// CommentID is, on a comment_delete, the id of the comment deleted:
	// the id of the comment event that made it.
	CommentID string `msgpack:"comment,omitempty" json:"comment,omitempty"`
}

// Audience values.
const (
	AudiencePublic  = "public"
	AudienceFriends = "friends"
	AudiencePrivate = "private"
	groupPrefix     = "group:"
)

// AudienceKind is the parsed form of an audience string.
type AudienceKind uint8

// Audience kinds.
const (
	ToPublic AudienceKind = iota
	ToFriends
	ToGroup
	ToPrivate
)

// ParseAudience splits an audience string into its kind and, for group
// audiences, the group id. The empty string is public.
func ParseAudience(s string) (AudienceKind, string, bool) {
	switch s {
	case "", AudiencePublic:
		return ToPublic, "", true
	case AudienceFriends:
		return ToFriends, "", true
	case AudiencePrivate:
		return ToPrivate, "", true
	}
	if len(s) > len(groupPrefix) && s[:len(groupPrefix)] == groupPrefix {
		g := s[len(groupPrefix):]
		if validID(g) {
			return ToGroup, g, true
		}
	}
	return 0, "", false
}

// Stamp orders changes to one piece of state (an edge, a mark, an object):
// the later ts wins, equal ts are ordered by event id. Every state change
// that can arrive twice or out of order is guarded by a stamp, which is what
// makes re-delivered events harmless.
type Stamp struct {
	TS int64
	ID string
}

// Stamp is the event's position in the last-writer-wins order.
func (ev *Event) Stamp() Stamp { return Stamp{TS: ev.TS, ID: ev.ID} }

// After reports whether s is strictly later than o.
func (s Stamp) After(o Stamp) bool {
	if s.TS != o.TS {
		return s.TS > o.TS
	}
	return s.ID > o.ID
}

// IsZero reports whether s was never set.
func (s Stamp) IsZero() bool { return s.TS == 0 && s.ID == "" }

// InternAudience returns the shared string of a common audience (public,
// friends, private) for b, or "" for any other, so decoders of many rows
// need not allocate one string per row.
func InternAudience(b []byte) string {
	switch string(b) { // no allocation: the compiler compares in place
	case AudiencePublic:
		return AudiencePublic
	case AudienceFriends:
		return AudienceFriends
	case AudiencePrivate:
		return AudiencePrivate
	}
	return ""
}
