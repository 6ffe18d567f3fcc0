package pebblestore

// Comments: each comment's record (tombstones too), the thread index of
// standing comments in (ts, id) order, and each object's comment count.

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/invariants"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// CommentStore implements objects.Comments. Every change to the comments
// of one object runs under the object's lock stripe (the one its record and
// marks use), so the record, the thread index and the count change
// together in one batch.
type CommentStore struct{ s *Store }

var _ objects.Comments = (*CommentStore)(nil)

// Comments is the objects.Comments view.
func (s *Store) Comments() *CommentStore { return &s.comments }

func (c *CommentStore) load(key []byte, object, id string) (objects.Comment, bool, error) {
	cm := objects.Comment{Object: object, ID: id}
	v, found, err := c.s.getCopy(key, nil)
	if err != nil || !found {
		return cm, false, err
	}
	if err := decodeCommentVal(v, &cm); err != nil {
		return cm, false, fmt.Errorf("pebblestore: comment %q/%q: %w", object, id, err)
	}
	return cm, true, nil
}

// PutComment writes the comment unless its record (or a tombstone) exists.
func (c *CommentStore) PutComment(ctx context.Context, cm objects.Comment) (objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return cm, err
	}
	if !validKeyID(cm.Object) || !validKeyID(cm.ID) || cm.TS == 0 {
		return cm, fmt.Errorf("pebblestore: put comment: %w", errBadID)
	}
	defer c.s.objects.lockObject(cm.Object)()
	key := commentKey(nil, cm.Object, cm.ID)
	cur, found, err := c.load(key, cm.Object, cm.ID)
	if err != nil || found {
		return cur, err
	}
	cm.Deleted, cm.DeletedAt = false, schema.Stamp{}
	err = c.s.write(c.s.wo, func(b *pebble.Batch) error {
		if err := b.Set(key, appendCommentVal(nil, &cm), nil); err != nil {
			return err
		}
		if err := b.Set(commentThreadKey(nil, cm.Object, cm.TS, cm.ID), nil, nil); err != nil {
			return err
		}
		return c.addCount(b, cm.Object, 1)
	})
	if err != nil {
		return cur, fmt.Errorf("pebblestore: put comment %q/%q: %w", cm.Object, cm.ID, err)
	}
	if invariants.Enabled {
		c.checkComments(ctx, cm.Object) // under the object's stripe still
	}
	return cm, nil
}

// addCount adds delta to the object's comment count in b (never below 0).
func (c *CommentStore) addCount(b *pebble.Batch, object string, delta int64) error {
	ck := commentCountKey(nil, object)
	n, err := c.s.getCounter(ck)
	if err != nil {
		return err
	}
	return b.Set(ck, appendCounter(nil, max(n+delta, 0)), nil)
}

// DeleteComment deletes the comment (a tombstone if unknown); a later
// stamp of a repeated delete only advances DeletedAt.
func (c *CommentStore) DeleteComment(ctx context.Context, object, id string, at schema.Stamp) (objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return objects.Comment{Object: object, ID: id}, err
	}
	if !validKeyID(object) || !validKeyID(id) {
		return objects.Comment{Object: object, ID: id}, fmt.Errorf("pebblestore: delete comment: %w", errBadID)
	}
	defer c.s.objects.lockObject(object)()
	key := commentKey(nil, object, id)
	cur, found, err := c.load(key, object, id)
	if err != nil {
		return cur, err
	}
	if found && cur.Deleted && !at.After(cur.DeletedAt) {
		return cur, nil
	}
	wasStanding := found && !cur.Deleted
	next := cur
	next.Deleted, next.DeletedAt = true, at
	err = c.s.write(c.s.wo, func(b *pebble.Batch) error {
		if err := b.Set(key, appendCommentVal(nil, &next), nil); err != nil {
			return err
		}
		if !wasStanding {
			return nil
		}
		if err := b.Delete(commentThreadKey(nil, object, cur.TS, id), nil); err != nil {
			return err
		}
		return c.addCount(b, object, -1)
	})
	if err != nil {
		return cur, fmt.Errorf("pebblestore: delete comment %q/%q: %w", object, id, err)
	}
	if invariants.Enabled {
		c.checkComments(ctx, object) // under the object's stripe still
	}
	return next, nil
}

// GetComments reads the records of the comments of object named by ids.
func (c *CommentStore) GetComments(ctx context.Context, object string, ids []string) ([]objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]objects.Comment, len(ids))
	for i, id := range ids {
		out[i] = objects.Comment{Object: object, ID: id}
	}
	kb := c.s.getBuf()
	defer c.s.putBuf(kb)
	keys := c.s.keys(kb, len(ids), func(b []byte, i int) []byte { return commentKey(b, object, ids[i]) })
	err := c.s.multiGet(ctx, keys, func(i int, v []byte) error {
		if err := decodeCommentVal(v, &out[i]); err != nil {
			return fmt.Errorf("pebblestore: comment %q/%q: %w", object, ids[i], err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommentPage scans the thread index of object from after, in either
// direction, and reads the records of the comments found.
func (c *CommentStore) CommentPage(ctx context.Context, object string, after objects.CommentPos, newest bool, limit int) ([]objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || !validKeyID(object) {
		return nil, nil
	}
	prefix := commentThreadPrefix(nil, object)
	lower, upper := prefix, prefixEnd(nil, prefix)
	if !after.IsZero() {
		k := commentThreadKey(nil, object, after.TS, after.ID)
		if newest {
			upper = k // exclusive: strictly before after
		} else {
			lower = append(k, 0) // the smallest key strictly after it
		}
	}
	it, err := c.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: comment page: %w", err)
	}
	var ids []string
	step := it.Next
	ok := it.First()
	if newest {
		step, ok = it.Prev, it.Last()
	}
	for ; ok && len(ids) < limit; ok = step() {
		k := it.Key()
		if len(k) < len(prefix)+8 {
			_ = it.Close()
			return nil, fmt.Errorf("pebblestore: comment page: %w", corrupt("thread key"))
		}
		ids = append(ids, string(k[len(prefix)+8:]))
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: comment page: %w", err)
	}
	out, err := c.GetComments(ctx, object, ids)
	if err != nil {
		return nil, err
	}
	// The index and the records change in one batch; a record missing
	// here would be a broken invariant, not a race.
	for i := range out {
		if !out[i].Exists() || out[i].Deleted {
			return nil, fmt.Errorf("pebblestore: comment page: %w", corrupt("thread entry without a standing comment"))
		}
	}
	return out, nil
}

// CommentCounts reads each object's comment count with one multi-get.
func (c *CommentStore) CommentCounts(ctx context.Context, ids []string) ([]int64, error) {
	return c.s.counters(ctx, ids, commentCountKey)
}

// ---- keys and values ----

func commentKey(b []byte, object, id string) []byte {
	b = appendStr(append(b, tComment), object)
	return append(b, id...)
}

func commentThreadPrefix(b []byte, object string) []byte {
	return appendStr(append(b, tCommentThread), object)
}

func commentThreadKey(b []byte, object string, ts int64, id string) []byte {
	b = appendI64(commentThreadPrefix(b, object), ts)
	return append(b, id...)
}

func commentCountKey(b []byte, object string) []byte {
	return append(append(b, tCommentCount), object...)
}

// comment value: v, flags(bit0 Deleted), author, ts, replyTo str, text str,
// deletedAt.ts, deletedAt.id(tail).
func appendCommentVal(b []byte, cm *objects.Comment) []byte {
	var flags byte
	if cm.Deleted {
		flags |= 1
	}
	b = append(b, valueV1, flags)
	b = binary.AppendVarint(b, cm.Author)
	b = binary.AppendVarint(b, cm.TS)
	b = appendStr(b, cm.ReplyTo)
	b = appendStr(b, cm.Text)
	b = binary.AppendVarint(b, cm.DeletedAt.TS)
	return append(b, cm.DeletedAt.ID...)
}

func decodeCommentVal(v []byte, cm *objects.Comment) error {
	r := reader{b: v}
	if err := r.version("comment"); err != nil {
		return err
	}
	flags := r.u8()
	cm.Deleted = flags&1 != 0
	cm.Author = r.varint()
	cm.TS = r.varint()
	cm.ReplyTo = r.str()
	cm.Text = r.str()
	cm.DeletedAt.TS = r.varint()
	cm.DeletedAt.ID = string(r.tail())
	if r.bad {
		return corrupt("comment")
	}
	return nil
}

// checkComments checks, under object's stripe, that its comment count
// equals the standing comments (records neither deleted nor tombstones)
// and the entries of its thread index (-tags invariants).
func (c *CommentStore) checkComments(ctx context.Context, object string) {
	s := c.s
	n, err := s.getCounter(commentCountKey(nil, object))
	if err != nil {
		return
	}
	var standing, thread int64
	p := appendStr([]byte{tComment}, object)
	if s.scan(ctx, p, prefixEnd(nil, p), func(_, v []byte) bool {
		var cm objects.Comment
		if decodeCommentVal(v, &cm) == nil && cm.Exists() && !cm.Deleted {
			standing++
		}
		return true
	}) != nil {
		return
	}
	tp := commentThreadPrefix(nil, object)
	if s.scan(ctx, tp, prefixEnd(nil, tp), func(_, _ []byte) bool { thread++; return true }) != nil {
		return
	}
	if n != standing || n != thread {
		invariants.Failf("pebblestore: comment count of %q is %d, but %d comments stand and the thread holds %d",
			object, n, standing, thread)
	}
}
