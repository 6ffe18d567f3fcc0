package pebblestore

// Lock stripes: the mutexes that serialise read-modify-write of one logical
// key, and the readers-writer stripes that keep a Home timeline's bulk trim
// apart from the Class rows written to it.

import (
	"slices"
	"sync"
)

// stripes serialises read-modify-write of one logical key (an edge, a
// counter, an object, a class marker) without a global lock. A caller locks
// the set of stripes it needs at once, in ascending order, and never takes a
// second set while holding one, so stripes cannot deadlock.
type stripes []sync.Mutex

func newStripes(n int) stripes { return make(stripes, n) }

// of returns the stripe index of a key.
func (s stripes) of(key []byte) int { return int(hashKey(key) % uint64(len(s))) }

// lock sorts and de-duplicates idx, locks those stripes and returns the
// set to pass to unlock.
func (s stripes) lock(idx []int) []int {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s[i].Lock()
	}
	return idx
}

func (s stripes) unlock(idx []int) {
	for i := len(idx) - 1; i >= 0; i-- {
		s[idx[i]].Unlock()
	}
}

// rwStripes are stripes of readers-writer locks by user id; like stripes,
// a caller takes one set at once, in ascending order.
type rwStripes []sync.RWMutex

// ofUser returns the stripe index of a user id.
func (s rwStripes) ofUser(user int64) int {
	// Fibonacci hashing spreads consecutive ids over the stripes.
	return int((uint64(user) * 11400714819323198485) % uint64(len(s)))
}

// rlock sorts and de-duplicates idx, read-locks those stripes and returns
// the set to pass to runlock.
func (s rwStripes) rlock(idx []int) []int {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s[i].RLock()
	}
	return idx
}

func (s rwStripes) runlock(idx []int) {
	for i := len(idx) - 1; i >= 0; i-- {
		s[idx[i]].RUnlock()
	}
}
