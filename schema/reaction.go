package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Reactions: a react event names one kind of a configured set. "class" is
// always in the set and is the same reaction a class event gives: one
// reaction slot per user and object, which class, react, unclass and
// unreact all set (docs/events.md).

// ReactionClass is the reaction kind of a Class!.
const ReactionClass = "class"

// MaxReactionLen bounds a reaction kind's name, in bytes.
const MaxReactionLen = 32

// MaxReactionKinds bounds a configured set.
const MaxReactionKinds = 16

// DefaultReactions is OK.ru's set: Class! and four emotions.
var DefaultReactions = []string{ReactionClass, "love", "lol", "wow", "sad"}

// validReactionName accepts 1..MaxReactionLen bytes of [a-z0-9_].
func validReactionName(s string) bool {
	if len(s) == 0 || len(s) > MaxReactionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validateReaction is the contract's part: a react names a well-formed
// kind; no other type takes one. Whether the kind is in the configured set
// is ReactionSet.Check's (the set is the operator's, not the contract's).
func (ev *Event) validateReaction() error {
	if ev.Type != React {
		if ev.Reaction != "" {
			return invalid(ev, "reaction", "only react takes a reaction")
		}
		return nil
	}
	if ev.Reaction == "" {
		return invalid(ev, "reaction", "missing: react needs the reaction kind")
	}
	if !validReactionName(ev.Reaction) {
		return invalid(ev, "reaction", "must be 1..%d characters of [a-z0-9_]", MaxReactionLen)
	}
	return nil
}

// ReactionSet is the configured set of reaction kinds. The zero value is
// DefaultReactions. It is immutable once made.
type ReactionSet struct {
	kinds []string // nil: DefaultReactions
}

// ParseReactions reads a comma-separated list of kinds ("class,love,lol").
// class must be in it (a class event is that reaction); names are
// 1..MaxReactionLen characters of [a-z0-9_], at most MaxReactionKinds,
// each once.
func ParseReactions(list string) (ReactionSet, error) {
	var kinds []string
	for k := range strings.SplitSeq(list, ",") {
		k = strings.TrimSpace(k)
		if !validReactionName(k) {
			return ReactionSet{}, fmt.Errorf("reactions: %q is not 1..%d characters of [a-z0-9_]", truncate(k, 40), MaxReactionLen)
		}
		if slices.Contains(kinds, k) {
			return ReactionSet{}, fmt.Errorf("reactions: %q is listed twice", k)
		}
		kinds = append(kinds, k)
	}
	if len(kinds) > MaxReactionKinds {
		return ReactionSet{}, fmt.Errorf("reactions: %d kinds is over the limit of %d", len(kinds), MaxReactionKinds)
	}
	if !slices.Contains(kinds, ReactionClass) {
		return ReactionSet{}, fmt.Errorf("reactions: the set must include %q (a class event is that reaction)", ReactionClass)
	}
	return ReactionSet{kinds: kinds}, nil
}

// Kinds lists the set, in configured order.
func (s ReactionSet) Kinds() []string {
	if s.kinds == nil {
		return DefaultReactions
	}
	return s.kinds
}

// Has reports whether kind is in the set.
func (s ReactionSet) Has(kind string) bool { return slices.Contains(s.Kinds(), kind) }

// String is the set as ParseReactions reads it.
func (s ReactionSet) String() string { return strings.Join(s.Kinds(), ",") }

// Check refuses a react whose kind is not in the set, as a validation
// error (a 400 over HTTP, a dead letter on the bus). Other events pass.
func (s ReactionSet) Check(ev *Event) error {
	if ev.Type != React || s.Has(ev.Reaction) {
		return nil
	}
	return invalid(ev, "reaction", "unknown reaction %q (the configured set: %s)", truncate(ev.Reaction, 40), s.String())
}
