package objects

import (
	"context"

	"github.com/lenta-dev/lenta/schema"
)

// Object is a post, photo, gift or broadcast.
type Object struct {
	ID       string
	Type     schema.Type // post, photo, gift or live; empty for a bare tombstone
	Author   int64
	Target   int64 // gift recipient
	Audience string
	Text     string
	Media    []string
	TS       int64  // when it was created, unix ms
	Until    int64  // live: planned end, unix ms
	EventID  string // the event that created it
	Deleted  bool
	Ended    bool         // live: the broadcast ended
	Changed  schema.Stamp // the delete or live_end that changed its state
}

// Exists reports whether the object was created (not only a tombstone).
func (o *Object) Exists() bool { return o.EventID != "" }

// LiveAt reports whether a broadcast is live at now (unix ms).
func (o *Object) LiveAt(now int64) bool {
	return o.Type == schema.Live && !o.Ended && !o.Deleted && (o.Until == 0 || now < o.Until)
}

// Mark is one user's reaction slot on one object: a Class! or another
// reaction kind (reaction.go).
type Mark struct {
	Object string
	Actor  int64
	Owner  int64
	On     bool
	Stamp  schema.Stamp // the class, react, unclass or unreact that set the current state
	Since  schema.Stamp // the one that last turned it on from off (kept when off and across kinds)
	// Kind is the reaction: "" is a Class! (marks stored before reactions
	// have no kind), any other value one of the configured kinds. An off
	// mark keeps the kind it had.
	Kind string
}

// Store keeps objects and marks. Implementations must be safe for
// concurrent use.
type Store interface {
	// Put creates the object unless one with its id exists (or a tombstone
	// does) and returns the object as stored afterwards. Putting the same
	// object twice returns it unchanged.
	Put(ctx context.Context, o Object) (Object, error)
	// Get returns the objects with these ids, in order; a missing one comes
	// back as the zero Object with only ID set.
	Get(ctx context.Context, ids []string) ([]Object, error)
	// Delete marks the object deleted at stamp; an unknown object becomes a
	// tombstone owned by author, so a late copy of it is never shown. It
	// returns the object as stored afterwards.
	Delete(ctx context.Context, id string, author int64, at schema.Stamp) (Object, error)
	// End marks a broadcast ended at stamp (a tombstone if unknown) and
	// returns the object as stored afterwards.
	End(ctx context.Context, id string, author int64, at schema.Stamp) (Object, error)
	// SetMark applies a class (On) or unclass (!On) unless the stored mark
	// has a later stamp, keeping the object's Class count equal to the
	// number of marks that are on; it returns the mark as stored afterwards.
	SetMark(ctx context.Context, m Mark) (Mark, error)
	// ClassCounts returns the Class count of each object, in order.
	ClassCounts(ctx context.Context, ids []string) ([]int64, error)
	// SetReaction is SetMark for any kind (Kind), reporting the mark
	// before and after: the count of the old kind moves to the new one.
	SetReaction(ctx context.Context, m Mark) (Change, error)
	// ReactionCounts returns each object's counts per kind, in order.
	ReactionCounts(ctx context.Context, ids []string) ([]Counts, error)
	// MyReactions returns viewer's reaction kind on each object, in order
	// ("" where viewer has none; ReactionClass for a Class!): one batched
	// read per call, cheap where most find nothing.
	MyReactions(ctx context.Context, viewer int64, ids []string) ([]string, error)
}

// NextMark is the mark's transition, the one rule every store applies in
// SetMark: the last writer by stamp wins (a change whose stamp is not
// after the stored one changes nothing: ok false); a change naming no
// owner keeps the stored owner; Since is the stamp of the change that last
// turned the mark on from off, kept while it is off and when an on mark
// changes kind; an off change keeps the kind the mark had. found says
// whether cur is a stored mark (a never-set mark takes any change).
func NextMark(cur Mark, found bool, change Mark) (next Mark, ok bool) {
	if found && !change.Stamp.After(cur.Stamp) {
		return cur, false
	}
	next = Mark{Object: change.Object, Actor: change.Actor, Owner: change.Owner, On: change.On,
		Stamp: change.Stamp, Since: cur.Since, Kind: change.Kind}
	if !change.On {
		next.Kind = cur.Kind
	}
	if next.Owner == 0 {
		next.Owner = cur.Owner
	}
	if change.On && !cur.On {
		next.Since = change.Stamp // this class turned it on
	}
	return next, true
}
