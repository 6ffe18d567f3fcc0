package rankcache

import (
	"fmt"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/lenta-dev/lenta/timeline"
)

// DefaultCountsBytes is feedd's bound (--class-count-cache-bytes): about
// 200,000 objects' counts.
const DefaultCountsBytes = 16 << 20

// Counts is a byte-bounded in-memory timeline.CountsCache. It is safe for
// concurrent use. An entry is dropped maxAge after it was set (the reader
// checks each one's age too). Close stops its goroutines.
type Counts struct {
	c *otter.Cache[string, timeline.CachedCount]
}

var _ timeline.CountsCache = (*Counts)(nil)

// NewCounts makes a cache holding at most maxBytes of counts
// (CachedCount.Bytes), each for at most maxAge.
func NewCounts(maxBytes int64, maxAge time.Duration) (*Counts, error) {
	if maxBytes < MinBytes {
		return nil, fmt.Errorf("rankcache: a class-count bound of %d bytes is below the minimum %d", maxBytes, MinBytes)
	}
	if maxAge <= 0 {
		return nil, fmt.Errorf("rankcache: class-count max age %v must be positive", maxAge)
	}
	c, err := otter.New(&otter.Options[string, timeline.CachedCount]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(id string, v timeline.CachedCount) uint32 {
			return uint32(v.Bytes(id))
		},
		ExpiryCalculator: otter.ExpiryWriting[string, timeline.CachedCount](maxAge),
	})
	if err != nil {
		return nil, fmt.Errorf("rankcache: %w", err)
	}
	return &Counts{c: c}, nil
}

// Get implements timeline.CountsCache.
func (c *Counts) Get(object string) (timeline.CachedCount, bool) { return c.c.GetIfPresent(object) }

// Set implements timeline.CountsCache.
func (c *Counts) Set(object string, v timeline.CachedCount) { c.c.Set(object, v) }

// Bytes is the weight held now (CachedCount.Bytes summed).
func (c *Counts) Bytes() uint64 { return c.c.WeightedSize() }

// Len is how many objects are held now (an estimate while writes are in
// flight).
func (c *Counts) Len() int { return c.c.EstimatedSize() }

// Close stops the cache's goroutines; the cache must not be used
// afterwards.
func (c *Counts) Close() { c.c.StopAllGoroutines() }
