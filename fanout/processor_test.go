package fanout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

var errDeadDown = errors.New("dead letters unavailable")

// flakyDead fails its first fail Puts.
type flakyDead struct {
	fuzzDead
	fail int
}

func (d *flakyDead) Put(ctx context.Context, ls []fanout.DeadLetter) error {
	if d.fail > 0 {
		d.fail--
		return errDeadDown
	}
	return d.fuzzDead.Put(ctx, ls)
}

// retriedCounts is a fuzzCounts that keeps what Retried was told.
type retriedCounts struct {
	fuzzCounts
	retried []error
}

func (c *retriedCounts) Retried(err error) {
	c.mu.Lock()
	c.retried = append(c.retried, err)
	c.mu.Unlock()
}

// TestProcessTriesOnce: Process makes one attempt and hands a failure back
// (the bus owns the retry), reporting it to Observer.Retried unless its ctx
// ended; handing the same batch again then completes it, applying nothing
// twice and counting each message once.
func TestProcessTriesOnce(t *testing.T) {
	tests := []struct {
		name        string
		deadFails   int
		cancel      bool
		wantErr     error
		wantRetried int
	}{
		{"succeeds", 0, false, nil, 0},
		{"dead letters fail: returned and reported", 1, false, errDeadDown, 1},
		{"ctx ended: its error, not reported", 0, true, context.Canceled, 0},
	}
	now := time.UnixMilli(1_700_000_000_000)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{Now: func() time.Time { return now }})
			dead := &flakyDead{fail: tt.deadFails}
			counts := &retriedCounts{}
			p := &fanout.Processor{Engine: engine, Dead: dead, Observer: counts}
			good, err := schema.MarshalMsgpack(&schema.Event{ID: "p1", Type: schema.Post, Actor: 1, Text: "hi", TS: now.UnixMilli() - 1000})
			if err != nil {
				t.Fatal(err)
			}
			msgs := [][]byte{good, {0xc1}} // one to apply, one to dead-letter

			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancel {
				cancel()
			}
			err = p.Process(ctx, msgs)
			cancel()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Process = %v, want %v", err, tt.wantErr)
			}
			if len(counts.retried) != tt.wantRetried || (tt.wantRetried > 0 && !errors.Is(counts.retried[0], tt.wantErr)) {
				t.Fatalf("Retried saw %v, want %d reports of %v", counts.retried, tt.wantRetried, tt.wantErr)
			}
			if err != nil { // the bus hands the batch again
				if err := p.Process(context.Background(), msgs); err != nil {
					t.Fatalf("Process, handed again: %v", err)
				}
			}
			// Applied before a failure, the post is a duplicate when handed
			// again: counted once either way.
			if counts.applied+counts.skipped != 1 || len(dead.letters) != 1 {
				t.Fatalf("applied %d, skipped %d, %d dead letters; want the post counted once and one letter",
					counts.applied, counts.skipped, len(dead.letters))
			}
		})
	}
}
