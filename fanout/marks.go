package fanout

// Class marks: the mark, and its aggregate shown to the marker's friends.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// class records a Class! and shows it to the marker's friends.
func (e *Engine) class(ctx context.Context, b *batch, ev *schema.Event) error {
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
	cur, err := e.objects.SetMark(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: true, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set mark: %w", err)
	}
	// Only the class that turned the mark on has timeline rows: a later
	// class while on, or a late copy after an unclass, adds nothing.
	if !cur.On || cur.Since != ev.Stamp() {
		return nil
	}
	b.eff.Object, b.eff.Mark, b.eff.applied = obj, cur, true
	if obj.Deleted {
		return nil
	}
	if ev.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		return nil
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	e.deliver(b, ev.ID, friends, ev.Actor, classEntry(ev.Actor, ev.Object, ev.Target, ev.Stamp()))
	return nil
}

func classEntry(actor int64, object string, owner int64, since schema.Stamp) timeline.Entry {
	return timeline.Entry{TS: since.TS, ID: since.ID, Kind: timeline.KindClass, Actor: actor,
		Object: object, Owner: owner}
}

// unclass takes a Class! back and removes its rows.
func (e *Engine) unclass(ctx context.Context, b *batch, ev *schema.Event) error {
	cur, err := e.objects.SetMark(ctx, objects.Mark{Object: ev.Object, Actor: ev.Actor, Owner: ev.Target,
		On: false, Stamp: ev.Stamp()})
	if err != nil {
		return fmt.Errorf("set mark: %w", err)
	}
	if cur.On || cur.Stamp != ev.Stamp() || cur.Since.IsZero() {
		return nil // a newer class stands, or nothing was ever on
	}
	b.eff.Mark, b.eff.applied = cur, true
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	entry := classEntry(ev.Actor, ev.Object, cur.Owner, cur.Since)
	rows := make([]timeline.Row, 0, len(friends))
	for _, f := range friends {
		rows = append(rows, timeline.Row{NS: timeline.Home, User: f, Entry: entry})
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete class rows: %w", err)
	}
	return nil
}
