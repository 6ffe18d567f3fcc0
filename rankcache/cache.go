package rankcache

import (
	"fmt"
	"math"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/lenta-dev/lenta/ranking"
)

// MinBytes is the smallest bound New accepts: a few full windows.
const MinBytes = 1 << 20

// DefaultBytes is feedd's bound (--ranked-cache-bytes): about 15,000
// viewers' orders of a full 300-entry window (about 17 KB each).
const DefaultBytes = 256 << 20

// Cache is a byte-bounded in-memory ranking.OrderCache. It is safe for
// concurrent use. Close stops its expiry goroutine.
type Cache struct {
	c *otter.Cache[int64, *ranking.Order]
}

var _ ranking.OrderCache = (*Cache)(nil)

// New makes a cache holding at most maxBytes of orders (Order.Bytes), each
// for at most ttl after it was set (the snapshot TTL: a cursor into an
// older order is expired anyway).
func New(maxBytes int64, ttl time.Duration) (*Cache, error) {
	if maxBytes < MinBytes {
		return nil, fmt.Errorf("rankcache: a bound of %d bytes is below the minimum %d", maxBytes, MinBytes)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("rankcache: ttl %v must be positive", ttl)
	}
	c, err := otter.New(&otter.Options[int64, *ranking.Order]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(_ int64, o *ranking.Order) uint32 {
			return uint32(min(o.Bytes(), math.MaxUint32))
		},
		ExpiryCalculator: otter.ExpiryWriting[int64, *ranking.Order](ttl),
	})
	if err != nil {
		return nil, fmt.Errorf("rankcache: %w", err)
	}
	return &Cache{c: c}, nil
}

// Get implements ranking.OrderCache.
func (c *Cache) Get(viewer int64) (*ranking.Order, bool) { return c.c.GetIfPresent(viewer) }

// Set implements ranking.OrderCache.
func (c *Cache) Set(viewer int64, o *ranking.Order) { c.c.Set(viewer, o) }

// Bytes is the weight of the orders held now (Order.Bytes summed).
func (c *Cache) Bytes() uint64 { return c.c.WeightedSize() }

// Len is how many orders are held now (an estimate while writes are in
// flight).
func (c *Cache) Len() int { return c.c.EstimatedSize() }

// Close stops the cache's background expiry; the cache must not be used
// afterwards.
func (c *Cache) Close() { c.c.StopAllGoroutines() }
