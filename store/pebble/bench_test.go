package pebblestore

import (
	"context"
	"strconv"
	"testing"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/timeline"
)

// BenchmarkWrite1000Rows is one fan-out delivery: one Write of the same
// post into 1,000 home timelines.
func BenchmarkWrite1000Rows(b *testing.B) {
	tl := newStore(b).Timelines()
	ctx := context.Background()
	rows := make([]timeline.Row, 1000)
	const base = 1_700_000_000_000
	i := 0
	for b.Loop() {
		id := "01J9ZK3V8Q" + strconv.Itoa(1_000_000+i)
		for u := range rows {
			rows[u] = timeline.Row{NS: timeline.Home, User: int64(1_000_000 + u), Entry: timeline.Entry{
				TS: base + int64(i), ID: id, Kind: timeline.KindPost, Actor: 42, Object: id, Audience: "public",
			}}
		}
		if err := tl.Write(ctx, rows); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// fill800 writes an 800-entry home timeline for user 1 and flushes it to
// sstables (the steady state of a timeline that is read).
func fill800(b *testing.B) *Store {
	s := newStore(b)
	rows := make([]timeline.Row, 800)
	for i := range rows {
		id := "01J9ZK3V8Q" + strconv.Itoa(1_000_000+i)
		rows[i] = timeline.Row{NS: timeline.Home, User: 1, Entry: timeline.Entry{
			TS: 1_700_000_000_000 + int64(i)*1000, ID: id, Kind: timeline.KindPost,
			Actor: int64(100 + i%90), Object: id, Audience: "public",
		}}
	}
	if err := s.Timelines().Write(context.Background(), rows); err != nil {
		b.Fatal(err)
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPage20 reads the first page of 20 of an 800-entry timeline.
func BenchmarkPage20(b *testing.B) {
	tl := fill800(b).Timelines()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		es, err := tl.Page(ctx, timeline.Home, 1, timeline.Position{}, 20)
		if err != nil || len(es) != 20 {
			b.Fatal(len(es), err)
		}
	}
}

// BenchmarkPage20Deep reads a page of 20 from the middle of the timeline
// (a keyset continuation).
func BenchmarkPage20Deep(b *testing.B) {
	tl := fill800(b).Timelines()
	ctx := context.Background()
	after := timeline.Position{TS: 1_700_000_000_000 + 400*1000, ID: "01J9ZK3V8Q1000400"}
	b.ReportAllocs()
	for b.Loop() {
		es, err := tl.Page(ctx, timeline.Home, 1, after, 20)
		if err != nil || len(es) != 20 {
			b.Fatal(len(es), err)
		}
	}
}

func BenchmarkEntryCodec(b *testing.B) {
	e := timeline.Entry{TS: 1_700_000_000_000, ID: "01J9ZK3V8Q1000400", Kind: timeline.KindClass,
		Actor: 123456789, Object: "01J9ZK3V8Q1000399", Owner: 987654321, Audience: "public"}
	buf := make([]byte, 0, 64)
	var ev entryView
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEntryVal(buf[:0], &e)
		if err := decodeEntryVal(buf, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInboxAddFriendGroup is one friend event's notification: an
// activity added to the receiver's "friends" group of the current window,
// which already holds 100 other new friends (a graph load's steady state).
// Its cost must not grow with the group.
func BenchmarkInboxAddFriendGroup(b *testing.B) {
	in := notify.NewInbox(newStore(b).Notify())
	ctx := context.Background()
	const base = 1_700_000_000_000
	group := notify.GroupKey(notify.KindFriend, "", base)
	add := func(actor, ts int64) {
		a := notify.Activity{User: 1, Group: group, Kind: notify.KindFriend, Actor: actor, TS: ts,
			EventID: "f-" + strconv.FormatInt(actor, 10)}
		if _, err := in.Add(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	for i := range int64(100) {
		add(1000+i, base+i)
	}
	i := int64(0)
	for b.Loop() {
		add(2000+i%10_000, base+100+i) // the group stays within its window
		i++
	}
}
