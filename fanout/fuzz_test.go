package fanout_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// fuzzDead keeps the dead letters of one Process call.
type fuzzDead struct {
	mu      sync.Mutex
	letters []fanout.DeadLetter
}

func (d *fuzzDead) Put(_ context.Context, ls []fanout.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.letters = append(d.letters, ls...)
	return nil
}

// fuzzCounts is an Observer that adds up one Process call.
type fuzzCounts struct {
	mu                     sync.Mutex
	applied, skipped, dead int
}

func (c *fuzzCounts) Applied(events, _ int)        { c.mu.Lock(); c.applied += events; c.mu.Unlock() }
func (c *fuzzCounts) Skipped(n int)                { c.mu.Lock(); c.skipped += n; c.mu.Unlock() }
func (c *fuzzCounts) DeadLettered(_ string, n int) { c.mu.Lock(); c.dead += n; c.mu.Unlock() }
func (c *fuzzCounts) Retried(error)                {}

func (c *fuzzCounts) reset() {
	c.mu.Lock()
	c.applied, c.skipped, c.dead = 0, 0, 0
	c.mu.Unlock()
}

// FuzzProcess puts an arbitrary bus message between two valid ones and
// hands the batch to the Processor every bus adapter uses (the Kafka
// consumer, the embedded log), over a Pebble store: this is the decode
// path of every message read from the bus. Process must return nil;
// every message is applied, skipped as a duplicate or dead-lettered,
// exactly one of them; a message that does not decode and validate is
// dead-lettered with its bytes unchanged and a reason, and nothing of it
// is stored; the valid neighbours are applied whatever it is.
func FuzzProcess(f *testing.F) {
	st, err := pebblestore.Open(f.TempDir(), pebblestore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	now := time.UnixMilli(1_700_000_000_000)
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: func() time.Time { return now }})
	dead := &fuzzDead{}
	counts := &fuzzCounts{}
	p := &fanout.Processor{Engine: engine, Dead: dead, Observer: counts}
	ctx := context.Background()
	enc := func(ev schema.Event) []byte {
		b, err := schema.MarshalMsgpack(&ev)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	ts := now.UnixMilli() - 60_000
	good := enc(schema.Event{ID: "seed-1", Type: schema.Post, Actor: 5, Text: "hi", TS: ts})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0xc1})
	f.Add(good[:len(good)-3])
	f.Add(append([]byte{0x91}, good...))
	f.Add([]byte("\xa4post"))
	f.Add(enc(schema.Event{ID: "seed-2", Type: "poke", Actor: 5, TS: ts}))
	f.Add(enc(schema.Event{ID: "seed-3", Type: schema.Post, Actor: 5, Text: "x", TS: ts / 1000}))
	f.Add(enc(schema.Event{ID: "seed-4", Type: schema.Friend, Actor: 5, Target: 6, TS: ts}))
	f.Add(enc(schema.Event{ID: "seed-r1", Type: schema.React, Actor: 6, Target: 5, Object: "seed-1", Reaction: "love", TS: ts}))
	f.Add(enc(schema.Event{ID: "seed-r2", Type: schema.React, Actor: 6, Target: 5, Object: "seed-1", Reaction: "angry", TS: ts}))
	f.Add(enc(schema.Event{ID: "seed-r3", Type: schema.Unreact, Actor: 6, Target: 5, Object: "seed-1", TS: ts}))
	f.Add(enc(schema.Event{ID: "seed-5", Type: schema.Delete, Actor: 6, Object: "seed-1", TS: ts}))
	f.Add(append(bytes.Repeat([]byte{0x91}, 100), 0xc0))

	applied := map[string]bool{} // ids this process applied, across iterations
	seq := 0
	f.Fuzz(func(t *testing.T, msg []byte) {
		seq++
		before := schema.Event{ID: fmt.Sprintf("fz-%d-a", seq), Type: schema.Post, Actor: 1, Text: "before", TS: ts}
		after := schema.Event{ID: fmt.Sprintf("fz-%d-b", seq), Type: schema.Post, Actor: 2, Text: "after", TS: ts}
		msgs := [][]byte{enc(before), msg, enc(after)}
		dead.letters = nil
		counts.reset()
		if err := p.Process(ctx, msgs); err != nil {
			t.Fatalf("Process: %v", err)
		}
		if n := counts.applied + counts.skipped + counts.dead; n != len(msgs) {
			t.Fatalf("%d applied, %d skipped, %d dead-lettered: %d of %d messages", counts.applied, counts.skipped, counts.dead, n, len(msgs))
		}
		if counts.dead != len(dead.letters) {
			t.Fatalf("observer saw %d dead letters, the store got %d", counts.dead, len(dead.letters))
		}
		seen, err := st.Ledger().Seen(ctx, []string{before.ID, after.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !seen[0].Found || !seen[1].Found {
			t.Fatalf("the valid neighbours were not applied (%v)", seen)
		}
		applied[before.ID], applied[after.ID] = true, true
		ev, derr := schema.UnmarshalMsgpack(msg)
		if derr == nil {
			derr = ev.Normalize(now)
		}
		if derr == nil {
			applied[ev.ID] = true // applied, a duplicate, or refused by the engine: all fine
			return
		}
		if len(dead.letters) != 1 || !bytes.Equal(dead.letters[0].Raw, msg) || dead.letters[0].Reason == "" {
			t.Fatalf("poison (%v) dead-lettered as %+v", derr, dead.letters)
		}
		if ev.ID != "" && !applied[ev.ID] {
			if s, err := st.Ledger().Seen(ctx, []string{ev.ID}); err != nil || s[0].Found {
				t.Fatalf("poison %q (%v) reached the ledger (%v)", ev.ID, derr, err)
			}
		}
	})
}
