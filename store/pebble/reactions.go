package pebblestore

// Reactions: the one slot per (object, user) is the mark key; a change of
// kind moves one count from the old kind to the new in the batch that
// writes the mark. "Did I react?" reads myReaction, the per-viewer index
// of On marks (user, object) written in the same batch: a page's objects
// are one bounded iterator over the viewer's own key range, which for the
// usual viewer (no reaction on any of the page, or none at all) ends at
// the first seek.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// SetReaction applies a reaction (On, with Kind) or its removal unless the
// stored mark's stamp is later or equal, moving the counts in the same
// batch as the mark, under the object's stripe.
func (o *ObjectStore) SetReaction(ctx context.Context, m objects.Mark) (objects.Change, error) {
	if err := ctx.Err(); err != nil {
		return objects.Change{Before: m, After: m}, err
	}
	if m.Object == "" {
		return objects.Change{Before: m, After: m}, fmt.Errorf("pebblestore: set reaction: %w", errBadID)
	}
	defer o.lockObject(m.Object)()
	mk := markKey(nil, m.Object, m.Actor)
	cur := objects.Mark{Object: m.Object, Actor: m.Actor}
	v, found, err := o.s.getCopy(mk, nil)
	if err != nil {
		return objects.Change{Before: cur, After: cur}, err
	}
	if found {
		if err := decodeMarkVal(v, &cur); err != nil {
			return objects.Change{Before: cur, After: cur}, fmt.Errorf("pebblestore: mark %q/%d: %w", m.Object, m.Actor, err)
		}
	}
	next, ok := objects.NextMark(cur, found, m)
	if !ok {
		return objects.Change{Before: cur, After: cur}, nil // the stored mark is as new or newer
	}
	from, fromOK, to, toOK := objects.Moves(&cur, &next)
	err = o.s.write(o.s.wo, func(b *pebble.Batch) error {
		if err := b.Set(mk, appendMarkVal(nil, &next), nil); err != nil {
			return err
		}
		if err := setMyReaction(b, &next); err != nil {
			return err
		}
		if !fromOK && !toOK {
			return nil
		}
		return o.moveCounts(b, m.Object, from, fromOK, to, toOK)
	})
	if err != nil {
		return objects.Change{Before: cur, After: cur}, fmt.Errorf("pebblestore: set reaction %q/%d: %w", m.Object, m.Actor, err)
	}
	if invariants.Enabled {
		o.checkClassCount(ctx, m.Object) // under the object's stripe still
		o.checkMyReaction(&next)
	}
	return objects.Change{Before: cur, After: next, Applied: true}, nil
}

// moveCounts moves one count of the object from kind from (if fromOK)
// to kind to (if toOK); "" is Class!.
func (o *ObjectStore) moveCounts(b *pebble.Batch, object, from string, fromOK bool, to string, toOK bool) error {
	ck := classCountKey(nil, object)
	v, found, err := o.s.getCopy(ck, nil)
	if err != nil {
		return err
	}
	var class int64
	var other []objects.KindCount
	if found {
		if class, other, err = decodeCountsVal(v, nil); err != nil {
			return fmt.Errorf("counts of %q: %w", object, err)
		}
	}
	add := func(kind string, delta int64) {
		if kind == "" {
			class = max(class+delta, 0)
		} else {
			other = objects.AddOther(other, kind, delta)
		}
	}
	if fromOK {
		add(from, -1)
	}
	if toOK {
		add(to, 1)
	}
	return b.Set(ck, appendCountsVal(nil, class, other), nil)
}

// ReactionCounts returns each object's counts per kind, in order, from
// one multiGet of the objects' counts values (as ClassCounts reads). The
// other kinds of all objects share one backing array.
func (o *ObjectStore) ReactionCounts(ctx context.Context, ids []string) ([]objects.Counts, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]objects.Counts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	kb := o.s.getBuf()
	defer o.s.putBuf(kb)
	keys := o.s.keys(kb, len(ids), func(b []byte, i int) []byte { return classCountKey(b, ids[i]) })
	other := make([]objects.KindCount, 0, 2*len(ids)) // one allocation for most pages
	var spansBuf [64][2]int32
	spans := spansBuf[:0]
	if len(ids) > len(spansBuf) {
		spans = make([][2]int32, 0, len(ids))
	}
	spans = spans[:len(ids)]
	err := o.s.multiGet(ctx, keys, func(i int, v []byte) error {
		start := len(other)
		var err error
		out[i].Class, other, err = decodeCountsVal(v, other)
		spans[i] = [2]int32{int32(start), int32(len(other))}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, sp := range spans {
		if sp[1] > sp[0] {
			out[i].Other = other[sp[0]:sp[1]:sp[1]]
		}
	}
	return out, nil
}

// setMyReaction writes the mark's myReaction row: its kind while On, none
// while Off.
func setMyReaction(b *pebble.Batch, m *objects.Mark) error {
	k := myReactionKey(nil, m.Actor, m.Object)
	if m.On {
		return b.Set(k, []byte(m.Kind), nil)
	}
	return b.Delete(k, nil)
}

// MyReactions returns viewer's reaction kind on each object, in order:
// the page's keys sorted, sought in one iterator bounded to the viewer's
// keys between the first and the last object; a viewer with none there
// costs one seek.
func (o *ObjectStore) MyReactions(ctx context.Context, viewer int64, ids []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	kb := o.s.getBuf()
	defer o.s.putBuf(kb)
	keys := o.s.keys(kb, len(ids), func(b []byte, i int) []byte { return myReactionKey(b, viewer, ids[i]) })
	var orderBuf [64]int
	order := orderBuf[:0]
	if len(ids) > len(orderBuf) {
		order = make([]int, 0, len(ids))
	}
	for i := range ids {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	last := keys[order[len(order)-1]]
	upper := append(last[:len(last):len(last)], 0) // a copy: last is capped
	it, err := o.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: keys[order[0]], UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: my reactions of %d: %w", viewer, err)
	}
	for _, i := range order {
		if !it.SeekGE(keys[i]) {
			break // nothing of the viewer's at or after this key: the rest miss too
		}
		if !bytes.Equal(it.Key(), keys[i]) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("pebblestore: my reactions of %d: %w", viewer, err)
		}
		if len(v) == 0 {
			out[i] = schema.ReactionClass
		} else {
			out[i] = objects.InternKind(v)
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: my reactions of %d: %w", viewer, err)
	}
	return out, nil
}

// backfillMyReactions writes myReaction for every On mark once, for a
// data folder written before the index existed, then records that it did
// (metaReactIndex); later opens skip it. Marks change only through
// SetReaction, which keeps the index from then on.
func (s *Store) backfillMyReactions() error {
	mk := metaKey(nil, metaReactIndex)
	_, done, err := s.getCopy(mk, nil)
	if err != nil || done {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	p := []byte{tMark}
	var setErr error
	err = s.scan(context.Background(), p, prefixEnd(nil, p), func(k, v []byte) bool {
		on, kind, derr := markKindOf(v)
		if derr != nil || !on {
			return true
		}
		object, rest, ok := splitStr(k[1:])
		if !ok || len(rest) != 8 {
			return true
		}
		setErr = b.Set(myReactionKey(nil, decodeI64(rest), object), kind, nil)
		return setErr == nil
	})
	if err = errors.Join(err, setErr); err != nil {
		return fmt.Errorf("pebblestore: backfill my reactions: %w", err)
	}
	if err := b.Set(mk, nil, nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: backfill my reactions: %w", err)
	}
	return nil
}

// splitStr cuts an appendStr string off the front of b.
func splitStr(b []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, false
	}
	return string(b[w : w+int(n)]), b[w+int(n):], true
}
