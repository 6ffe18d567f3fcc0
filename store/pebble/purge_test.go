package pebblestore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/notify"
)

// TestPurgerRemovesExactlyTheOld: one pass forgets exactly the ledger ids
// and notifications older than their retention, across several batches,
// and reports the counts per table; a re-recorded id is kept.
func TestPurgerRemovesExactlyTheOld(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(10_000_000)
	cut := now.Add(-time.Hour).UnixMilli()
	tests := []struct {
		name     string
		old, new int
	}{
		{"none old", 0, 10},
		{"all old", 10, 0},
		{"several batches", 2*purgeChunk + 7, purgeChunk + 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			l := s.Ledger()
			var oldIDs, newIDs []string
			for i := range tc.old {
				oldIDs = append(oldIDs, fmt.Sprintf("old-%06d", i))
			}
			for i := range tc.new {
				newIDs = append(newIDs, fmt.Sprintf("new-%06d", i))
			}
			if err := l.Record(ctx, oldIDs, nil, cut-1); err != nil {
				t.Fatal(err)
			}
			if err := l.Record(ctx, newIDs, nil, cut); err != nil {
				t.Fatal(err)
			}
			// An old id recorded again recently must survive.
			if tc.old > 0 {
				if err := l.Record(ctx, oldIDs[:1], nil, cut+5); err != nil {
					t.Fatal(err)
				}
			}
			var acts []notify.Activity
			for i := range tc.old {
				acts = append(acts, notify.Activity{User: 1, Group: fmt.Sprintf("g-old-%d", i), Actor: 2, Kind: "class", Object: "o", TS: cut - 1, EventID: "e"})
			}
			for i := range tc.new {
				acts = append(acts, notify.Activity{User: 1, Group: fmt.Sprintf("g-new-%d", i), Actor: 2, Kind: "class", Object: "o", TS: cut, EventID: "e"})
			}
			if err := s.Notify().PutActivities(ctx, acts, true); err != nil {
				t.Fatal(err)
			}
			var letters []fanout.DeadLetter
			for i := range tc.old {
				letters = append(letters, fanout.DeadLetter{TS: cut - 1, EventID: fmt.Sprint("old", i), Reason: "r"})
			}
			for i := range tc.new {
				letters = append(letters, fanout.DeadLetter{TS: cut, EventID: fmt.Sprint("new", i), Reason: "r"})
			}
			if err := s.DeadLetters().Put(ctx, letters); err != nil {
				t.Fatal(err)
			}

			got := map[string]int{}
			p, err := s.NewPurger(PurgeConfig{LedgerRetention: time.Hour, NotifyRetention: time.Hour, DeadLetterRetention: time.Hour,
				Now: func() time.Time { return now }, Pause: time.Microsecond,
				Purged: func(table string, n int) { got[table] += n }})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.PurgeOnce(ctx); err != nil {
				t.Fatal(err)
			}
			wantGone := max(tc.old-1, 0)
			want := map[string]int{}
			if wantGone > 0 {
				want["ledger"] = wantGone
			}
			if tc.old > 0 {
				want["notify_activity"] = tc.old
				want["notify_index"] = tc.old
				want["notify_head"] = tc.old
				want["dead_letters"] = tc.old
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("purged %v, want %v", got, want)
			}
			seen, err := l.Seen(ctx, append(slices.Clone(oldIDs), newIDs...))
			if err != nil {
				t.Fatal(err)
			}
			for i, mark := range seen {
				ok := mark.Found
				wantSeen := i >= tc.old || i == 0
				if ok != wantSeen {
					t.Fatalf("id %d seen=%v, want %v", i, ok, wantSeen)
				}
			}
			if n, err := s.LedgerSize(ctx); err != nil || n != tc.new+min(tc.old, 1) {
				t.Errorf("LedgerSize = %d, %v; want %d", n, err, tc.new+min(tc.old, 1))
			}
			idx, err := s.Notify().Index(ctx, 1, notify.Position{}, 1_000_000)
			if err != nil {
				t.Fatal(err)
			}
			if len(idx) != tc.new {
				t.Errorf("inbox holds %d rows, want %d", len(idx), tc.new)
			}
			for _, pos := range idx {
				if pos.TS < cut {
					t.Errorf("inbox row %v older than the cut survived", pos)
				}
			}
			dead, err := s.ListDeadLetters(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) != tc.new {
				t.Errorf("%d dead letters left, want %d", len(dead), tc.new)
			}
			for _, l := range dead {
				if l.TS < cut {
					t.Errorf("dead letter %s older than the cut survived", l.EventID)
				}
			}
			// A second pass finds nothing more.
			clear(got)
			if err := p.PurgeOnce(ctx); err != nil || len(got) != 0 {
				t.Errorf("second pass purged %v, %v; want nothing", got, err)
			}
		})
	}
}

// TestPurgerRunStops: Run returns the context's error once it ends.
func TestPurgerRunStops(t *testing.T) {
	s := newStore(t)
	p, err := s.NewPurger(PurgeConfig{Every: time.Millisecond, LedgerRetention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Run(ctx); err != context.DeadlineExceeded {
		t.Errorf("Run = %v, want %v", err, context.DeadlineExceeded)
	}
}

// TestPurgerRejectsNegative: a negative retention is a configuration error.
func TestPurgerRejectsNegative(t *testing.T) {
	if _, err := newStore(t).NewPurger(PurgeConfig{LedgerRetention: -time.Second}); err == nil {
		t.Error("negative retention accepted")
	}
}
