package notify

import (
	"context"
	"fmt"
	"slices"
)

// Inbox is the aggregated notification inbox over a Store. It is safe for
// concurrent use.
type Inbox struct {
	store Store
}

// NewInbox makes an Inbox.
func NewInbox(s Store) *Inbox { return &Inbox{store: s} }

// Store is the inbox's store.
func (in *Inbox) Store() Store { return in.store }

// MaxPageLimit is the largest page Page serves.
const MaxPageLimit = 100

// MaxUnread caps the unread count (a client shows "99+").
const MaxUnread = 100

// Add records one activity in a group that may already hold others. It
// reads the group's head (its newest ts and the actor's own event) first:
// a re-applied activity (same event) changes nothing and reports false; an
// activity older than the group's newest one is stored without a new index
// row; a newer one replaces the group's index row. It reports whether
// anything new was stored. Its cost does not grow with the group.
func (in *Inbox) Add(ctx context.Context, a Activity) (bool, error) {
	h, err := in.store.Head(ctx, a.User, a.Group, a.Actor)
	if err != nil {
		return false, fmt.Errorf("notify: read group head: %w", err)
	}
	if h.EventID != "" && h.EventID == a.EventID {
		return false, nil
	}
	var newest Position
	if h.Newest != 0 {
		newest = Position{TS: h.Newest, Group: a.Group}
	}
	pos := Position{TS: a.TS, Group: a.Group}
	index := !newest.After(pos)
	if err := in.store.PutActivities(ctx, []Activity{a}, index); err != nil {
		return false, fmt.Errorf("notify: put activity: %w", err)
	}
	if index && !newest.IsTop() && newest != pos {
		if err := in.store.DropIndex(ctx, a.User, []Position{newest}); err != nil {
			return false, fmt.Errorf("notify: drop old index row: %w", err)
		}
	}
	return true, nil
}

// AddMany records single-actor groups (a broadcast for many followers)
// without reading: each (user, group) has one actor, so a blind upsert is
// already idempotent.
func (in *Inbox) AddMany(ctx context.Context, acts []Activity) error {
	if len(acts) == 0 {
		return nil
	}
	if err := in.store.PutActivities(ctx, acts, true); err != nil {
		return fmt.Errorf("notify: put activities: %w", err)
	}
	return nil
}

// Retract removes actor's activity from a group (an unclass), keeping the
// group's index row at its newest remaining activity, or dropping the
// group when none remains.
func (in *Inbox) Retract(ctx context.Context, user int64, group string, actor int64) error {
	gs, err := in.store.Groups(ctx, user, []string{group})
	if err != nil {
		return fmt.Errorf("notify: read group: %w", err)
	}
	var gone *Activity
	var rest []Activity
	for i := range gs[0] {
		if gs[0][i].Actor == actor {
			gone = &gs[0][i]
		} else {
			rest = append(rest, gs[0][i])
		}
	}
	if gone == nil {
		return nil
	}
	if err := in.store.DeleteActivity(ctx, user, group, actor); err != nil {
		return fmt.Errorf("notify: delete activity: %w", err)
	}
	top, ok := newestOf(rest)
	goneAt := Position{TS: gone.TS, Group: group}
	if ok && !goneAt.After(Position{TS: top.TS, Group: group}) {
		return nil // the group's newest activity stays
	}
	if err := in.store.DropIndex(ctx, user, []Position{goneAt}); err != nil {
		return fmt.Errorf("notify: drop index row: %w", err)
	}
	if ok {
		if err := in.store.PutActivities(ctx, []Activity{top}, true); err != nil {
			return fmt.Errorf("notify: re-index group: %w", err)
		}
	}
	return nil
}

// RemoveGroups deletes whole groups of one user (their object was
// deleted) with every index row their activities may have left; groups
// that are empty or missing are skipped.
func (in *Inbox) RemoveGroups(ctx context.Context, user int64, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	gs, err := in.store.Groups(ctx, user, groups)
	if err != nil {
		return fmt.Errorf("notify: read groups: %w", err)
	}
	var rows []GroupAt
	for i, acts := range gs {
		seen := make(map[int64]struct{}, len(acts))
		for _, a := range acts {
			if _, dup := seen[a.TS]; !dup {
				seen[a.TS] = struct{}{}
				rows = append(rows, GroupAt{User: user, Pos: Position{TS: a.TS, Group: groups[i]}})
			}
		}
	}
	return in.RemoveAt(ctx, rows)
}

// RemoveAt deletes whole groups and the index row at each position,
// without reading (for single-activity groups whose position is known).
func (in *Inbox) RemoveAt(ctx context.Context, rows []GroupAt) error {
	if len(rows) == 0 {
		return nil
	}
	if err := in.store.DeleteGroups(ctx, rows); err != nil {
		return fmt.Errorf("notify: delete groups: %w", err)
	}
	return nil
}

func newestOf(acts []Activity) (Activity, bool) {
	if len(acts) == 0 {
		return Activity{}, false
	}
	best := acts[0]
	for _, a := range acts[1:] {
		if a.TS > best.TS || (a.TS == best.TS && a.EventID > best.EventID) {
			best = a
		}
	}
	return best, true
}

// Page is one page of notifications, newest first; Next is the position
// to continue after (top when there is nothing more).
type Page struct {
	Items []Notification
	Next  Position
}

// Page reads up to limit notification groups strictly after position
// after. Stale index rows (a group's older rows, left by concurrent
// writers) are skipped and dropped.
func (in *Inbox) Page(ctx context.Context, user int64, after Position, limit int) (Page, error) {
	if limit <= 0 || limit > MaxPageLimit {
		return Page{}, fmt.Errorf("notify: limit %d is outside 1..%d", limit, MaxPageLimit)
	}
	mark, err := in.store.ReadMark(ctx, user)
	if err != nil {
		return Page{}, fmt.Errorf("notify: read mark: %w", err)
	}
	var out Page
	seen := make(map[string]struct{})
	cur := after
	for range 8 { // bounded: stale rows are rare
		rows, err := in.store.Index(ctx, user, cur, limit+limit/2+1)
		if err != nil {
			return Page{}, fmt.Errorf("notify: read index: %w", err)
		}
		if len(rows) == 0 {
			return out, nil
		}
		var cand []Position
		for _, r := range rows {
			if _, dup := seen[r.Group]; dup {
				continue
			}
			seen[r.Group] = struct{}{}
			cand = append(cand, r)
		}
		names := make([]string, len(cand))
		for i, c := range cand {
			names[i] = c.Group
		}
		groups, err := in.store.Groups(ctx, user, names)
		if err != nil {
			return Page{}, fmt.Errorf("notify: read groups: %w", err)
		}
		var stale []Position
		for i, c := range cand {
			n, ok := build(c, groups[i])
			if !ok {
				stale = append(stale, c)
				delete(seen, c.Group) // its real row is elsewhere, or it is gone
				continue
			}
			n.Read = !c.After(mark)
			out.Items = append(out.Items, n)
			if len(out.Items) == limit {
				out.Next = c
				break
			}
		}
		// Rows of other groups that came after the last item returned are
		// read again by the next page, so only the stale ones seen are dropped.
		if len(stale) > 0 {
			if err := in.store.DropIndex(ctx, user, stale); err != nil {
				return Page{}, fmt.Errorf("notify: drop stale rows: %w", err)
			}
		}
		if len(out.Items) == limit {
			return out, nil
		}
		if len(rows) < limit+limit/2+1 {
			return out, nil
		}
		cur = rows[len(rows)-1]
	}
	if n := len(out.Items); n > 0 {
		out.Next = out.Items[n-1].Pos
	}
	return out, nil
}

// build aggregates a group's activities into a notification; ok is false
// when the index row at p is not the group's newest activity (stale).
func build(p Position, acts []Activity) (Notification, bool) {
	top, ok := newestOf(acts)
	if !ok || top.TS != p.TS {
		return Notification{}, false
	}
	sorted := slices.Clone(acts)
	slices.SortFunc(sorted, func(a, b Activity) int {
		if a.TS != b.TS {
			if a.TS > b.TS {
				return -1
			}
			return 1
		}
		if a.Actor < b.Actor {
			return -1
		}
		if a.Actor > b.Actor {
			return 1
		}
		return 0
	})
	n := Notification{ID: p.ID(), Kind: top.Kind, Object: top.Object, TS: top.TS, Until: top.Until,
		ActorCount: len(acts), Pos: p}
	if n.Kind == KindFriend || n.Kind == KindFollow {
		n.Object = ""
	}
	if n.Kind.base() == KindClass {
		n.Kind, n.Reactions = reactionsOf(acts)
	}
	for _, a := range sorted[:min(len(sorted), MaxActorsShown)] {
		n.Actors = append(n.Actors, a.Actor)
	}
	return n, true
}

// Group reads one group as a notification; ok is false when it is empty.
func (in *Inbox) Group(ctx context.Context, user int64, group string) (Notification, bool, error) {
	gs, err := in.store.Groups(ctx, user, []string{group})
	if err != nil {
		return Notification{}, false, fmt.Errorf("notify: read group: %w", err)
	}
	top, ok := newestOf(gs[0])
	if !ok {
		return Notification{}, false, nil
	}
	n, _ := build(Position{TS: top.TS, Group: group}, gs[0])
	return n, true, nil
}

// Unread counts groups newer than the read mark, up to MaxUnread.
func (in *Inbox) Unread(ctx context.Context, user int64) (int, error) {
	mark, err := in.store.ReadMark(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("notify: read mark: %w", err)
	}
	seen := make(map[string]struct{})
	var cur Position
	for range 10 {
		rows, err := in.store.Index(ctx, user, cur, 200)
		if err != nil {
			return 0, fmt.Errorf("notify: read index: %w", err)
		}
		for _, r := range rows {
			if !r.After(mark) {
				return len(seen), nil
			}
			seen[r.Group] = struct{}{}
			if len(seen) >= MaxUnread {
				return MaxUnread, nil
			}
		}
		if len(rows) < 200 {
			break
		}
		cur = rows[len(rows)-1]
	}
	return len(seen), nil
}

// MarkRead marks every notification at or before upTo read; the top
// position means everything there is now.
func (in *Inbox) MarkRead(ctx context.Context, user int64, upTo Position) error {
	if upTo.IsTop() {
		rows, err := in.store.Index(ctx, user, Position{}, 1)
		if err != nil {
			return fmt.Errorf("notify: read index: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		upTo = rows[0]
	}
	if err := in.store.SetReadMark(ctx, user, upTo); err != nil {
		return fmt.Errorf("notify: set read mark: %w", err)
	}
	return nil
}
