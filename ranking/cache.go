package ranking

import (
	"sync/atomic"
	"time"
)

// Order is one viewer's ranked order as a first page built it: the whole
// candidate window in ranked order, encoded as a snapshot (entries and
// their explain factors). It never changes once made; a cache shares it
// between reads.
type Order struct {
	// Version is the timeline.Reader.Version the order was built from:
	// while the viewer's version is the same, the candidates are the
	// same entries, and the order is reused.
	Version uint64
	// Built is when it was ranked (unix ms): the instant its freshness,
	// engagement and affinity factors are of.
	Built int64
	// Snapshot is the id of the stored copy that cursors name; 0 while no
	// cursor into it has been handed out (nothing was stored).
	Snapshot uint64
	// Expires is when the stored copy expires (unix ms; 0 if none): a
	// cursor into it is then expired, whether or not a cache still holds
	// the order.
	Expires int64
	// Data is the encoded order (appendSnapshot of every ranked entry).
	Data []byte
}

// orderOverhead is what an Order costs in memory besides Data: the struct
// and a cache entry's bookkeeping.
const orderOverhead = 128

// Bytes is the memory the order holds, for a cache's byte bound.
func (o *Order) Bytes() int { return len(o.Data) + orderOverhead }

// OrderCache keeps viewers' ranked orders in this process, so that a
// viewer's next first page (while nothing the feed is made of changed) and
// next pages skip the ranking and the snapshot read. Implementations must
// be safe for concurrent use, bound their memory by Order.Bytes, may
// forget an order at any time, and need not keep one longer than
// Config.SnapshotTTL.
type OrderCache interface {
	Get(viewer int64) (*Order, bool)
	Set(viewer int64, o *Order)
}

// DefaultOrderMaxAge is feedd's --ranked-cache-max-age.
const DefaultOrderMaxAge = time.Minute

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// WithOrderCache makes first pages reuse a viewer's ranked order while
// the viewer's timeline version is unchanged and the order is younger
// than maxAge, and next pages read their order from the cache when it
// holds it. maxAge bounds how old the soft signals of a reused order are
// (freshness, engagement, affinity: they change without a timeline
// write); what a viewer may see never comes from the cache (every page
// re-checks its items, see timeline.Reader.Hydrate).
func WithOrderCache(c OrderCache, maxAge time.Duration) ReaderOption {
	return func(r *Reader) {
		r.cache, r.cacheMaxAge = c, maxAge.Milliseconds()
	}
}

// CacheStats counts how ranked reads used the order cache.
type CacheStats struct {
	FirstHits   uint64 // first pages served from a cached order
	FirstMisses uint64 // first pages that ranked (no order, another version, or too old)
	NextHits    uint64 // next pages whose order came from the cache
	NextMisses  uint64 // next pages that read their order from the store
	Stored      uint64 // orders written to the snapshot store
}

// cacheCounters are a Reader's CacheStats, updated atomically.
type cacheCounters struct {
	firstHits, firstMisses, nextHits, nextMisses, stored atomic.Uint64
}

// CacheStats reports the reader's cache counters since it was made.
func (r *Reader) CacheStats() CacheStats {
	c := &r.counters
	return CacheStats{FirstHits: c.firstHits.Load(), FirstMisses: c.firstMisses.Load(),
		NextHits: c.nextHits.Load(), NextMisses: c.nextMisses.Load(), Stored: c.stored.Load()}
}
