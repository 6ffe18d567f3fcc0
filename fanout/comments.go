package fanout

// Comments: the comment, its aggregate shown to the commenter's friends
// (per object, through the same marker index as Class! entries), and
// comment deletion.

import (
	"context"
	"fmt"
	"slices"

	"github.com/lenta-dev/lenta/graph"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// MaxThreadDepth bounds how many ancestors of a reply are read to find
// the people earlier in its thread.
const MaxThreadDepth = 8

func commentEntry(c *objects.Comment, owner int64) timeline.Entry {
	return timeline.Entry{TS: c.TS, ID: c.ID, Kind: timeline.KindComment, Actor: c.Author,
		Object: c.Object, Owner: owner}
}

// commentedObject reads the object a comment event names, refusing the
// event when this pipeline keeps no comments.
func (e *Engine) commentedObject(ctx context.Context, ev *schema.Event) (objects.Object, error) {
	if e.cfg.Comments == nil {
		return objects.Object{}, reject("comments are not enabled in this pipeline")
	}
	objs, err := e.objects.Get(ctx, []string{ev.Object})
	if err != nil {
		return objects.Object{}, fmt.Errorf("read object: %w", err)
	}
	return objs[0], nil
}

// comment stores a comment on an object the commenter may see and shows
// it to the commenter's friends, aggregated per object.
func (e *Engine) comment(ctx context.Context, b *batch, ev *schema.Event) error {
	obj, err := e.commentedObject(ctx, ev)
	if err != nil {
		return err
	}
	if obj.Deleted {
		return nil // the object is gone: the comment shows nowhere
	}
	if !obj.Exists() {
		// Unlike a Class!, a comment is content that must be checked
		// against the object's audience: one on an object not stored (yet)
		// is refused, and can be replayed once the object is there.
		return rejectAs(ErrNotVisibleRefusal, NotVisiblePrefix+"object %q is unknown (never published, or not applied yet)", ev.Object)
	}
	if err := e.checkMarkVisible(ctx, ev, &obj); err != nil {
		return err
	}
	var thread []int64
	if ev.ReplyTo != "" {
		if thread, err = e.replyTo(ctx, ev); err != nil {
			return err
		}
	}
	stored, err := e.cfg.Comments.PutComment(ctx, objects.Comment{Object: ev.Object, ID: ev.ID, Author: ev.Actor,
		ReplyTo: ev.ReplyTo, Text: ev.Text, TS: ev.TS})
	if err != nil {
		return fmt.Errorf("store comment: %w", err)
	}
	if stored.Deleted {
		return nil // deleted before this (late or repeated) copy arrived
	}
	if stored.Author != ev.Actor || stored.TS != ev.TS {
		return reject("comment %q on object %q exists with another author or time", ev.ID, ev.Object)
	}
	b.eff.Object, b.eff.Comment, b.eff.Thread, b.eff.applied = obj, stored, thread, true
	if ev.TS < e.cfg.Now().Add(-e.cfg.Policy.MaxAge).UnixMilli() {
		return nil // kept in the thread, too old for any timeline
	}
	friends, err := e.graph.Friends(ctx, ev.Actor)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	e.deliver(b, ev.ID, friends, ev.Actor, commentEntry(&stored, obj.Author))
	return nil
}

// replyTo checks a reply's reply_to (a comment on the same object, known,
// not across a block) and returns the authors of its chain.
func (e *Engine) replyTo(ctx context.Context, ev *schema.Event) ([]int64, error) {
	cs, err := e.cfg.Comments.GetComments(ctx, ev.Object, []string{ev.ReplyTo})
	if err != nil {
		return nil, fmt.Errorf("read comment: %w", err)
	}
	if c := cs[0]; !c.Exists() && !c.Deleted {
		return nil, reject("reply_to: comment %q on object %q is unknown", ev.ReplyTo, ev.Object)
	}
	rel, err := e.graph.Relations(ctx, ev.Actor)
	if err != nil {
		return nil, fmt.Errorf("relations of %d: %w", ev.Actor, err)
	}
	if c := cs[0]; c.Exists() && rel.IsBlocked(c.Author) {
		return nil, rejectAs(ErrBlocked, "reply_to: a block stands between user %d and the author of comment %q", ev.Actor, ev.ReplyTo)
	}
	return e.chain(ctx, ev.Object, ev.ReplyTo, ev.Actor, &rel)
}

// chain lists the authors of the comment id and of its reply-to
// ancestors (at most MaxThreadDepth comments), nearest first, each once:
// not the replier, not deleted comments' authors, and, given the
// replier's relations, nobody across a block.
func (e *Engine) chain(ctx context.Context, object, id string, replier int64, rel *graph.Relations) ([]int64, error) {
	var users []int64
	for depth := 0; id != "" && depth < MaxThreadDepth; depth++ {
		cs, err := e.cfg.Comments.GetComments(ctx, object, []string{id})
		if err != nil {
			return nil, fmt.Errorf("read comment: %w", err)
		}
		c := cs[0]
		if !c.Exists() {
			break
		}
		if !c.Deleted && c.Author != replier && !(rel != nil && rel.IsBlocked(c.Author)) && !slices.Contains(users, c.Author) {
			users = append(users, c.Author)
		}
		id = c.ReplyTo
	}
	return users, nil
}

// commentDelete deletes a comment (by its author or the object's owner)
// and removes its rows from the author's friends' timelines.
func (e *Engine) commentDelete(ctx context.Context, b *batch, ev *schema.Event) error {
	obj, err := e.commentedObject(ctx, ev)
	if err != nil {
		return err
	}
	cs, err := e.cfg.Comments.GetComments(ctx, ev.Object, []string{ev.CommentID})
	if err != nil {
		return fmt.Errorf("read comment: %w", err)
	}
	cur := cs[0]
	owner := obj.Author != 0 && obj.Author == ev.Actor
	switch {
	case cur.Exists() && cur.Author != ev.Actor && !owner:
		return rejectAs(ErrNotOwner, "user %d may not delete comment %q of user %d on object %q of user %d",
			ev.Actor, ev.CommentID, cur.Author, ev.Object, obj.Author)
	case !cur.Exists() && !cur.Deleted && !owner:
		// Per-actor order puts a comment before its author's delete; only
		// the object's owner can meet a comment not arrived yet.
		return rejectAs(ErrNotOwner, "comment %q on object %q is unknown, and user %d does not own the object",
			ev.CommentID, ev.Object, ev.Actor)
	}
	stored, err := e.cfg.Comments.DeleteComment(ctx, ev.Object, ev.CommentID, ev.Stamp())
	if err != nil {
		return fmt.Errorf("delete comment: %w", err)
	}
	if stored.DeletedAt != ev.Stamp() {
		return nil // a later delete stands
	}
	b.eff.Object, b.eff.Comment, b.eff.applied = obj, stored, true
	if !stored.Exists() {
		return nil // a tombstone: the comment, if it ever comes, stays hidden
	}
	if stored.ReplyTo != "" {
		// Whom the reply notified, for the hook to retract.
		if b.eff.Thread, err = e.chain(ctx, ev.Object, stored.ReplyTo, stored.Author, nil); err != nil {
			return err
		}
	}
	if err := e.flush(ctx, b); err != nil {
		return err
	}
	friends, err := e.graph.Friends(ctx, stored.Author)
	if err != nil {
		return fmt.Errorf("friends: %w", err)
	}
	entry := commentEntry(&stored, obj.Author)
	rows := make([]timeline.Row, 0, len(friends))
	for _, f := range friends {
		rows = append(rows, timeline.Row{NS: timeline.Home, User: f, Entry: entry})
	}
	if err := e.timelines.Delete(ctx, rows); err != nil {
		return fmt.Errorf("delete comment rows: %w", err)
	}
	return nil
}
