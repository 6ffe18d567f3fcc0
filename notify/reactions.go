package notify

// Reactions in the inbox: a Class! and every other reaction on one object
// share one group (GroupKey(KindClass, object, ts)), one activity per
// actor holding that actor's current kind. A group of Class! marks alone
// reads as before (type "class"); one holding any other kind reads as
// type "react" with the kinds given ("Anna and 12 others reacted to your
// photo: ❤ 😂 Class!").

import (
	"cmp"
	"slices"
	"strings"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// reactPrefix starts the stored kind of a reaction other than Class!:
// "react:love". The kind column of both stores holds it as it is.
const reactPrefix = "react:"

// ReactionKind is the activity kind of a reaction: KindClass for a
// Class!, "react:<kind>" for another.
func ReactionKind(reaction string) Kind {
	if reaction == "" || reaction == schema.ReactionClass {
		return KindClass
	}
	return Kind(reactPrefix + reaction)
}

// Reaction is the reaction kind of an activity kind (ok false for a kind
// that is not a reaction).
func (k Kind) Reaction() (string, bool) {
	if k == KindClass {
		return schema.ReactionClass, true
	}
	if r, ok := strings.CutPrefix(string(k), reactPrefix); ok && r != "" {
		return r, true
	}
	return "", false
}

// base is the kind a stored activity kind behaves as: KindClass for
// every reaction (its group, TTL and coalescing are Class!'s).
func (k Kind) base() Kind {
	if strings.HasPrefix(string(k), reactPrefix) {
		return KindClass
	}
	return k
}

// reactionsOf is the type of a reactions group and its kinds, the most
// given first (ties by name).
func reactionsOf(acts []Activity) (Kind, []string) {
	type kc struct {
		kind string
		n    int
	}
	var counts []kc
	for i := range acts {
		r, ok := acts[i].Kind.Reaction()
		if !ok {
			continue
		}
		if j := slices.IndexFunc(counts, func(c kc) bool { return c.kind == r }); j >= 0 {
			counts[j].n++
		} else {
			counts = append(counts, kc{r, 1})
		}
	}
	slices.SortFunc(counts, func(a, b kc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.kind, b.kind)
	})
	kinds := make([]string, len(counts))
	kind := KindClass
	for i, c := range counts {
		kinds[i] = c.kind
		if c.kind != schema.ReactionClass {
			kind = KindReact
		}
	}
	if kind == KindClass {
		return KindClass, nil // a Class!-only group reads as before
	}
	return kind, kinds
}

// reactionEventID is the id an activity of a reaction is stored with: the
// reaction's state, not the event that set it, so that delivering again
// an event that left the reaction as it was finds its activity and
// changes nothing. A Class! keeps the id of the event that turned it on
// (the mark's Since: what it was before reactions); another kind adds
// the kind, so a change of kind is new.
func reactionEventID(m *objects.Mark) string {
	if m.Kind == "" {
		return m.Since.ID
	}
	return m.Since.ID + "#" + m.Kind
}
