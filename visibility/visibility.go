package visibility

import (
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// Verdict is what the rule says about one viewer and one object.
type Verdict struct {
	// OK: the viewer may see the object (subject to Group).
	OK bool
	// Group, when set, is a friend group of the object's author the
	// viewer must also be a member of (group:<id> audience).
	Group string
	// Reason says why not, for refusals ("" when OK).
	Reason string
}

// Check applies the rule. now (unix ms) judges broadcasts: an ended one,
// or one past its until, is seen by nobody but its author; now == 0 skips
// that test (a mark on a broadcast that ended is not a privacy matter).
//
// An object not stored yet (a mark that came before its object) is
// allowed: nothing of it can be shown, and readers judge it again once it
// exists.
func Check(viewer int64, rel *graph.Relations, o *objects.Object, now int64) Verdict {
	if o.Deleted {
		return Verdict{Reason: "object deleted"}
	}
	if !o.Exists() {
		return Verdict{OK: true}
	}
	if o.Author == viewer {
		return Verdict{OK: true}
	}
	if rel.IsBlocked(o.Author) {
		return Verdict{Reason: "a block stands between viewer and author"}
	}
	if now != 0 && o.Type == schema.Live && !o.LiveAt(now) {
		return Verdict{Reason: "broadcast ended"}
	}
	if o.Type == schema.Gift && o.Target == viewer {
		return Verdict{OK: true}
	}
	kind, group, ok := schema.ParseAudience(o.Audience)
	if !ok {
		return Verdict{Reason: "unknown audience"}
	}
	switch kind {
	case schema.ToPublic:
		return Verdict{OK: true}
	case schema.ToFriends:
		if rel.IsFriend(o.Author) {
			return Verdict{OK: true}
		}
		return Verdict{Reason: "audience friends: not a friend of the author"}
	case schema.ToGroup:
		if rel.IsFriend(o.Author) {
			return Verdict{OK: true, Group: group}
		}
		return Verdict{Reason: "audience " + o.Audience + ": not a friend of the author"}
	}
	return Verdict{Reason: "audience private"}
}
