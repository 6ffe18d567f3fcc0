package fanout

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/visibility"
)

// NotVisiblePrefix starts the Reason of a mark refused because its actor
// may not see the object (by visibility.Check, the rule readers apply).
const NotVisiblePrefix = "not_visible: "

// checkMarkVisible refuses a Class! whose actor may not see the object: a
// private item of someone else, a friends or group item of a non-friend or
// non-member, an item across a block. Objects not stored yet and deleted
// ones are let through (the mark then shows nowhere).
func (e *Engine) checkMarkVisible(ctx context.Context, ev *schema.Event, obj *objects.Object) error {
	if !obj.Exists() || obj.Deleted || obj.Author == ev.Actor {
		return nil
	}
	rel, err := e.graph.Relations(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("relations of %d: %w", ev.Actor, err)
	}
	v := visibility.Check(ev.Actor, &rel, obj, 0)
	if v.OK && v.Group != "" {
		in, err := e.graph.InGroup(ctx, obj.Author, v.Group, ev.Actor)
		if err != nil {
			return fmt.Errorf("group membership: %w", err)
		}
		if !in {
			v = visibility.Verdict{Reason: "audience " + obj.Audience + ": not a member"}
		}
	}
	if v.OK {
		return nil
	}
	return rejectAs(ErrNotVisibleRefusal, NotVisiblePrefix+"user %d may not see object %q (%s)", ev.Actor, obj.ID, v.Reason)
}
