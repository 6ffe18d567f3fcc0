package fanout

// Reactions: one slot per (user, object), set by class, react, unclass
// and unreact alike; a Class! (a class, or a react with kind class) also
// shows to the marker's friends, aggregated per object. Other kinds make
// no feed entry: they count, notify the owner and show on the item.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// class records a Class!: a react of kind class.
func (e *Engine) class(ctx context.Context, b *batch, ev *schema.Event) error {
	return e.react(ctx, b, ev, "")
}

// reactEvent records a react of a configured kind; an unknown kind is a
// refusal of the contract (ReasonInvalid), naming the configured set.
func (e *Engine) reactEvent(ctx context.Context, b *batch, ev *schema.Event) error {
	if err := e.cfg.Reactions.Check(ev); err != nil {
		return rejectAs(schema.ErrInvalid, "%v", err)
	}
	return e.react(ctx, b, ev, objects.MarkKind(ev.Reaction))
}

// react sets the actor's reaction on the object to kind ("" Class!),
// replacing any other; the Class rows follow the mark: written when it
// becomes a Class!, removed when it stops being one.
func (e *Engine) react(ctx context.Context, b *batch, ev *schema.Event, kind string) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	obj := objs[0]
	if obj.Exists() && obj.Author != ev.Target {
		return rejectAs(ErrNotOwner, "target %d is not the owner of object %q (owner %d)", ev.Target, ev.Object, obj.Author)
	}
	if err := e.checkMarkVisible(ctx, ev, &obj); err != nil {
		return err
	}
	ch, err := e.objects.SetReaction(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: true, Kind: kind, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set reaction: %w", err)
	}
	cur := ch.After
	if !effective(&ch, ev) {
		return nil
	}
	b.eff.Object, b.eff.Mark, b.eff.Before, b.eff.applied = obj, cur, ch.Before, true
	if !cur.IsClass() {
		// A Class! replaced by another kind: its rows go.
		return e.removeClassRows(ctx, b, ev.Actor, &cur)
	}
	// Only the change that made the mark a Class! has timeline rows to
	// write; a re-delivery writes the same rows again (Before is unknown
	// then).
	if ch.Applied && ch.Before.IsClass() {
		return nil
	}
	if obj.Deleted {
		return nil
	}
	if cur.Since.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		return nil
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	e.deliver(b, ev.ID, friends, ev.Actor, classEntry(ev.Actor, ev.Object, cur.Owner, cur.Since))
	return nil
}

// effective reports whether the event's change is the mark's state as
// stored: applied now, or applied before and delivered again (its
// stamp is the mark's), whose effects are then repeated (they are
// idempotent). An applied change that left the reaction as it was (a
// second react of the same kind) has no effect to show.
func effective(ch *objects.Change, ev *schema.Event) bool {
	if ch.After.Stamp != ev.Stamp() {
		return false // a newer change stands, or a late copy after an undo
	}
	if !ch.Applied {
		return true
	}
	b, a := &ch.Before, &ch.After
	return b.On != a.On || (a.On && b.Kind != a.Kind)
}

func classEntry(actor int64, object string, owner int64, since schema.Stamp) timeline.Entry {
	return timeline.Entry{TS: since.TS, ID: since.ID, Kind: timeline.KindClass, Actor: actor,
		Object: object, Owner: owner}
}

// unclass takes a reaction back (unclass and unreact: whatever its kind)
// and removes its Class rows, if it was a Class!.
func (e *Engine) unclass(ctx context.Context, b *batch, ev *schema.Event) error {
	ch, err := e.objects.SetReaction(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: false, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set reaction: %w", err)
	}
	cur := ch.After
	if cur.On || cur.Stamp != ev.Stamp() || cur.Since.IsZero() {
		return nil // a newer reaction stands, or nothing was ever on
	}
	if ch.Applied && !ch.Before.On {
		return nil // it was off already
	}
	b.eff.Mark, b.eff.Before, b.eff.applied = cur, ch.Before, true
	if ch.Applied && !ch.Before.IsClass() {
		return nil // an emotion: no rows
	}
	return e.removeClassRows(ctx, b, ev.Actor, &cur)
}

// removeClassRows deletes the Class rows of the actor's mark (keyed by
// its Since) from the actor's friends' timelines, after what the batch
// wrote so far. Deleting rows that are not there is harmless, so a
// re-delivery may repeat it.
func (e *Engine) removeClassRows(ctx context.Context, b *batch, actor int64, m *objects.Mark) error {
	if m.Since.IsZero() {
		return nil
	}
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	friends, err := e.graph.Friends(ctx, actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	entry := classEntry(actor, m.Object, m.Owner, m.Since)
	rows := make([]timeline.Row, 0, len(friends))
	for _, f := range friends {
		rows = append(rows, timeline.Row{NS: timeline.Home, User: f, Entry: entry})
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete class rows: %w", err)
	}
	return nil
}
