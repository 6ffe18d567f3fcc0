package objects

import (
	"context"

	"github.com/lenta-dev/lenta/schema"
)

// Comment is one comment on an object. Its ID is the id of the comment
// event that made it (one event, one comment), so the idempotency key
// names it.
type Comment struct {
	Object  string // the commented object
	ID      string // the comment event's id
	Author  int64
	ReplyTo string // the comment (on the same object) this one answers, if any
	Text    string
	TS      int64 // when it was written, unix ms; with ID its place in the thread
	Deleted bool
	// DeletedAt is the stamp of the comment_delete that removed it (zero
	// while it stands).
	DeletedAt schema.Stamp
}

// Exists reports whether the comment was written (not only a tombstone
// left by a delete that came first).
func (c *Comment) Exists() bool { return c.TS != 0 }

// CommentPos is a place in an object's thread: comments are ordered by
// (TS, ID). The zero CommentPos is the start of the thread in either
// direction.
type CommentPos struct {
	TS int64
	ID string
}

// IsZero reports whether p is the start of the thread.
func (p CommentPos) IsZero() bool { return p.TS == 0 && p.ID == "" }

// Comments keeps comments and each object's comment count (the comments
// that stand). Implementations must be safe for concurrent use.
//
// Every change is guarded as marks are: a comment is written once (a
// second Put of its id changes nothing), a delete is a tombstone that a
// late Put of the same id cannot undo, and the count moves only when a
// comment turns from absent to standing or from standing to deleted, so
// re-delivery never counts twice.
type Comments interface {
	// PutComment writes c unless a comment or tombstone with its (Object,
	// ID) exists, and returns the comment as stored afterwards.
	PutComment(ctx context.Context, c Comment) (Comment, error)
	// DeleteComment deletes comment id of object at stamp; an unknown
	// comment becomes a tombstone (Deleted, no TS), so a late copy of it
	// is never shown. It returns the comment as stored afterwards.
	DeleteComment(ctx context.Context, object, id string, at schema.Stamp) (Comment, error)
	// GetComments returns the comments of object with these ids, in
	// order; a missing one is the zero Comment with Object and ID set.
	GetComments(ctx context.Context, object string, ids []string) ([]Comment, error)
	// CommentPage returns up to limit standing comments of object strictly
	// after position after (the zero position: from the start), oldest
	// first, or newest first when newest is set.
	CommentPage(ctx context.Context, object string, after CommentPos, newest bool, limit int) ([]Comment, error)
	// CommentCounts returns the number of standing comments of each
	// object, in order, in one call (a feed page reads them together).
	CommentCounts(ctx context.Context, ids []string) ([]int64, error)
}

// Before reports whether a comment at p comes before q in the thread's
// oldest-first order.
func (p CommentPos) Before(q CommentPos) bool {
	if p.TS != q.TS {
		return p.TS < q.TS
	}
	return p.ID < q.ID
}
