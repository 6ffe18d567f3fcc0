package pebblestore

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/store/storetest"
)

// mapCache is an ObjectCache that forgets an entry on every forgetEvery-th
// Get, so fills race with writes as they do under eviction.
type mapCache struct {
	mu          sync.Mutex
	m           map[string]objects.Object
	gets        int
	forgetEvery int
}

func newMapCache(forgetEvery int) *mapCache {
	return &mapCache{m: map[string]objects.Object{}, forgetEvery: forgetEvery}
}

func (c *mapCache) Get(id string) (objects.Object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if c.forgetEvery > 0 && c.gets%c.forgetEvery == 0 {
		delete(c.m, id)
		return objects.Object{}, false
	}
	o, ok := c.m[id]
	return o, ok
}

func (c *mapCache) Set(o objects.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[o.ID] = o
}

func newCachedStore(t testing.TB, c ObjectCache) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Logf: t.Logf, ObjectCache: c, LockStripes: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// The behavioural suite of every object store, with the cache on.
func TestObjectsSuiteWithCache(t *testing.T) {
	storetest.RunObjects(t, func(t *testing.T) objects.Store { return newCachedStore(t, newMapCache(3)).Objects() })
}

// Readers filling the cache while writers create, delete and end the same
// objects: afterwards the cache answers exactly what Pebble holds. Without
// the stripe generations a fill that read before a write and set after it
// leaves the older object in the cache (and this test fails).
func TestObjectCacheStaysExactUnderRacingWrites(t *testing.T) {
	cache := newMapCache(5)
	s := newCachedStore(t, cache)
	os := s.Objects()
	ctx := context.Background()
	const n = 64
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("o%02d", i)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reads atomic.Int64 // Gets the readers have finished
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := os.Get(ctx, ids); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}
	stopReaders := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopReaders() // also when the test fails early
	// Each round waits for two reads begun after it started, so the
	// readers run between the writes whatever the scheduler does (a
	// writer alone could finish before a reader got a turn).
	waitReads := func() {
		want := reads.Load() + 2
		for deadline := time.Now().Add(10 * time.Second); reads.Load() < want; runtime.Gosched() {
			if time.Now().After(deadline) {
				t.Fatal("the readers made no progress in 10s")
			}
		}
	}
	for round := range 20 {
		waitReads()
		for i, id := range ids {
			at := schema.Stamp{TS: 1_700_000_000_000 + int64(round*n+i), ID: fmt.Sprintf("e%d-%d", round, i)}
			var err error
			switch round % 3 {
			case 0:
				_, err = os.Put(ctx, objects.Object{ID: id, Type: schema.Live, Author: 7, Audience: "public",
					TS: at.TS, EventID: at.ID})
			case 1:
				_, err = os.End(ctx, id, 7, at)
			case 2:
				_, err = os.Delete(ctx, id, 7, at)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	stopReaders()
	stored, err := os.getStored(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		cached, ok := cache.m[id]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(cached, ownStrings(stored[i])) {
			t.Errorf("%s: cache holds %+v, the store %+v", id, cached, stored[i])
		}
	}
	if st := s.ObjectCacheStats(); st.Hits == 0 || st.Misses == 0 {
		t.Errorf("stats %+v: want hits and misses both", st)
	}
}

// A cached object holds its own strings, not the page buffer it was read
// from, and what a write sets is what the next Get returns.
func TestObjectCacheWritesThrough(t *testing.T) {
	cache := newMapCache(0)
	s := newCachedStore(t, cache)
	os := s.Objects()
	ctx := context.Background()
	obj := objects.Object{ID: "p1", Type: schema.Photo, Author: 3, Audience: "friends", Media: []string{"m1"},
		TS: 1_700_000_000_000, EventID: "p1"}
	if _, err := os.Put(ctx, obj); err != nil {
		t.Fatal(err)
	}
	if got, ok := cache.m["p1"]; !ok || !reflect.DeepEqual(got, obj) {
		t.Fatalf("after Put the cache holds %+v, %v", got, ok)
	}
	del := schema.Stamp{TS: 1_700_000_000_001, ID: "d1"}
	if _, err := os.Delete(ctx, "p1", 3, del); err != nil {
		t.Fatal(err)
	}
	got, err := os.Get(ctx, []string{"p1", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Deleted || got[0].Changed != del || got[1].ID != "nope" || got[1].Exists() {
		t.Fatalf("Get after Delete: %+v", got)
	}
	if _, ok := cache.m["nope"]; ok {
		t.Error("an unknown id was cached")
	}
}
