package pebblestore

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// ObjectCache holds decoded objects in process memory for ObjectStore.Get,
// so a feed page's hydration reads most of its items without a seek
// through the store's levels (a third of feedd's CPU under the read
// bench). Implementations are safe for concurrent use and may drop any
// entry at any time; the store never relies on an entry being there.
type ObjectCache interface {
	Get(id string) (objects.Object, bool)
	Set(obj objects.Object)
}

// ObjectCacheStats counts the objects Get found in the cache (Hits) and
// those it read from Pebble (Misses) since Open.
type ObjectCacheStats struct{ Hits, Misses uint64 }

// objectCaching keeps an ObjectCache exact. The invariant: an entry is
// the object as stored now. This holds because
//   - every write of an object record (Put, change) runs under the
//     object's lock stripe and, after the write, sets the entry and bumps
//     the stripe's generation, still under the stripe;
//   - a Get that missed fills the entry only under the stripe, and only
//     if the stripe's generation is the one it loaded before its read
//     began: had a write landed in between, it skips the fill (the writer
//     has set the newer value).
//
// It is exact only because this process is the store's only writer (one
// Pebble DB, one process); a store shared by processes could not keep it.
// Anything added later that writes or deletes object records must do as
// Put and change do.
type objectCaching struct {
	c    ObjectCache
	gens []atomic.Uint64 // one per lock stripe (Store.locks)
	hits atomic.Uint64
	miss atomic.Uint64
}

func newObjectCaching(c ObjectCache, stripes int) *objectCaching {
	if c == nil {
		return nil
	}
	return &objectCaching{c: c, gens: make([]atomic.Uint64, stripes)}
}

// stripeOf is the lock stripe of object id.
func (o *ObjectStore) stripeOf(id string) int {
	buf := o.s.getBuf()
	*buf = objectKey((*buf)[:0], id)
	i := o.s.locks.of(*buf)
	o.s.putBuf(buf)
	return i
}

// wrote records, under the object's stripe, that obj is now the stored
// record: the cache holds it and fills begun before it are dropped.
func (o *ObjectStore) wrote(obj *objects.Object) {
	c := o.s.objCache
	if c == nil {
		return
	}
	c.c.Set(ownStrings(*obj))
	c.gens[o.stripeOf(obj.ID)].Add(1)
}

// getCached is Get through the cache: hits from memory, misses in one
// store read, which then fills the cache where no write intervened.
func (o *ObjectStore) getCached(ctx context.Context, ids []string) ([]objects.Object, error) {
	c := o.s.objCache
	out := make([]objects.Object, len(ids))
	var missIdx []int
	var missIDs []string
	for i, id := range ids {
		if obj, ok := c.c.Get(id); ok {
			out[i] = obj
			continue
		}
		missIdx = append(missIdx, i)
		missIDs = append(missIDs, id)
	}
	c.hits.Add(uint64(len(ids) - len(missIDs)))
	c.miss.Add(uint64(len(missIDs)))
	if len(missIDs) == 0 {
		return out, nil
	}
	// The generations are loaded before the read begins (see objectCaching).
	stripe := make([]int, len(missIDs))
	gen := make([]uint64, len(missIDs))
	for j, id := range missIDs {
		stripe[j] = o.stripeOf(id)
		gen[j] = c.gens[stripe[j]].Load()
	}
	got, err := o.getStored(ctx, missIDs)
	if err != nil {
		return nil, err
	}
	for j, i := range missIdx {
		out[i] = got[j]
		if !got[j].Exists() && !got[j].Deleted && !got[j].Ended {
			continue // unknown: nothing to keep
		}
		mu := &o.s.locks[stripe[j]]
		mu.Lock()
		if c.gens[stripe[j]].Load() == gen[j] {
			c.c.Set(ownStrings(got[j]))
		}
		mu.Unlock()
	}
	return out, nil
}

// ownStrings copies obj's strings out of whatever buffer they were cut
// from (getStored cuts a page's objects from one string), so a cached
// entry holds its own bytes and not its page's.
func ownStrings(obj objects.Object) objects.Object {
	obj.ID = strings.Clone(obj.ID)
	obj.Type = schema.Type(strings.Clone(string(obj.Type)))
	obj.Audience = strings.Clone(obj.Audience)
	obj.Text = strings.Clone(obj.Text)
	obj.EventID = strings.Clone(obj.EventID)
	obj.Changed.ID = strings.Clone(obj.Changed.ID)
	if obj.Media != nil {
		m := make([]string, len(obj.Media))
		for i, s := range obj.Media {
			m[i] = strings.Clone(s)
		}
		obj.Media = m
	}
	return obj
}

// ObjectCacheStats reports the object cache's hits and misses (zero
// without a cache).
func (s *Store) ObjectCacheStats() ObjectCacheStats {
	if s.objCache == nil {
		return ObjectCacheStats{}
	}
	return ObjectCacheStats{Hits: s.objCache.hits.Load(), Misses: s.objCache.miss.Load()}
}
