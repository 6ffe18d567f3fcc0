package pebblestore

import (
	"context"
	"strconv"
	"testing"

	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// fillReactions opens a store holding 2,000 objects with 30 reactions
// each from users 1000..1999 (mixed kinds), flushed to sstables, and
// gives 20 of those objects as a page; viewer 7 reacted to 2 of them.
func fillReactions(b *testing.B) (*Store, []string) {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	kinds := []string{"", "love", "lol", "wow", "sad"}
	o := s.Objects()
	for i := range 2000 {
		id := "obj" + strconv.Itoa(i)
		for j := range 30 {
			actor := int64(1000 + (i*7+j)%1000)
			if _, err := o.SetReaction(ctx, objects.Mark{Object: id, Actor: actor, Owner: 1, On: true,
				Kind: kinds[j%len(kinds)], Stamp: schema.Stamp{TS: 1, ID: strconv.Itoa(j)}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	page := make([]string, 20)
	for i := range page {
		page[i] = "obj" + strconv.Itoa(i*97)
	}
	for _, id := range page[:2] {
		if _, err := o.SetReaction(ctx, objects.Mark{Object: id, Actor: 7, Owner: 1, On: true, Kind: "love",
			Stamp: schema.Stamp{TS: 2, ID: "mine"}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	return s, page
}

// BenchmarkMyReactions20 is a feed page's "did I react?" read: 20 point
// lookups of the viewer's mark keys, 18 of them misses answered by the
// bloom filters.
func BenchmarkMyReactions20(b *testing.B) {
	s, page := fillReactions(b)
	ctx := context.Background()
	o := s.Objects()
	got, err := o.MyReactions(ctx, 7, page)
	if err != nil || got[0] != "love" || got[1] != "love" || got[2] != "" {
		b.Fatalf("MyReactions = %q, %v", got, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.MyReactions(ctx, 7, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMyReactions20None is the usual case: a viewer who reacted to
// none of the page.
func BenchmarkMyReactions20None(b *testing.B) {
	s, page := fillReactions(b)
	ctx := context.Background()
	o := s.Objects()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.MyReactions(ctx, 99, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReactionCounts20 reads a page's counts per kind: one multiGet
// of the Class counts and the other kinds' counts.
func BenchmarkReactionCounts20(b *testing.B) {
	s, page := fillReactions(b)
	ctx := context.Background()
	o := s.Objects()
	got, err := o.ReactionCounts(ctx, page)
	if err != nil || got[0].Total() != 31 {
		b.Fatalf("ReactionCounts = %+v, %v", got[0], err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.ReactionCounts(ctx, page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassCountsReacted20 is ReactionCounts' predecessor on the same data
// (Class counts only), for comparison.
func BenchmarkClassCountsReacted20(b *testing.B) {
	s, page := fillReactions(b)
	ctx := context.Background()
	o := s.Objects()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.ClassCounts(ctx, page); err != nil {
			b.Fatal(err)
		}
	}
}
