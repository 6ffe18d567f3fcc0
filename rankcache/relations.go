package rankcache

import (
	"fmt"
	"math"

	"github.com/maypok86/otter/v2"

	"github.com/lenta-dev/lenta/timeline"
)

// DefaultRelationsBytes is feedd's bound (--relations-cache-bytes): about
// 100,000 viewers of 60 relations each.
const DefaultRelationsBytes = 64 << 20

// Relations is a byte-bounded in-memory timeline.RelationsCache. It is
// safe for concurrent use. Entries never expire by time: the reader
// checks each one against the graph's RelationsVersion before using it.
// Close stops its goroutines.
type Relations struct {
	c *otter.Cache[int64, *timeline.CachedRelations]
}

var _ timeline.RelationsCache = (*Relations)(nil)

// NewRelations makes a cache holding at most maxBytes of relations
// (CachedRelations.Bytes).
func NewRelations(maxBytes int64) (*Relations, error) {
	if maxBytes < MinBytes {
		return nil, fmt.Errorf("rankcache: a relations bound of %d bytes is below the minimum %d", maxBytes, MinBytes)
	}
	c, err := otter.New(&otter.Options[int64, *timeline.CachedRelations]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(_ int64, r *timeline.CachedRelations) uint32 {
			return uint32(min(r.Bytes(), math.MaxUint32))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rankcache: %w", err)
	}
	return &Relations{c: c}, nil
}

// Get implements timeline.RelationsCache.
func (c *Relations) Get(viewer int64) (*timeline.CachedRelations, bool) {
	return c.c.GetIfPresent(viewer)
}

// Set implements timeline.RelationsCache.
func (c *Relations) Set(viewer int64, r *timeline.CachedRelations) { c.c.Set(viewer, r) }

// Bytes is the weight held now (CachedRelations.Bytes summed).
func (c *Relations) Bytes() uint64 { return c.c.WeightedSize() }

// Len is how many viewers are held now (an estimate while writes are in
// flight).
func (c *Relations) Len() int { return c.c.EstimatedSize() }

// Close stops the cache's goroutines; the cache must not be used
// afterwards.
func (c *Relations) Close() { c.c.StopAllGoroutines() }
