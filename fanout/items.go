package fanout

// Items: posts, photos, gifts and broadcasts written to their audience's
// timelines, and their deletion and end.

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

func kindOf(t schema.Type) timeline.Kind {
	switch t {
	case schema.Photo:
		return timeline.KindPhoto
	case schema.Gift:
		return timeline.KindGift
	case schema.Live:
		return timeline.KindLive
	}
	return timeline.KindPost
}

func normAudience(a string) string {
	if a == "" {
		return schema.AudiencePublic
	}
	return a
}

// item stores a post, photo, gift or broadcast and fans it out.
func (e *Engine) item(ctx context.Context, b *batch, ev *schema.Event) error {
	obj := objects.Object{ID: ev.Object, Type: ev.Type, Author: ev.Actor, Target: ev.Target,
		Audience: normAudience(ev.Audience), Text: ev.Text, Media: ev.Media, TS: ev.TS,
		Until: ev.Until, EventID: ev.ID}
	stored, err := e.objects.Put(ctx, obj)
	if err != nil {
		return fmt.Errorf("store object: %w", err)
	}
	if stored.Deleted || (stored.Ended && ev.Type == schema.Live) {
		return nil // deleted or ended before this (late or repeated) copy arrived
	}
	if stored.EventID != ev.ID {
		if stored.Exists() {
			return reject("object %q already exists (created by event %q)", ev.Object, stored.EventID)
		}
		return reject("object %q is a tombstone owned by user %d", ev.Object, stored.Author)
	}
	if ev.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		b.eff.Object, b.eff.applied = stored, true
		return nil // kept as an object, too old for any timeline
	}
	entry := itemEntry(&stored)
	b.eff.Object, b.eff.applied = stored, true
	kind, group, _ := schema.ParseAudience(ev.Audience)
	if kind == schema.ToPrivate {
		if ev.Type != schema.Gift {
			b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: ev.Actor, Entry: entry})
		}
		return nil
	}
	// The outbox row is written before the audience is read, and a merge
	// (friend, follow) writes its edge before it reads the outbox: so a
	// concurrent merge on another worker either sees this item in the
	// outbox or its new edge is seen here. Neither can miss the item.
	if err := e.timelines.Write(ctx, []timeline.Row{
		{NS: timeline.Outbox, User: ev.Actor, Entry: entry},
		{NS: timeline.Home, User: ev.Actor, Entry: entry},
	}); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	users, large, err := e.audienceOf(ctx, ev.Actor, kind, group)
	if err != nil {
		return err
	}
	b.eff.Large = large
	if ev.Type == schema.Gift {
		users = addSorted(users, ev.Target)
	}
	e.deliver(b, ev.ID, users, ev.Actor, entry)
	b.eff.Recipients = users
	return nil
}

func itemEntry(o *objects.Object) timeline.Entry {
	return timeline.Entry{TS: o.TS, ID: o.EventID, Kind: kindOf(o.Type), Actor: o.Author,
		Object: o.ID, Owner: o.Target, Until: o.Until, Audience: o.Audience}
}

// deliver buffers home rows for users (except skip) and picks some of them
// for trimming.
func (e *Engine) deliver(b *batch, eventID string, users []int64, skip int64, entry timeline.Entry) {
	h := fnv.New64a()
	h.Write([]byte(eventID))
	seed := h.Sum64()
	every := uint64(e.cfg.TrimEvery)
	for _, u := range users {
		if u == skip {
			continue
		}
		b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: u, Entry: entry})
		b.deliveries++
		if (seed^uint64(u)*0x9E3779B97F4A7C15)%every == 0 {
			b.trim = append(b.trim, u)
		}
	}
}

// audienceOf resolves who receives an author's item, and whether the
// author is large: authors above the hybrid threshold get nobody, their
// outbox is merged at read time. The size and the friends are read
// at once where Config.Overlap allows (on Cassandra each is a round trip
// the item waits for);
// the friends are wasted only for a large author, and a user's friends
// are few next to a large author's followers, which are read only once
// the size says the author is not large.
func (e *Engine) audienceOf(ctx context.Context, author int64, kind schema.AudienceKind, group string) ([]int64, bool, error) {
	var (
		size    int64
		friends []int64
	)
	calls := 2
	if kind == schema.ToPrivate {
		calls = 1
	}
	err := e.overlap(ctx, calls, func(ctx context.Context, i int) (err error) {
		if i == 0 {
			if size, err = e.graph.AudienceSize(ctx, author); err != nil {
				return fmt.Errorf("audience size: %w", err)
			}
			return nil
		}
		if friends, err = e.graph.Friends(ctx, author); err != nil {
			return fmt.Errorf("friends: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if size > e.cfg.LargeThreshold {
		if err := e.graph.MarkLarge(ctx, author); err != nil {
			return nil, false, fmt.Errorf("mark large: %w", err)
		}
		return nil, true, nil
	}
	users, err := e.smallAudience(ctx, author, kind, group, friends)
	return users, false, err
}

// smallAudience is the audience of an author below the hybrid threshold,
// given the author's friends.
func (e *Engine) smallAudience(ctx context.Context, author int64, kind schema.AudienceKind, group string, friends []int64) ([]int64, error) {
	switch kind {
	case schema.ToFriends:
		return friends, nil
	case schema.ToGroup:
		members, err := e.graph.GroupMembers(ctx, author, group)
		if err != nil {
			return nil, fmt.Errorf("group members: %w", err)
		}
		return graph.Intersect(members, friends), nil
	case schema.ToPrivate:
		return nil, nil
	}
	followers, err := e.graph.Followers(ctx, author)
	if err != nil {
		return nil, fmt.Errorf("followers: %w", err)
	}
	return graph.Union(friends, followers), nil
}

// liveEnd retires a broadcast: readers stop showing it at once.
func (e *Engine) liveEnd(ctx context.Context, b *batch, ev *schema.Event) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	if o := objs[0]; o.Exists() && (o.Author != ev.Actor || o.Type != schema.Live) {
		return rejectAs(ErrNotOwner, "object %q is not a broadcast of user %d", ev.Object, ev.Actor)
	}
	obj, err := e.objects.End(ctx, ev.Object, ev.Actor, ev.Stamp())
	if err != nil {
		return fmt.Errorf("end broadcast: %w", err)
	}
	b.eff.Object, b.eff.applied = obj, true
	return nil
}

// delete removes an object from every feed: at once for readers (the
// object's state), then physically from the timelines it reached.
func (e *Engine) delete(ctx context.Context, b *batch, ev *schema.Event) error {
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return fmt.Errorf("read object: %w", err)
	}
	if o := objs[0]; (o.Exists() || o.Author != 0) && o.Author != ev.Actor {
		return rejectAs(ErrNotOwner, "user %d may not delete object %q of user %d", ev.Actor, ev.Object, o.Author)
	}
	obj, err := e.objects.Delete(ctx, ev.Object, ev.Actor, ev.Stamp())
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	b.eff.Object, b.eff.applied = obj, true
	if !obj.Exists() {
		return nil // a tombstone: the object, if it ever comes, stays hidden
	}
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	entry := itemEntry(&obj)
	users, _, err := e.audienceOf(ctx, obj.Author, schema.ToPublic, "")
	if err != nil {
		return err
	}
	if obj.Type == schema.Gift {
		users = addSorted(users, obj.Target)
	}
	rows := make([]timeline.Row, 0, len(users)+2)
	rows = append(rows, timeline.Row{NS: timeline.Outbox, User: obj.Author, Entry: entry},
		timeline.Row{NS: timeline.Home, User: obj.Author, Entry: entry})
	for _, u := range users {
		if u != obj.Author {
			rows = append(rows, timeline.Row{NS: timeline.Home, User: u, Entry: entry})
		}
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete rows: %w", err)
	}
	return nil
}
