package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/timeline"
)

// The checks of the invariants in keys.go and notify.go, run after a write
// has committed in builds with -tags invariants (package invariants); the
// writers call them under if invariants.Enabled, so other builds drop them.
//
// Each check reads only what the write's own locks or one Pebble snapshot
// keep still, so a concurrent writer that keeps the invariants can never
// make it fire: a failure is a bug in a writer, and panics. A read error
// (a cancelled context, a closing store) ends a check quietly: it is not a
// violation, and the write already succeeded.
//
// Not checked here, and why:
//   - timeline bounds (a timeline holds at most its cap after Trim): a
//     concurrent Write may add rows the moment Trim commits, so the bound
//     holds only at rest, not after each write.
//   - friendship symmetry: both directions arrive in one SetEdges call with
//     one stamp, but a call over edgeChunk edges commits in several
//     batches, so a reader may see one half; it is the caller's property.
//   - ranking pair sizes: MaxPerPair plus the writes since the last trim
//     by design (ranking.go), not a bound after each write.

// checkEdges checks, after setChunk committed edges and with its stripes
// still held, that each Follow or Block edge has its reverse index row
// exactly when it is On, and that the audience size of each user an edge
// counts toward equals its On Friend edges plus its followers (every flip
// that changes audience[u] holds u's counter stripe, so none can commit
// while we count).
func (g *GraphStore) checkEdges(ctx context.Context, edges []graph.Edge) {
	s := g.s
	users := make(map[int64]struct{})
	var k []byte
	for i := range edges {
		e := &edges[i]
		group := ""
		if e.Rel == graph.Member {
			group = e.Group
		}
		k = edgeKey(k[:0], uint8(e.Rel), e.From, e.To, group)
		v, found, err := s.getCopy(k, nil)
		if err != nil {
			return
		}
		on := found && edgeOn(v)
		if e.Rel == graph.Follow || e.Rel == graph.Block {
			k = edgeRevKey(k[:0], uint8(e.Rel), e.To, e.From)
			_, rev, err := s.getCopy(k, nil)
			if err != nil {
				return
			}
			if rev != on {
				invariants.Failf("pebblestore: edge rel %d %d->%d is On=%v but its reverse index row exists=%v",
					e.Rel, e.From, e.To, on, rev)
			}
		}
		if u, ok := audienceOf(e); ok {
			users[u] = struct{}{}
		}
	}
	for u := range users {
		n, err := s.getCounter(audienceKey(nil, u))
		if err != nil {
			return
		}
		var friends, followers int64
		p := edgePrefix(nil, uint8(graph.Friend), u, "")
		if s.scan(ctx, p, prefixEnd(nil, p), func(_, v []byte) bool {
			if edgeOn(v) {
				friends++
			}
			return true
		}) != nil {
			return
		}
		p = edgeRevPrefix(nil, uint8(graph.Follow), u)
		if s.scan(ctx, p, prefixEnd(nil, p), func(_, _ []byte) bool { followers++; return true }) != nil {
			return
		}
		if n != friends+followers {
			invariants.Failf("pebblestore: audience of %d is %d, but it has %d friends and %d followers",
				u, n, friends, followers)
		}
	}
}

// checkClassCount checks, after SetMark committed and under the object's
// stripe, that the object's Class count is its number of On Class! marks
// and its other-kind counts are the numbers of On marks of each kind.
func (o *ObjectStore) checkClassCount(ctx context.Context, object string) {
	s := o.s
	var n int64
	var stored []objects.KindCount
	if v, found, err := s.getCopy(classCountKey(nil, object), nil); err != nil {
		return
	} else if found {
		if n, stored, err = decodeCountsVal(v, nil); err != nil {
			invariants.Failf("pebblestore: counts of %q: %v", object, err)
		}
	}
	var on int64
	var others []objects.KindCount
	p := appendStr([]byte{tMark}, object)
	if s.scan(ctx, p, prefixEnd(nil, p), func(_, v []byte) bool {
		isOn, kind, err := markKindOf(v)
		switch {
		case err != nil || !isOn:
		case kind == nil:
			on++
		default:
			others = objects.AddOther(others, string(kind), 1)
		}
		return true
	}) != nil {
		return
	}
	if n != on {
		invariants.Failf("pebblestore: Class count of %q is %d, but %d marks are On", object, n, on)
	}
	if !slices.Equal(stored, others) {
		invariants.Failf("pebblestore: reaction counts of %q are %v, but the On marks are %v", object, stored, others)
	}
}

// checkMarkers checks, after Write committed rows, that in one snapshot
// each Home class row written exists exactly when its marker does, and
// that a marker points at its row: same ts and event id, and the row is a
// class row of the marker's actor and object. Write and Delete change a
// row and its marker in one batch, so every snapshot must see them paired.
func (t *TimelineStore) checkMarkers(rows []timeline.Row) {
	snap := t.s.db.NewSnapshot()
	defer snap.Close()
	get := func(k []byte) ([]byte, bool, error) {
		v, closer, err := snap.Get(k)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		v = append([]byte(nil), v...)
		return v, true, closer.Close()
	}
	var k []byte
	for i := range rows {
		r := &rows[i]
		if !isClassRow(r) {
			continue
		}
		e := &r.Entry
		k = rowKey(k[:0], uint8(r.NS), r.User, e.TS, e.ID)
		rv, rowFound, err := get(k)
		if err != nil {
			return
		}
		var stored timeline.Entry
		if rowFound && decodeRow(k, rv, &stored) != nil {
			return // corrupt rows are reported by the reads that meet them
		}
		k = markerKey(k[:0], r.User, timeline.MarkerObject(e.Kind, e.Object), e.Actor, e.TS, e.ID)
		mv, markerFound, err := get(k)
		if err != nil {
			return
		}
		where := fmt.Sprintf("user %d row (%d, %q) of actor %d on %q", r.User, e.TS, e.ID, e.Actor, e.Object)
		switch {
		case rowFound != markerFound:
			invariants.Failf("pebblestore: timeline %s: row exists=%v but its marker exists=%v", where, rowFound, markerFound)
		case !rowFound:
			continue // deleted or trimmed since, with its marker
		case stored.Kind != e.Kind || stored.Actor != e.Actor || stored.Object != e.Object:
			invariants.Failf("pebblestore: timeline %s: the marker points at a row of kind %d, actor %d, object %q",
				where, stored.Kind, stored.Actor, stored.Object)
		}
		ts, id, err := decodeMarkerVal(mv)
		if err != nil {
			return
		}
		if ts != e.TS || string(id) != e.ID {
			invariants.Failf("pebblestore: timeline %s: the marker holds (%d, %q)", where, ts, id)
		}
	}
}

// checkHeads checks, after PutActivities committed, that in one snapshot
// the head row of each group written is never above the group's newest
// activity (notify.Store.Head's contract): Inbox.Add would otherwise leave
// a newer activity unindexed.
func (n *NotifyStore) checkHeads(ctx context.Context, acts []notify.Activity) {
	type group struct {
		user  int64
		group string
	}
	seen := make(map[group]struct{}, len(acts))
	snap := n.s.db.NewSnapshot()
	defer snap.Close()
	for i := range acts {
		a := &acts[i]
		g := group{a.User, a.Group}
		if _, dup := seen[g]; dup {
			continue
		}
		seen[g] = struct{}{}
		hk := nHeadKey(nil, a.User, a.Group)
		hv, closer, err := snap.Get(hk)
		if errors.Is(err, pebble.ErrNotFound) {
			continue // no head: Head reads the rows
		}
		if err != nil {
			return
		}
		r := reader{b: hv}
		var head int64
		if r.version("group head") == nil {
			head = r.varint()
		}
		bad := r.bad
		if closer.Close() != nil || bad {
			return
		}
		p := nActPrefix(nil, a.User, a.Group)
		it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(nil, p)})
		if err != nil {
			return
		}
		newest, rows := int64(math.MinInt64), 0
		for ok := it.First(); ok; ok = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				break
			}
			if ts, ok := activityTS(nil, v); ok {
				newest = max(newest, ts)
				rows++
			}
		}
		err = errors.Join(it.Error(), it.Close())
		if err != nil {
			return
		}
		if rows == 0 || head > newest {
			invariants.Failf("pebblestore: notification group %q of user %d: head row at %d, but %d activities, the newest at %d",
				a.Group, a.User, head, rows, newest)
		}
	}
}

// checkMyReaction checks, after SetReaction committed and under the
// object's stripe, that the actor's myReaction row is the mark: its kind
// while On, absent while Off.
func (o *ObjectStore) checkMyReaction(m *objects.Mark) {
	v, found, err := o.s.getCopy(myReactionKey(nil, m.Actor, m.Object), nil)
	if err != nil {
		return
	}
	if found != m.On || (found && string(v) != m.Kind) {
		invariants.Failf("pebblestore: my reaction of %d on %q is %q (found %v), but the mark is On=%v kind %q",
			m.Actor, m.Object, v, found, m.On, m.Kind)
	}
}
