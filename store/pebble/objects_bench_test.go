package pebblestore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// objectsOnLevels writes n objects in batches, flushing as it goes, so
// their keys lie in several sstables on several levels as in a store that
// has taken a fan-out run (the shape the read path's hydration meets).
func objectsOnLevels(b *testing.B, n int) (*Store, []string) {
	b.Helper()
	s := newStore(b)
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "01J9ZK3V8Q" + strconv.Itoa(10_000_000+i*7919%n)
		obj := objects.Object{ID: ids[i], Type: schema.Post, Author: int64(1 + i%10_000),
			Audience: "public", Text: "a post of some sixty bytes, the median of the bench's texts",
			TS: 1_700_000_000_000 + int64(i), EventID: ids[i]}
		if _, err := s.Objects().Put(ctx, obj); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 { // one object in ten has a Class count
			m := objects.Mark{Object: ids[i], Actor: 7, Owner: obj.Author, On: true,
				Stamp: schema.Stamp{TS: obj.TS, ID: "c" + ids[i]}}
			if _, err := s.Objects().SetMark(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
		if i%(n/8) == n/8-1 {
			if err := s.db.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s, ids
}

// benchPages reads a page of 20 objects at random from 200,000 spread
// over the store's levels per iteration, with read.
func benchPages(b *testing.B, read func(ctx context.Context, s *Store, page []string) error) {
	s, ids := objectsOnLevels(b, 200_000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	page := make([]string, 20)
	b.ReportAllocs()
	for b.Loop() {
		for i := range page {
			page[i] = ids[rng.IntN(len(ids))]
		}
		if err := read(ctx, s, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObjectsGet20 is the hydration of one page's objects.
func BenchmarkObjectsGet20(b *testing.B) {
	benchPages(b, func(ctx context.Context, s *Store, page []string) error {
		got, err := s.Objects().Get(ctx, page)
		if err == nil && !got[19].Exists() {
			err = fmt.Errorf("object %s not found", page[19])
		}
		return err
	})
}

// BenchmarkClassCounts20 is the Class counts of one page, most of them
// absent (nine objects in ten nobody marked), as on a real feed.
func BenchmarkClassCounts20(b *testing.B) {
	benchPages(b, func(ctx context.Context, s *Store, page []string) error {
		_, err := s.Objects().ClassCounts(ctx, page)
		return err
	})
}
