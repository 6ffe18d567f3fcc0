package objects

// Reactions: one slot per user and object (Mark), whose kind is a Class!
// ("") or one of the configured emotions; counts per kind follow the on
// marks.

import (
	"github.com/lenta-dev/lenta/schema"
)

// Change is what SetReaction did: the mark before and after. Applied is
// false when the stored mark was as new or newer (Before == After then).
type Change struct {
	Before, After Mark
	Applied       bool
}

// KindName is the mark's reaction kind as the wire names it ("class" for
// a Class!).
func (m *Mark) KindName() string {
	if m.Kind == "" {
		return schema.ReactionClass
	}
	return m.Kind
}

// IsClass reports whether the mark is an on Class!.
func (m *Mark) IsClass() bool { return m.On && m.Kind == "" }

// MarkKind is the Mark.Kind of a wire reaction kind: "" for class.
func MarkKind(reaction string) string {
	if reaction == schema.ReactionClass {
		return ""
	}
	return reaction
}

// KindCount is the count of one reaction kind other than Class!.
type KindCount struct {
	Kind string `json:"kind" msgpack:"kind"`
	N    int64  `json:"count" msgpack:"count"`
}

// Counts is one object's reactions: its Class count and the counts of the
// other kinds (those above zero, in ascending kind order).
type Counts struct {
	Class int64
	Other []KindCount
}

// Total is the number of reactions of every kind.
func (c *Counts) Total() int64 {
	n := c.Class
	for _, k := range c.Other {
		n += k.N
	}
	return n
}

// Of is the count of one wire kind.
func (c *Counts) Of(kind string) int64 {
	if kind == schema.ReactionClass {
		return c.Class
	}
	for _, k := range c.Other {
		if k.Kind == kind {
			return k.N
		}
	}
	return 0
}

// Moves is how a change moves counts: the kind it takes one from (from
// ok) and the kind it adds one to (to ok), by Mark.Kind. An unchanged
// on/kind moves nothing.
func Moves(before, after *Mark) (from string, fromOK bool, to string, toOK bool) {
	if before.On == after.On && (!before.On || before.Kind == after.Kind) {
		return "", false, "", false
	}
	return before.Kind, before.On, after.Kind, after.On
}

// AddOther returns other with delta added to kind (kept sorted, zero
// counts dropped, never below zero): the one update rule of the stores'
// per-kind counts.
func AddOther(other []KindCount, kind string, delta int64) []KindCount {
	for i := range other {
		if other[i].Kind == kind {
			n := max(other[i].N+delta, 0)
			if n == 0 {
				return append(other[:i:i], other[i+1:]...)
			}
			other[i].N = n
			return other
		}
	}
	if delta <= 0 {
		return other
	}
	i := 0
	for i < len(other) && other[i].Kind < kind {
		i++
	}
	other = append(other, KindCount{})
	copy(other[i+1:], other[i:])
	other[i] = KindCount{Kind: kind, N: delta}
	return other
}

// InternKind returns a shared string for a common reaction kind given as
// bytes (the defaults), or a new string for another, so a page's
// MyReactions allocates nothing for the usual kinds.
func InternKind(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case schema.ReactionClass:
		return schema.ReactionClass
	case "love":
		return "love"
	case "lol":
		return "lol"
	case "wow":
		return "wow"
	case "sad":
		return "sad"
	}
	return string(b)
}
