package kafkabus

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// switchedDeadLetters is the real dead-letter topic behind a switch: while
// down, Put fails as a store outage would.
type switchedDeadLetters struct {
	fanout.DeadLetters
	down   atomic.Bool
	failed atomic.Int64
}

func (d *switchedDeadLetters) Put(ctx context.Context, ls []fanout.DeadLetter) error {
	if d.down.Load() {
		d.failed.Add(1)
		return errors.New("test: dead letters down")
	}
	return d.DeadLetters.Put(ctx, ls)
}

// TestStopDuringOutage runs the real fanout.Processor with its dead
// letters down, so the batch holding a poison record keeps failing. The
// consumer alone retries it (the Processor tries once), so stopping Run
// ends the retries at once instead of waiting out DrainTimeout (two
// minutes here; stop fails the test after 30 s). Nothing is committed
// meanwhile, and once the dead letters are back the next consumer
// dead-letters the record and commits.
func TestStopDuringOutage(t *testing.T) {
	cfg := testConfig(t)
	cfg.DrainTimeout = 2 * time.Minute
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dl, err := NewDeadLetters(cfg)
	if err != nil {
		t.Fatalf("NewDeadLetters: %v", err)
	}
	t.Cleanup(func() { _ = dl.Close() })
	dead := &switchedDeadLetters{DeadLetters: dl}
	dead.down.Store(true)
	engine := fanout.NewEngine(st.Graph(), st.Objects(), st.Timelines(), st.Ledger(), fanout.Config{})
	proc := &fanout.Processor{Engine: engine, Dead: dead, Log: testLog(t)}
	newRawProducer(t, cfg).send(cfg.EventsTopic(), "21", []byte{0xc1}) // never decodes

	c := startConsumer(t, cfg, proc.Process)
	waitFor(t, 60*time.Second, "the failing batch handed again", func() bool { return dead.failed.Load() >= 3 })
	c.stop(t)

	lc, err := NewConsumer(cfg, func(context.Context, [][]byte) error { return nil }, nil)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	t.Cleanup(func() { _ = lc.Close() })
	waitLag(t, lc, 1)

	dead.down.Store(false)
	c2 := startConsumer(t, cfg, proc.Process)
	waitLag(t, c2.c, 0)
}
