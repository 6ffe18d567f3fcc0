package rankcache

import (
	"fmt"

	"github.com/maypok86/otter/v2"

	"github.com/lenta-dev/lenta/objects"
)

// DefaultObjectsBytes is feedd's bound (--object-cache-bytes): about
// 200,000 objects of a few hundred bytes (the newest ones, which are what
// feeds show).
const DefaultObjectsBytes = 64 << 20

// Objects is a byte-bounded in-memory cache of decoded objects for the
// embedded store's object reads (pebblestore.ObjectCache). It is safe for
// concurrent use. It never decides what is current: the store sets every
// entry under its own write rules. Close stops its goroutines.
type Objects struct {
	c *otter.Cache[string, objects.Object]
}

// NewObjects makes a cache holding at most maxBytes of objects
// (ObjectBytes).
func NewObjects(maxBytes int64) (*Objects, error) {
	if maxBytes < MinBytes {
		return nil, fmt.Errorf("rankcache: an object bound of %d bytes is below the minimum %d", maxBytes, MinBytes)
	}
	c, err := otter.New(&otter.Options[string, objects.Object]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ string, o objects.Object) uint32 { return uint32(ObjectBytes(&o)) },
	})
	if err != nil {
		return nil, fmt.Errorf("rankcache: %w", err)
	}
	return &Objects{c: c}, nil
}

// ObjectBytes is about what an entry holds in memory: its strings and
// media list (keyed by its ID) and a fixed part for the struct and the
// cache's entry. Text is at most 8 KiB and media 10 of 1 KiB, so it fits
// a uint32 weight.
func ObjectBytes(o *objects.Object) int {
	const fixed = 224 // the Object struct, the key's header, the cache's entry
	n := fixed + 2*len(o.ID) + len(o.Type) + len(o.Audience) + len(o.Text) + len(o.EventID) + len(o.Changed.ID)
	for _, m := range o.Media {
		n += 16 + len(m)
	}
	return n
}

// Get returns the cached object with id.
func (c *Objects) Get(id string) (objects.Object, bool) { return c.c.GetIfPresent(id) }

// Set caches o under its ID.
func (c *Objects) Set(o objects.Object) { c.c.Set(o.ID, o) }

// Bytes is the weight held now (ObjectBytes summed).
func (c *Objects) Bytes() uint64 { return c.c.WeightedSize() }

// Len is how many objects are held now (an estimate while writes are in
// flight).
func (c *Objects) Len() int { return c.c.EstimatedSize() }

// Close stops the cache's goroutines; the cache must not be used
// afterwards.
func (c *Objects) Close() { c.c.StopAllGoroutines() }
