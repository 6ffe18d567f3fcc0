package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// CommentStore implements objects.Comments on comments (the records, with
// each object's static comment_count) and comment_thread (the standing
// comments in thread order); see schema/cql/010_comments.cql.
type CommentStore struct{ s *Store }

var _ objects.Comments = (*CommentStore)(nil)

// Comments is the objects.Comments view.
func (s *Store) Comments() *CommentStore { return &s.comments }

const (
	selectComment = `SELECT comment_count, author, ts, reply_to, body, deleted, del_ts, del_id FROM comments
WHERE object = ? AND id = ?`
	selectCommentCount = `SELECT comment_count FROM comments WHERE object = ? LIMIT 1`
	setCommentCount    = `UPDATE comments SET comment_count = ? WHERE object = ? IF comment_count = ?`
	insertComment      = `INSERT INTO comments (object, id, author, ts, reply_to, body, deleted, del_ts, del_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`
	updateCommentDeleted = `UPDATE comments SET deleted = true, del_ts = ?, del_id = ? WHERE object = ? AND id = ?
IF del_ts = ? AND del_id = ?`
	insertThread   = `INSERT INTO comment_thread (object, ts, id) VALUES (?, ?, ?) USING TIMESTAMP ?`
	deleteThread   = `DELETE FROM comment_thread USING TIMESTAMP ? WHERE object = ? AND ts = ? AND id = ?`
	selectThreadUp = `SELECT ts, id FROM comment_thread WHERE object = ? AND (ts, id) > (?, ?) LIMIT ?`
	selectThreadDn = `SELECT ts, id FROM comment_thread WHERE object = ? AND (ts, id) < (?, ?)
ORDER BY ts DESC, id DESC LIMIT ?`
	selectThreadFirst = `SELECT ts, id FROM comment_thread WHERE object = ? LIMIT ?`
	selectThreadLast  = `SELECT ts, id FROM comment_thread WHERE object = ? ORDER BY ts DESC, id DESC LIMIT ?`
	selectCommentCnts = `SELECT object, comment_count FROM comments WHERE object IN ? PER PARTITION LIMIT 1`
)

// threadTS is the write time of a comment's thread row; its delete uses
// one more, so it wins over the insert in whatever order both arrive.
func threadTS(ts int64) int64 { return ts * 1000 }

// readComment reads one record; found is false for an unknown id.
func (c *CommentStore) readComment(ctx context.Context, cons gocql.Consistency, object, id string) (objects.Comment, *int64, bool, error) {
	cm := objects.Comment{Object: object, ID: id}
	var (
		count                *int64
		author, ts, delTS    *int64
		replyTo, body, delID *string
		deleted              *bool
	)
	err := c.s.sess.Query(selectComment, object, id).Consistency(cons).Idempotent(true).ScanContext(ctx,
		&count, &author, &ts, &replyTo, &body, &deleted, &delTS, &delID)
	if errors.Is(err, gocql.ErrNotFound) {
		return cm, nil, false, nil
	}
	if err != nil {
		return cm, nil, false, wrap(fmt.Sprintf("read comment %q/%q", object, id), err)
	}
	if ts == nil {
		// Only the static count is set: the partition exists, the row does not.
		return cm, count, false, nil
	}
	cm.Author, cm.TS = deref(author), *ts
	cm.ReplyTo, cm.Text = derefStr(replyTo), derefStr(body)
	cm.Deleted = deleted != nil && *deleted
	cm.DeletedAt = schema.Stamp{TS: deref(delTS), ID: derefStr(delID)}
	return cm, count, true, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// PutComment creates the comment's row and counts it in one conditional
// batch; a stored row (or tombstone) wins and is returned. The thread row
// follows, blind; a standing comment re-writes it on every call and a
// deleted one re-deletes it, which repairs a crash between the writes.
func (c *CommentStore) PutComment(ctx context.Context, cm objects.Comment) (objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return cm, err
	}
	if cm.Object == "" || cm.ID == "" || cm.TS == 0 {
		return cm, wrap("put comment", errBadID)
	}
	s := c.s
	cm.Deleted, cm.DeletedAt = false, schema.Stamp{}
	out := cm
	var stmts [2]casStmt
	err := casLoop(ctx, func(attempt int) error {
		cons := s.readConsistency(attempt)
		cur, count, found, err := c.readComment(ctx, cons, cm.Object, cm.ID)
		if err != nil {
			return err
		}
		if found {
			out = cur
			return nil
		}
		if count == nil {
			if err := s.sess.Query(selectCommentCount, cm.Object).Consistency(cons).Idempotent(true).
				ScanContext(ctx, &count); err != nil && !errors.Is(err, gocql.ErrNotFound) {
				return wrap(fmt.Sprintf("read comment count %q", cm.Object), err)
			}
		}
		batch := append(stmts[:0],
			casStmt{insertComment, []any{cm.Object, cm.ID, cm.Author, cm.TS, cm.ReplyTo, cm.Text, false, nil, nil}},
			countStmt(setCommentCount, count, 1, cm.Object))
		applied, err := s.cas(ctx, batch)
		if err != nil {
			return wrap(fmt.Sprintf("put comment %q/%q", cm.Object, cm.ID), err)
		}
		if !applied {
			return errLostRace
		}
		out = cm
		return nil
	})
	if errors.Is(err, ErrContention) {
		return out, fmt.Errorf("%w: comment %q/%q", err, cm.Object, cm.ID)
	}
	if err != nil {
		return out, err
	}
	return out, c.syncThread(ctx, &out)
}

// syncThread makes the thread row of a written comment match its state.
func (c *CommentStore) syncThread(ctx context.Context, cm *objects.Comment) error {
	if !cm.Exists() {
		return nil
	}
	var q *gocql.Query
	if cm.Deleted {
		q = c.s.sess.Query(deleteThread, threadTS(cm.TS)+1, cm.Object, cm.TS, cm.ID)
	} else {
		q = c.s.sess.Query(insertThread, cm.Object, cm.TS, cm.ID, threadTS(cm.TS))
	}
	return wrap(fmt.Sprintf("comment thread %q/%q", cm.Object, cm.ID), q.Idempotent(true).ExecContext(ctx))
}

// DeleteComment marks the comment deleted at stamp (a tombstone row if
// unknown), uncounting it in the same conditional batch if it stood.
func (c *CommentStore) DeleteComment(ctx context.Context, object, id string, at schema.Stamp) (objects.Comment, error) {
	out := objects.Comment{Object: object, ID: id}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if object == "" || id == "" {
		return out, wrap("delete comment", errBadID)
	}
	s := c.s
	var stmts [2]casStmt
	err := casLoop(ctx, func(attempt int) error {
		cons := s.readConsistency(attempt)
		cur, count, found, err := c.readComment(ctx, cons, object, id)
		if err != nil {
			return err
		}
		if found && cur.Deleted && !at.After(cur.DeletedAt) {
			out = cur
			return nil
		}
		next := cur
		next.Deleted, next.DeletedAt = true, at
		var batch []casStmt
		if !found {
			batch = append(stmts[:0], casStmt{insertComment, []any{object, id, int64(0), int64(0), "", "", true, at.TS, at.ID}})
		} else {
			var oldTS, oldID any // null binds "IF del_ts = null" for a comment never deleted
			if cur.Deleted {
				oldTS, oldID = cur.DeletedAt.TS, cur.DeletedAt.ID
			}
			batch = append(stmts[:0], casStmt{updateCommentDeleted, []any{at.TS, at.ID, object, id, oldTS, oldID}})
			if !cur.Deleted {
				if count == nil {
					if err := s.sess.Query(selectCommentCount, object).Consistency(cons).Idempotent(true).
						ScanContext(ctx, &count); err != nil && !errors.Is(err, gocql.ErrNotFound) {
						return wrap(fmt.Sprintf("read comment count %q", object), err)
					}
				}
				batch = append(batch, countStmt(setCommentCount, count, -1, object))
			}
		}
		applied, err := s.cas(ctx, batch)
		if err != nil {
			return wrap(fmt.Sprintf("delete comment %q/%q", object, id), err)
		}
		if !applied {
			return errLostRace
		}
		out = next
		return nil
	})
	if errors.Is(err, ErrContention) {
		return out, fmt.Errorf("%w: comment %q/%q", err, object, id)
	}
	if err != nil {
		return out, err
	}
	return out, c.syncThread(ctx, &out)
}

// GetComments reads the records with concurrent point reads, in order.
func (c *CommentStore) GetComments(ctx context.Context, object string, ids []string) ([]objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]objects.Comment, len(ids))
	err := c.s.each(ctx, len(ids), func(i int) error {
		cm, _, _, err := c.readComment(ctx, c.s.cons, object, ids[i])
		out[i] = cm
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CommentPage reads thread positions after after, then their records. A
// thread row whose record is deleted (a delete whose thread removal has
// not landed yet) is skipped and the read goes on past it, so a page is
// short only at the end of the thread.
func (c *CommentStore) CommentPage(ctx context.Context, object string, after objects.CommentPos, newest bool, limit int) ([]objects.Comment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || object == "" {
		return nil, nil
	}
	var out []objects.Comment
	for len(out) < limit {
		want := limit - len(out)
		ids, last, err := c.threadIDs(ctx, object, after, newest, want)
		if err != nil {
			return nil, err
		}
		cms, err := c.GetComments(ctx, object, ids)
		if err != nil {
			return nil, err
		}
		for _, cm := range cms {
			if cm.Exists() && !cm.Deleted {
				out = append(out, cm)
			}
		}
		if len(ids) < want {
			break // the end of the thread
		}
		after = last
	}
	return out, nil
}

// threadIDs reads up to limit thread positions strictly after after and
// returns their ids and the last position read.
func (c *CommentStore) threadIDs(ctx context.Context, object string, after objects.CommentPos, newest bool, limit int) ([]string, objects.CommentPos, error) {
	var q *gocql.Query
	switch {
	case after.IsZero() && newest:
		q = c.s.sess.Query(selectThreadLast, object, limit)
	case after.IsZero():
		q = c.s.sess.Query(selectThreadFirst, object, limit)
	case newest:
		q = c.s.sess.Query(selectThreadDn, object, after.TS, after.ID, limit)
	default:
		q = c.s.sess.Query(selectThreadUp, object, after.TS, after.ID, limit)
	}
	iter := q.Idempotent(true).IterContext(ctx)
	var (
		ids  []string
		last objects.CommentPos
		ts   int64
		id   string
	)
	for iter.Scan(&ts, &id) {
		ids = append(ids, id)
		last = objects.CommentPos{TS: ts, ID: id}
	}
	if err := iter.Close(); err != nil {
		return nil, last, wrap(fmt.Sprintf("comment page %q", object), err)
	}
	return ids, last, nil
}

// CommentCounts reads the static counts of all ids in one query.
func (c *CommentStore) CommentCounts(ctx context.Context, ids []string) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	uniq := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	if len(uniq) == 0 {
		return out, nil
	}
	iter := c.s.sess.Query(selectCommentCnts, uniq).Idempotent(true).IterContext(ctx)
	var (
		object string
		n      *int64
	)
	for iter.Scan(&object, &n) {
		if n == nil {
			continue
		}
		for i, id := range ids {
			if id == object {
				out[i] = *n
			}
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("comment counts", err)
	}
	return out, nil
}
