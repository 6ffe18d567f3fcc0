package timeline

import (
	"context"
	"fmt"
)

// CountsCache holds objects' Class counts and reaction totals (Class! and
// every other kind: what ranking's engagement counts) for ranking
// candidates, each
// with when it was read. Implementations are safe for concurrent use and
// may drop any entry at any time.
//
// Only Candidates uses it: a ranked order already holds the engagement it
// was ranked with for up to the order cache's max age, so a count read a
// few seconds earlier changes no promise; a page that is shown hydrates
// its items' counts from the store.
type CountsCache interface {
	Get(object string) (CachedCount, bool)
	Set(object string, c CachedCount)
}

// CachedCount is one object's Class count and reaction total as read at
// Read (unix ms).
type CachedCount struct {
	Count int64
	Read  int64
	Total int64 // every kind's reactions, Class! included
}

// Bytes is about what an entry for object holds in memory: the weight of
// a byte bound.
func (CachedCount) Bytes(object string) int {
	const fixed = 72 // the values, the key's header, the cache's entry
	return fixed + len(object)
}

// CountsStats reports the Class counts of candidates that the counts
// cache answered (Hits) and those read from the store (Misses) so far
// (both 0 without a cache).
func (r *Reader) CountsStats() CacheStats { return r.countStats.stats() }

// candidateCounts is the Class counts and reaction totals of ids for
// Candidates: from the cache where an entry is younger than CountsMaxAge,
// the rest in one store read, which then fills the cache.
func (r *Reader) candidateCounts(ctx context.Context, ids []string, now int64) (class, totals []int64, err error) {
	c := r.cfg.Counts
	class, totals = make([]int64, len(ids)), make([]int64, len(ids))
	if c == nil {
		return class, totals, r.readCounts(ctx, ids, class, totals)
	}
	maxAge := r.cfg.CountsMaxAge.Milliseconds()
	var missIdx []int
	var missIDs []string
	for i, id := range ids {
		if got, ok := c.Get(id); ok && now >= got.Read && now-got.Read < maxAge {
			class[i], totals[i] = got.Count, got.Total
			continue
		}
		missIdx = append(missIdx, i)
		missIDs = append(missIDs, id)
	}
	r.countStats.hits.Add(uint64(len(ids) - len(missIDs)))
	r.countStats.misses.Add(uint64(len(missIDs)))
	if len(missIDs) == 0 {
		return class, totals, nil
	}
	mc, mt := make([]int64, len(missIDs)), make([]int64, len(missIDs))
	if err := r.readCounts(ctx, missIDs, mc, mt); err != nil {
		return nil, nil, err
	}
	for j, i := range missIdx {
		class[i], totals[i] = mc[j], mt[j]
		c.Set(missIDs[j], CachedCount{Count: mc[j], Total: mt[j], Read: now})
	}
	return class, totals, nil
}

// readCounts reads the Class counts and reaction totals of ids.
func (r *Reader) readCounts(ctx context.Context, ids []string, class, totals []int64) error {
	cs, err := r.content.ReactionCounts(ctx, ids)
	if err != nil {
		return err
	}
	if len(cs) != len(ids) {
		return fmt.Errorf("%d reaction counts for %d objects", len(cs), len(ids))
	}
	for i := range cs {
		class[i], totals[i] = cs[i].Class, cs[i].Total()
	}
	return nil
}
