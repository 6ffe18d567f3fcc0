package fanout

// Graph edges: friend, follow, block and friend-group changes, and the
// timeline merges and unmerges they cause.

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// stale reports whether the stored edge is newer than the event.
func (e *Engine) stale(ctx context.Context, rel graph.Rel, from, to int64, group string, at schema.Stamp) (graph.Edge, bool, error) {
	cur, err := e.graph.Edge(ctx, rel, from, to, group)
	if err != nil {
		return cur, false, fmt.Errorf("read %s edge: %w", rel, err)
	}
	return cur, cur.Stamp.After(at), nil
}

// friend makes or ends a mutual friendship, merging or unmerging items.
func (e *Engine) friend(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Friend, a, t, "", at); err != nil || old {
		return err
	}
	if on {
		blocked, err := graph.BlockedEitherWay(ctx, e.graph, a, t)
		if err != nil {
			return err
		}
		if blocked {
			return rejectAs(ErrBlocked, "users %d and %d cannot be friends: a block stands between them", a, t)
		}
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{
		{Rel: graph.Friend, From: a, To: t, On: on, Stamp: at},
		{Rel: graph.Friend, From: t, To: a, On: on, Stamp: at},
	}); err != nil {
		return fmt.Errorf("set friend edges: %w", err)
	}
	b.eff.applied = true
	if on {
		if err := e.merge(ctx, b, a, t, true); err != nil {
			return err
		}
		return e.merge(ctx, b, t, a, true)
	}
	if err := e.unmergeAuthor(ctx, b, a, t); err != nil {
		return err
	}
	return e.unmergeAuthor(ctx, b, t, a)
}

// follow starts or stops following an account.
func (e *Engine) follow(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Follow, a, t, "", at); err != nil || old {
		return err
	}
	if on {
		blocked, err := graph.BlockedEitherWay(ctx, e.graph, a, t)
		if err != nil {
			return err
		}
		if blocked {
			return rejectAs(ErrBlocked, "user %d cannot follow %d: a block stands between them", a, t)
		}
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{{Rel: graph.Follow, From: a, To: t, On: on, Stamp: at}}); err != nil {
		return fmt.Errorf("set follow edge: %w", err)
	}
	b.eff.applied = true
	if on {
		return e.merge(ctx, b, a, t, false)
	}
	return e.unmergeAuthor(ctx, b, a, t)
}

// block ends every relation between two users and hides each from the other.
func (e *Engine) block(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, at := ev.Actor, ev.Target, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Block, a, t, "", at); err != nil || old {
		return err
	}
	edges := []graph.Edge{{Rel: graph.Block, From: a, To: t, On: on, Stamp: at}}
	if on {
		edges = append(edges,
			graph.Edge{Rel: graph.Friend, From: a, To: t, Stamp: at},
			graph.Edge{Rel: graph.Friend, From: t, To: a, Stamp: at},
			graph.Edge{Rel: graph.Follow, From: a, To: t, Stamp: at},
			graph.Edge{Rel: graph.Follow, From: t, To: a, Stamp: at})
	}
	if err := e.graph.SetEdges(ctx, edges); err != nil {
		return fmt.Errorf("set block edges: %w", err)
	}
	b.eff.applied = true
	if !on {
		return nil
	}
	if err := e.unmergeAuthor(ctx, b, a, t); err != nil {
		return err
	}
	return e.unmergeAuthor(ctx, b, t, a)
}

// group adds a friend to, or removes one from, the actor's friend group.
func (e *Engine) group(ctx context.Context, b *batch, ev *schema.Event, on bool) error {
	a, t, g, at := ev.Actor, ev.Target, ev.Object, ev.Stamp()
	if _, old, err := e.stale(ctx, graph.Member, a, t, g, at); err != nil || old {
		return err
	}
	if err := e.graph.SetEdges(ctx, []graph.Edge{{Rel: graph.Member, From: a, To: t, Group: g, On: on, Stamp: at}}); err != nil {
		return fmt.Errorf("set group edge: %w", err)
	}
	b.eff.applied = true
	if on {
		return nil // only later items go to the group
	}
	aud := "group:" + g
	return e.unmerge(ctx, b, t, func(en *timeline.Entry) bool {
		return en.Actor == a && en.Audience == aud
	})
}

// merge copies author's recent items that viewer may now see into viewer's
// home timeline.
func (e *Engine) merge(ctx context.Context, b *batch, viewer, author int64, asFriend bool) error {
	recent, err := e.timelines.Page(ctx, timeline.Outbox, author, timeline.Position{}, e.cfg.MergeRecent)
	if err != nil {
		return fmt.Errorf("read outbox of %d: %w", author, err)
	}
	minTS := e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli()
	for _, en := range recent {
		if en.TS < minTS {
			break
		}
		kind, _, _ := schema.ParseAudience(en.Audience)
		if kind == schema.ToPublic || (asFriend && kind == schema.ToFriends) {
			b.rows = append(b.rows, timeline.Row{NS: timeline.Home, User: viewer, Entry: en})
			b.deliveries++
		}
	}
	return nil
}

// unmergeAuthor removes from viewer's home timeline what author's items
// viewer may no longer see, judged by the relations now stored.
func (e *Engine) unmergeAuthor(ctx context.Context, b *batch, viewer, author int64) error {
	friend, err := e.graph.Edge(ctx, graph.Friend, viewer, author, "")
	if err != nil {
		return fmt.Errorf("read friend edge: %w", err)
	}
	follow, err := e.graph.Edge(ctx, graph.Follow, viewer, author, "")
	if err != nil {
		return fmt.Errorf("read follow edge: %w", err)
	}
	blocked, err := graph.BlockedEitherWay(ctx, e.graph, viewer, author)
	if err != nil {
		return err
	}
	return e.unmerge(ctx, b, viewer, func(en *timeline.Entry) bool {
		if en.Actor != author && (en.Owner != author || !blocked) {
			return false
		}
		if blocked {
			return true
		}
		if friend.On {
			return false
		}
		kind, _, _ := schema.ParseAudience(en.Audience)
		return en.Kind == timeline.KindClass || kind != schema.ToPublic || !follow.On
	})
}

// unmerge deletes the entries of viewer's home timeline that drop says to.
func (e *Engine) unmerge(ctx context.Context, b *batch, viewer int64, drop func(*timeline.Entry) bool) error {
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	const chunk = 256
	var rows []timeline.Row
	after := timeline.Position{}
	for scanned := 0; scanned < e.cfg.Policy.Cap*2; {
		page, err := e.timelines.Page(ctx, timeline.Home, viewer, after, chunk)
		if err != nil {
			return fmt.Errorf("read timeline of %d: %w", viewer, err)
		}
		for i := range page {
			if drop(&page[i]) {
				rows = append(rows, timeline.Row{NS: timeline.Home, User: viewer, Entry: page[i]})
			}
		}
		scanned += len(page)
		if len(page) < chunk {
			break
		}
		after = page[len(page)-1].Pos()
	}
	if len(rows) == 0 {
		return nil
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("unmerge from %d: %w", viewer, err)
	}
	return nil
}

func addSorted(s []int64, u int64) []int64 {
	i, ok := slices.BinarySearch(s, u)
	if ok {
		return s
	}
	return slices.Insert(slices.Clip(s), i, u)
}
