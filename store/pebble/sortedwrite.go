package pebblestore

import (
	"bytes"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// sortedWrite gathers key/value pairs and adds them to a batch in
// ascending key order (stable: the same key twice keeps its order). Its
// memory is reused through Store.writes.
type sortedWrite struct {
	arena []byte
	ents  []sortedEnt
	users []int // homeLocks stripes of the users given Class rows
}

// sortedEnt is one pair: arena[k:v] is the key, arena[v:end] the value.
type sortedEnt struct{ k, v, end int }

func (w *sortedWrite) reset() {
	if cap(w.arena) > 16<<20 {
		w.arena = nil // do not pin a rare huge batch's memory in the pool
	}
	if cap(w.ents) > 1<<18 {
		w.ents = nil
	}
	if cap(w.users) > 1<<16 {
		w.users = nil
	}
	w.arena, w.ents, w.users = w.arena[:0], w.ents[:0], w.users[:0]
}

// added records the pair the caller appended to arena: its key from k,
// its value from v to the end.
func (w *sortedWrite) added(k, v int) {
	w.ents = append(w.ents, sortedEnt{k: k, v: v, end: len(w.arena)})
}

func (w *sortedWrite) key(e *sortedEnt) []byte { return w.arena[e.k:e.v:e.v] }

// fill sets every pair in b, in ascending key order.
func (w *sortedWrite) fill(b *pebble.Batch) error {
	if !slices.IsSortedFunc(w.ents, w.cmp) {
		slices.SortStableFunc(w.ents, w.cmp)
	}
	for i := range w.ents {
		e := &w.ents[i]
		if err := b.Set(w.arena[e.k:e.v], w.arena[e.v:e.end], nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *sortedWrite) cmp(a, b sortedEnt) int { return bytes.Compare(w.key(&a), w.key(&b)) }
