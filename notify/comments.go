package notify

// Comment notifications: the object's owner, grouped per object ("Anna and
// 3 others commented on your photo"), and the people earlier in a reply's
// thread, grouped per object ("Anna replied in your thread").

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// comment notifies the object's owner and the authors of the reply-to
// chain (fanout.Effect.Thread) other than the owner; single skips the
// commenter and anyone across a block from them.
func (h *Hook) comment(ctx context.Context, ev *schema.Event, eff *fanout.Effect) error {
	owner := eff.Object.Author
	if err := h.single(ctx, ev, Activity{User: owner, Kind: KindComment, Object: ev.Object,
		Group: GroupKey(KindComment, ev.Object, ev.TS)}); err != nil {
		return err
	}
	for _, u := range eff.Thread {
		if u == owner {
			continue // told by the comment notification already
		}
		if err := h.single(ctx, ev, Activity{User: u, Kind: KindReply, Object: ev.Object,
			Group: GroupKey(KindReply, ev.Object, ev.TS)}); err != nil {
			return err
		}
	}
	return nil
}

// CommentPager pages an object's standing comments; objects.Comments
// satisfies it.
type CommentPager interface {
	CommentPage(ctx context.Context, object string, after objects.CommentPos, newest bool, limit int) ([]objects.Comment, error)
}

// maxGroupScan bounds the comments uncomment reads of one group window.
const maxGroupScan = 1000

// uncomment retracts what a deleted comment notified: the author's part in
// the owner's comment group, unless another comment of theirs stands in
// the group's window (of the first maxGroupScan comments there), and in
// the reply groups of its chain.
func (h *Hook) uncomment(ctx context.Context, eff *fanout.Effect) error {
	c := &eff.Comment
	if !c.Exists() {
		return nil
	}
	if owner := eff.Object.Author; owner != 0 && owner != c.Author {
		still, err := h.stillComments(ctx, c)
		if err != nil {
			return err
		}
		if !still {
			if err := h.cfg.Inbox.Retract(ctx, owner, GroupKey(KindComment, c.Object, c.TS), c.Author); err != nil {
				return err
			}
		}
	}
	for _, u := range eff.Thread {
		if err := h.cfg.Inbox.Retract(ctx, u, GroupKey(KindReply, c.Object, c.TS), c.Author); err != nil {
			return err
		}
	}
	return nil
}

// stillComments reports whether c's author has another standing comment
// on c's object in the group window of c.
func (h *Hook) stillComments(ctx context.Context, c *objects.Comment) (bool, error) {
	if h.cfg.Comments == nil {
		return false, nil
	}
	span := GroupSpan.Milliseconds()
	lo := c.TS / span * span
	after := objects.CommentPos{TS: lo - 1, ID: "~"} // before every comment at lo: ids sort below "~"
	for read := 0; read < maxGroupScan; {
		page, err := h.cfg.Comments.CommentPage(ctx, c.Object, after, false, 100)
		if err != nil {
			return false, fmt.Errorf("notify: comments of %q: %w", c.Object, err)
		}
		for _, o := range page {
			if o.TS >= lo+span {
				return false, nil
			}
			if o.Author == c.Author && o.ID != c.ID && !o.Deleted {
				return true, nil
			}
		}
		if len(page) < 100 {
			return false, nil
		}
		read += len(page)
		last := page[len(page)-1]
		after = objects.CommentPos{TS: last.TS, ID: last.ID}
	}
	return false, nil
}
