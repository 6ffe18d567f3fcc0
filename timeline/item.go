package timeline

import (
	"context"

	"github.com/lenta-dev/lenta/people"
)

// Item is one entry of a feed page, hydrated for display.
type Item struct {
	EventID    string   `json:"event_id" msgpack:"event_id"`
	Type       string   `json:"type" msgpack:"type"`
	Actor      int64    `json:"actor" msgpack:"actor"`
	Object     string   `json:"object" msgpack:"object"`
	TS         int64    `json:"ts" msgpack:"ts"`
	Owner      int64    `json:"owner,omitempty" msgpack:"owner,omitempty"`
	Audience   string   `json:"audience,omitempty" msgpack:"audience,omitempty"`
	Text       string   `json:"text,omitempty" msgpack:"text,omitempty"`
	Media      []string `json:"media,omitempty" msgpack:"media,omitempty"`
	Until      int64    `json:"until,omitempty" msgpack:"until,omitempty"`
	Live       bool     `json:"live,omitempty" msgpack:"live,omitempty"`
	ClassCount int64    `json:"class_count" msgpack:"class_count"`
	// CommentCount is the number of standing comments on Object.
	CommentCount int64 `json:"comment_count" msgpack:"comment_count"`
	// Reactions are the object's reaction counts per kind (Class! among
	// them, first), those above zero; ReactionCount is their total, what
	// ranking's engagement counts; MyReaction is the viewer's own kind on
	// the object ("" none). See reactions.go.
	Reactions     ReactionCounts `json:"reactions,omitempty" msgpack:"reactions,omitempty"`
	ReactionCount int64          `json:"reaction_count,omitempty" msgpack:"reaction_count,omitempty"`
	MyReaction    string         `json:"my_reaction,omitempty" msgpack:"my_reaction,omitempty"`
	// Aggregates (class, comment): the friends who gave Class to (or
	// commented on) Object, newest first (at most MaxAggActors of them),
	// and how many friends did.
	Actors     []int64 `json:"actors,omitempty" msgpack:"actors,omitempty"`
	ActorCount int     `json:"actor_count,omitempty" msgpack:"actor_count,omitempty"`
	// ObjectType is the type of the object an aggregate points at.
	ObjectType string `json:"object_type,omitempty" msgpack:"object_type,omitempty"`
	// Explain is set on ranked pages read with explain=1.
	Explain *Explain `json:"explain,omitempty" msgpack:"explain,omitempty"`
	// People are the people the item names who have a profile: its
	// actor, its owner, then an aggregate's actors, each once (NamePeople,
	// at read time). Nil when none has one: the item reads as before.
	People []people.Person `json:"people,omitempty" msgpack:"people,omitempty"`
}

// MaxAggActors is how many markers a Class aggregate lists by name.
const MaxAggActors = 5

// Page is one page of a feed.
type Page struct {
	Items []Item
	// Next is the position to continue after; it is the top when there is
	// nothing more.
	Next Position
}

// MaxPageLimit is the largest page a reader serves.
const MaxPageLimit = 100

// Feed reads feed pages. Reader implements it.
type Feed interface {
	Page(ctx context.Context, viewer int64, after Position, limit int) (Page, error)
}
