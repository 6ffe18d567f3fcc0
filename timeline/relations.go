package timeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/lenta-dev/lenta/graph"
)

// RelationsCache holds viewers' relations with the version they were read
// at (graph.Store.RelationsVersion). Implementations are safe for
// concurrent use and may drop any entry at any time.
type RelationsCache interface {
	Get(viewer int64) (*CachedRelations, bool)
	Set(viewer int64, r *CachedRelations)
}

// CachedRelations is one viewer's relations as read at Version. It is
// shared by every read that hits it: nothing may modify it (or its slices)
// after Set.
type CachedRelations struct {
	Version   uint64
	Relations graph.Relations
}

// Bytes is about what c holds in memory: the weight of a byte bound.
func (c *CachedRelations) Bytes() int {
	const fixed = 128 // the struct, the slice headers, the cache's entry
	r := &c.Relations
	return fixed + 8*(cap(r.Friends)+cap(r.Following)+cap(r.Blocked))
}

// CacheStats counts the lookups one of the reader's caches answered (Hits)
// and those that read the store (Misses).
type CacheStats struct {
	Hits, Misses uint64
}

// cacheCounters are the live counts behind a CacheStats.
type cacheCounters struct {
	hits, misses atomic.Uint64
}

func (c *cacheCounters) stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
}

// RelationsStats reports the relations cache's hits and misses so far
// (both 0 without a cache).
func (r *Reader) RelationsStats() CacheStats { return r.relStats.stats() }

// relations is viewer's graph.Relations: from the cache when its version
// is the graph's current one, else read and cached.
//
// Read-time truth holds because the version is read before the relations:
// a change committed after the version read bumps the version (in the
// same atomic write as the edge), so whatever is cached under the version
// read here is at least as new as that version, and the next read after
// any later change misses.
func (r *Reader) relations(ctx context.Context, viewer int64) (graph.Relations, error) {
	c := r.cfg.Relations
	if c == nil {
		rel, err := r.graph.Relations(ctx, viewer)
		if err != nil {
			return graph.Relations{}, fmt.Errorf("relations of %d: %w", viewer, err)
		}
		return rel, nil
	}
	v, err := r.graph.RelationsVersion(ctx, viewer)
	if err != nil {
		return graph.Relations{}, fmt.Errorf("relations version of %d: %w", viewer, err)
	}
	if got, ok := c.Get(viewer); ok && got.Version == v {
		r.relStats.hits.Add(1)
		return got.Relations, nil
	}
	r.relStats.misses.Add(1)
	rel, err := r.graph.Relations(ctx, viewer)
	if err != nil {
		return graph.Relations{}, fmt.Errorf("relations of %d: %w", viewer, err)
	}
	c.Set(viewer, &CachedRelations{Version: v, Relations: rel})
	return rel, nil
}
