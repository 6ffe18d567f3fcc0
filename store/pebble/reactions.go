package pebblestore

// Reactions: the one slot per (object, user) is the mark key; a change of
// kind moves one count from the old kind to the new in the batch that
// writes the mark. "Did I react?" is a point Get of the mark key per page
// item, which Pebble answers for a key never written from the memtable
// and each level's bloom filter (every level has one, see Open), without
// reading a data block: the miss is the cheap case.

import (
	"context"
	"errors"
	"fmt"

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
		if (fromOK && from == "") || (toOK && to == "") {
			ck := classCountKey(nil, m.Object)
			n, err := o.s.getCounter(ck)
			if err != nil {
				return err
			}
			if fromOK && from == "" {
				n = max(n-1, 0)
			}
			if toOK && to == "" {
				n++
			}
			if err := b.Set(ck, appendCounter(nil, n), nil); err != nil {
				return err
			}
		}
		if (fromOK && from != "") || (toOK && to != "") {
			return o.moveOther(b, m.Object, from, fromOK && from != "", to, toOK && to != "")
		}
		return nil
	})
	if err != nil {
		return objects.Change{Before: cur, After: cur}, fmt.Errorf("pebblestore: set reaction %q/%d: %w", m.Object, m.Actor, err)
	}
	if invariants.Enabled {
		o.checkClassCount(ctx, m.Object) // under the object's stripe still
	}
	return objects.Change{Before: cur, After: next, Applied: true}, nil
}

// moveOther updates the object's counts of kinds other than Class!.
func (o *ObjectStore) moveOther(b *pebble.Batch, object, from string, dec bool, to string, inc bool) error {
	rk := reactCountKey(nil, object)
	v, found, err := o.s.getCopy(rk, nil)
	if err != nil {
		return err
	}
	var other []objects.KindCount
	if found {
		if other, err = decodeReactsVal(v, nil); err != nil {
			return fmt.Errorf("reaction counts of %q: %w", object, err)
		}
	}
	if dec {
		other = objects.AddOther(other, from, -1)
	}
	if inc {
		other = objects.AddOther(other, to, 1)
	}
	if len(other) == 0 {
		return b.Delete(rk, nil)
	}
	return b.Set(rk, appendReactsVal(nil, other), nil)
}

// ReactionCounts returns each object's counts per kind, in order, from
// one multiGet of its Class count and other-kind counts keys. The other
// kinds of all objects share one backing array.
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
	n := len(ids)
	keys := o.s.keys(kb, 2*n, func(b []byte, i int) []byte {
		if i < n {
			return classCountKey(b, ids[i])
		}
		return reactCountKey(b, ids[i-n])
	})
	var other []objects.KindCount
	spans := make([][2]int32, n)
	err := o.s.multiGet(ctx, keys, func(i int, v []byte) error {
		if i < n {
			c, err := decodeCounter(v)
			out[i].Class = c
			return err
		}
		start := len(other)
		var err error
		other, err = decodeReactsVal(v, other)
		spans[i-n] = [2]int32{int32(start), int32(len(other))}
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

// MyReactions returns viewer's reaction kind on each object, in order: a
// point Get of each mark key, which a bloom filter answers for the usual
// miss (see the file comment).
func (o *ObjectStore) MyReactions(ctx context.Context, viewer int64, ids []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	kb := o.s.getBuf()
	defer o.s.putBuf(kb)
	for i, id := range ids {
		*kb = markKey((*kb)[:0], id, viewer)
		v, closer, err := o.s.db.Get(*kb)
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pebblestore: my reaction %q/%d: %w", id, viewer, err)
		}
		on, kind, err := markKindOf(v)
		if on && err == nil {
			out[i] = objects.InternKind(kind)
			if kind == nil {
				out[i] = schema.ReactionClass
			}
		}
		if cerr := closer.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("pebblestore: my reaction %q/%d: %w", id, viewer, err)
		}
	}
	return out, nil
}
