package pebblestore

// Batched point reads: the read path's way of reading a page's keys.

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// multiGet reads many point keys through one iterator, seeking them in key
// order: far cheaper than one DB.Get (one iterator) per key on the read
// path. A key below where the last seek landed is absent and costs no
// seek. fn gets the index of each key that exists and its value, which is
// valid only during the call.
func (s *Store) multiGet(ctx context.Context, keys [][]byte, fn func(i int, v []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	last := keys[order[len(order)-1]]
	upper := append(append(make([]byte, 0, len(last)+1), last...), 0)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: keys[order[0]], UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: get: %w", err)
	}
	// at is the key the iterator stands on: keys below it are absent
	// without a seek, so a sparse lookup (most users have no profile, most
	// objects no marker) costs a seek per key found, not per key asked.
	var at []byte
	for _, i := range order {
		k := keys[i]
		if at == nil || bytes.Compare(at, k) < 0 {
			if !it.SeekGE(k) {
				break // nothing at or after k: the rest are absent
			}
			at = it.Key()
		}
		if !bytes.Equal(at, k) {
			continue
		}
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(i, v)
		}
		if err != nil {
			_ = it.Close()
			return err
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pebblestore: get: %w", err)
	}
	return nil
}

// keys builds n keys (mk appends key i to b) in *buf and returns them as
// slices of it: one buffer for all of a batch's keys.
func (s *Store) keys(buf *[]byte, n int, mk func(b []byte, i int) []byte) [][]byte {
	b := (*buf)[:0]
	ends := make([]int, n)
	for i := range n {
		b = mk(b, i)
		ends[i] = len(b)
	}
	*buf = b
	out := make([][]byte, n)
	start := 0
	for i, end := range ends {
		out[i] = b[start:end:end]
		start = end
	}
	return out
}

// multiGetArena reads n keys (mk appends key i to b) with multiGet,
// gathering their values in one buffer from which it makes one string,
// then calls decode for each key that exists with its value and the same
// bytes as a string: a decoder cuts its strings from that string, so a
// batch costs a few allocations, not several per value. Both are valid
// only during the call, except the strings cut from s, which stay valid.
func (s *Store) multiGetArena(ctx context.Context, n int, mk func(b []byte, i int) []byte,
	decode func(i int, v []byte, str string) error) error {
	if n == 0 {
		return nil
	}
	kb, arena := s.getBuf(), s.getBuf()
	defer s.putBuf(kb)
	defer s.putBuf(arena)
	// spans[i] is where value i lies in the arena (end 0: absent).
	var spansBuf [64][2]int
	spans := spansBuf[:0]
	if n > len(spansBuf) {
		spans = make([][2]int, 0, n)
	}
	spans = spans[:n]
	keys := s.keys(kb, n, mk)
	ab := (*arena)[:0]
	err := s.multiGet(ctx, keys, func(i int, v []byte) error {
		start := len(ab)
		ab = append(ab, v...)
		spans[i] = [2]int{start, len(ab)}
		return nil
	})
	*arena = ab
	if err != nil {
		return err
	}
	str := string(ab)
	for i, sp := range spans {
		if sp[1] == 0 {
			continue
		}
		if err := decode(i, ab[sp[0]:sp[1]], str[sp[0]:sp[1]]); err != nil {
			return err
		}
	}
	return nil
}

// counters reads one 8-byte counter per id (key makes its key) with one
// multiGet; an absent counter is 0.
func (s *Store) counters(ctx context.Context, ids []string, key func(b []byte, id string) []byte) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]int64, len(ids))
	kb := s.getBuf()
	defer s.putBuf(kb)
	keys := s.keys(kb, len(ids), func(b []byte, i int) []byte { return key(b, ids[i]) })
	err := s.multiGet(ctx, keys, func(i int, v []byte) error {
		n, err := decodeCounter(v)
		out[i] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
