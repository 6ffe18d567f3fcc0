package timeline

import (
	"context"
)

// CountsCache holds objects' Class counts for ranking candidates, each
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

// CachedCount is one object's Class count as read at Read (unix ms).
type CachedCount struct {
	Count int64
	Read  int64
}

// Bytes is about what an entry for object holds in memory: the weight of
// a byte bound.
func (CachedCount) Bytes(object string) int {
	const fixed = 64 // the value, the key's header, the cache's entry
	return fixed + len(object)
}

// CountsStats reports the Class counts of candidates that the counts
// cache answered (Hits) and those read from the store (Misses) so far
// (both 0 without a cache).
func (r *Reader) CountsStats() CacheStats { return r.countStats.stats() }

// candidateCounts is the Class counts of ids for Candidates: from the
// cache where an entry is younger than CountsMaxAge, the rest in one
// store read, which then fills the cache.
func (r *Reader) candidateCounts(ctx context.Context, ids []string, now int64) ([]int64, error) {
	c := r.cfg.Counts
	if c == nil {
		return r.content.ClassCounts(ctx, ids)
	}
	maxAge := r.cfg.CountsMaxAge.Milliseconds()
	out := make([]int64, len(ids))
	var missIdx []int
	var missIDs []string
	for i, id := range ids {
		if got, ok := c.Get(id); ok && now >= got.Read && now-got.Read < maxAge {
			out[i] = got.Count
			continue
		}
		missIdx = append(missIdx, i)
		missIDs = append(missIDs, id)
	}
	r.countStats.hits.Add(uint64(len(ids) - len(missIDs)))
	r.countStats.misses.Add(uint64(len(missIDs)))
	if len(missIDs) == 0 {
		return out, nil
	}
	counts, err := r.content.ClassCounts(ctx, missIDs)
	if err != nil {
		return nil, err
	}
	for j, i := range missIdx {
		out[i] = counts[j]
		c.Set(missIDs[j], CachedCount{Count: counts[j], Read: now})
	}
	return out, nil
}
