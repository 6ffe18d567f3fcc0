package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/ranking"
)

// RankingStore is what a store offers the ranking.
type RankingStore interface {
	ranking.AffinityStore
	ranking.SnapshotStore
}

// RunRanking checks ranking.AffinityStore and ranking.SnapshotStore:
// interactions are idempotent per event id, bounded per pair, read per
// author; snapshots come back until they expire, only to their viewer.
func RunRanking(t *testing.T, newStore func(t *testing.T) RankingStore) {
	t.Helper()
	run(t, newStore, []subtest[RankingStore]{
		{"InteractionsIdempotent", rankIdempotent},
		{"InteractionsPerAuthor", rankPerAuthor},
		{"InteractionsSince", rankSince},
		{"InteractionsBoundedPerPair", rankBounded},
		{"InteractionsOfManyAuthors", rankManyAuthors},
		{"SnapshotRoundTrip", rankSnapshot},
		{"SnapshotExpires", rankSnapshotExpires},
	})
}

type seenInteraction struct {
	author int64
	ts     int64
	weight float64
}

func readInteractions(t *testing.T, s RankingStore, viewer int64, authors []int64, since int64) []seenInteraction {
	t.Helper()
	var out []seenInteraction
	must(t, s.Interactions(t.Context(), viewer, authors, since, func(i int, ts int64, w float64) {
		out = append(out, seenInteraction{authors[i], ts, w})
	}))
	slices.SortFunc(out, func(a, b seenInteraction) int {
		if a.author != b.author {
			return int(a.author - b.author)
		}
		return int(b.ts - a.ts)
	})
	return out
}

func interaction(viewer, author, ts int64, id string, w float64) ranking.Interaction {
	return ranking.Interaction{Viewer: viewer, Author: author, EventID: id, TS: ts, Weight: w,
		Until: time.Now().Add(time.Hour).UnixMilli()}
}

func rankIdempotent(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	x := interaction(1, 2, now-1000, "c1", 1)
	for range 3 {
		must(t, s.AddInteractions(t.Context(), []ranking.Interaction{x, x}))
	}
	got := readInteractions(t, s, 1, []int64{2}, 0)
	if want := []seenInteraction{{2, now - 1000, 1}}; !slices.Equal(got, want) {
		t.Errorf("after re-delivery: %v, want %v", got, want)
	}
}

func rankPerAuthor(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	must(t, s.AddInteractions(t.Context(), []ranking.Interaction{
		interaction(1, 2, now-3000, "a", 1),
		interaction(1, 2, now-2000, "b", 3),
		interaction(1, 5, now-1000, "c", 0.5),
		interaction(2, 1, now-1000, "d", 7),  // the other direction
		interaction(1, 9, now-1000, "e", -1), // not asked for
	}))
	got := readInteractions(t, s, 1, []int64{2, 3, 5}, 0)
	want := []seenInteraction{{2, now - 2000, 3}, {2, now - 3000, 1}, {5, now - 1000, 0.5}}
	if !slices.Equal(got, want) {
		t.Errorf("viewer 1: %v, want %v", got, want)
	}
	got = readInteractions(t, s, 2, []int64{1}, 0)
	if want := []seenInteraction{{1, now - 1000, 7}}; !slices.Equal(got, want) {
		t.Errorf("viewer 2: %v, want %v", got, want)
	}
	if got := readInteractions(t, s, 1, nil, 0); len(got) != 0 {
		t.Errorf("no authors: %v", got)
	}
}

func rankSince(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	must(t, s.AddInteractions(t.Context(), []ranking.Interaction{
		interaction(1, 2, now-10_000, "old", 1),
		interaction(1, 2, now-1000, "new", 2),
	}))
	got := readInteractions(t, s, 1, []int64{2}, now-5000)
	if want := []seenInteraction{{2, now - 1000, 2}}; !slices.Equal(got, want) {
		t.Errorf("since: %v, want %v", got, want)
	}
}

func rankBounded(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	var in []ranking.Interaction
	for i := range ranking.MaxPerPair + 10 {
		in = append(in, interaction(1, 2, now-int64(100_000-i*100), fmt.Sprintf("c%03d", i), 1))
	}
	must(t, s.AddInteractions(t.Context(), in))
	got := readInteractions(t, s, 1, []int64{2}, 0)
	if len(got) != ranking.MaxPerPair {
		t.Fatalf("read %d interactions of one pair, want %d", len(got), ranking.MaxPerPair)
	}
	if newest := now - int64(100_000-(ranking.MaxPerPair+9)*100); got[0].ts != newest {
		t.Errorf("newest read %d, want %d", got[0].ts, newest)
	}
	if oldest := now - int64(100_000-10*100); got[len(got)-1].ts != oldest {
		t.Errorf("oldest read %d, want %d (the newest are kept)", got[len(got)-1].ts, oldest)
	}
}

func rankSnapshot(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	data := bytes.Repeat([]byte("ranked\x00"), 3000)
	must(t, s.PutSnapshot(t.Context(), 1, 42, data, now+60_000))
	got, found, err := s.Snapshot(t.Context(), 1, 42, now, []byte("prefix"))
	must(t, err)
	if !found || !bytes.Equal(got, append([]byte("prefix"), data...)) {
		t.Fatalf("snapshot: found %v, %d bytes", found, len(got))
	}
	for _, k := range []struct {
		viewer int64
		id     uint64
	}{{2, 42}, {1, 43}} {
		if _, found, err := s.Snapshot(t.Context(), k.viewer, k.id, now, nil); err != nil || found {
			t.Errorf("snapshot %d/%d: found %v, %v", k.viewer, k.id, found, err)
		}
	}
	// Overwriting the same id replaces it.
	must(t, s.PutSnapshot(t.Context(), 1, 42, []byte("v2"), now+60_000))
	got, found, err = s.Snapshot(t.Context(), 1, 42, now, nil)
	if err != nil || !found || string(got) != "v2" {
		t.Errorf("overwritten snapshot: %q %v %v", got, found, err)
	}
}

func rankSnapshotExpires(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	must(t, s.PutSnapshot(t.Context(), 1, 7, []byte("x"), now+60_000))
	if _, found, err := s.Snapshot(t.Context(), 1, 7, now+60_000, nil); err != nil || found {
		t.Errorf("read at expiry: found %v, %v", found, err)
	}
	must(t, s.PutSnapshot(t.Context(), 1, 8, []byte("x"), now-1))
	if _, found, err := s.Snapshot(t.Context(), 1, 8, now, nil); err != nil || found {
		t.Errorf("already expired: found %v, %v", found, err)
	}
}

// rankManyAuthors: a read of many authors, most without rows, between runs
// of rows of authors not asked for (long and short), with rows older than
// since, negative ids, returns exactly each asked author's rows.
func rankManyAuthors(t *testing.T, s RankingStore) {
	now := time.Now().UnixMilli()
	since := now - 50_000
	rng := rand.New(rand.NewPCG(7, 7))
	var in []ranking.Interaction
	want := map[int64][]seenInteraction{}
	var asked []int64
	for a := int64(-40); a <= 200; a++ {
		rows := 0
		switch {
		case a%7 == 0:
			rows = 12 // a long run (more than a few steps)
		case a%3 == 0:
			rows = 1 + rng.IntN(3)
		}
		ask := a%2 == 0 || a%5 == 0
		if ask {
			asked = append(asked, a)
		}
		for r := range rows {
			ts := now - int64(rng.IntN(100_000)) - int64(r)
			x := interaction(1, a, ts, fmt.Sprintf("x%d_%d", a, r), float64(r+1))
			in = append(in, x)
			if ask && ts >= since {
				want[a] = append(want[a], seenInteraction{a, ts, x.Weight})
			}
		}
	}
	in = append(in, interaction(2, 4, now, "other viewer", 9))
	must(t, s.AddInteractions(t.Context(), in))
	var all []seenInteraction
	for _, a := range asked {
		all = append(all, want[a]...)
	}
	slices.SortFunc(all, func(a, b seenInteraction) int {
		if a.author != b.author {
			return int(a.author - b.author)
		}
		return int(b.ts - a.ts)
	})
	got := readInteractions(t, s, 1, asked, since)
	if !slices.Equal(got, all) {
		t.Fatalf("read %d interactions, want %d:\n got %v\nwant %v", len(got), len(all), got, all)
	}
}
