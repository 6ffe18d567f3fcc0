package timeline

// Reactions on a page's items: counts per kind and the viewer's own kind,
// read once per hydrated batch.

import (
	"context"
	"fmt"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// ReactionCounts is an item's counts per kind (Class! first, then the
// other kinds in ascending order), those above zero: on the wire an array
// of {"kind", "count"}.
type ReactionCounts []objects.KindCount

// reactions reads the page's counts and the viewer's own reactions: two
// batched reads, whatever the page's size.
func (r *Reader) reactions(ctx context.Context, viewer int64, ids []string) ([]objects.Counts, []string, error) {
	counts, err := r.content.ReactionCounts(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	mine, err := r.content.MyReactions(ctx, viewer, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("my reactions: %w", err)
	}
	if len(counts) != len(ids) || len(mine) != len(ids) {
		return nil, nil, fmt.Errorf("%d counts and %d own reactions for %d objects", len(counts), len(mine), len(ids))
	}
	return counts, mine, nil
}

// setReactions fills the item's reaction fields from c and the viewer's
// kind, cutting its list from buf (grown for about n items at once, so a
// page costs a few allocations), and returns buf.
func (it *Item) setReactions(c *objects.Counts, mine string, buf ReactionCounts, n int) ReactionCounts {
	it.ClassCount = c.Class
	it.ReactionCount = c.Total()
	it.MyReaction = mine
	need := len(c.Other)
	if c.Class > 0 {
		need++
	}
	if need == 0 {
		return buf
	}
	if cap(buf)-len(buf) < need {
		buf = make(ReactionCounts, 0, max(need, 2*min(n, 64)))
	}
	start := len(buf)
	if c.Class > 0 {
		buf = append(buf, objects.KindCount{Kind: schema.ReactionClass, N: c.Class})
	}
	buf = append(buf, c.Other...)
	it.Reactions = buf[start:len(buf):len(buf)]
	return buf
}
