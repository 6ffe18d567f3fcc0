package fanout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// switchGuard refuses while full is set.
type switchGuard struct{ full atomic.Bool }

func (g *switchGuard) CheckSpace() error {
	if g.full.Load() {
		return &NoSpaceError{Path: "/d", Free: 1, Min: 2}
	}
	return nil
}

type countPublisher struct{ n int }

func (p *countPublisher) Publish(_ context.Context, evs []schema.Event) error {
	p.n += len(evs)
	return nil
}

func TestGuardedPublisher(t *testing.T) {
	for _, tc := range []struct {
		name string
		full bool
		want int
	}{{"room", false, 1}, {"full", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			g := &switchGuard{}
			g.full.Store(tc.full)
			inner := &countPublisher{}
			err := GuardedPublisher{Publisher: inner, Guard: g}.Publish(context.Background(), []schema.Event{{ID: "a"}})
			if errors.Is(err, ErrNoSpace) != tc.full || inner.n != tc.want {
				t.Fatalf("err %v, published %d; want refused %v, published %d", err, inner.n, tc.full, tc.want)
			}
		})
	}
}

// TestWaitForSpace: below the watermark the batch is held, not processed
// nor dropped; it goes through once space returns.
func TestWaitForSpace(t *testing.T) {
	g := &switchGuard{}
	g.full.Store(true)
	var processed atomic.Int32
	var waits atomic.Int32
	proc := WaitForSpace(g, time.Millisecond, func(error) { waits.Add(1) },
		func(context.Context, [][]byte) error { processed.Add(1); return nil })
	done := make(chan error, 1)
	go func() { done <- proc(context.Background(), [][]byte{[]byte("x")}) }()
	time.Sleep(50 * time.Millisecond)
	if processed.Load() != 0 {
		t.Fatal("batch processed below the watermark")
	}
	g.full.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("batch still held after space returned")
	}
	if processed.Load() != 1 || waits.Load() != 1 {
		t.Fatalf("processed %d, waits %d; want 1, 1", processed.Load(), waits.Load())
	}

	// A stop while waiting returns the context's error, unprocessed.
	g.full.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := proc(ctx, nil); !errors.Is(err, context.Canceled) || processed.Load() != 1 {
		t.Fatalf("cancelled wait: %v, processed %d", err, processed.Load())
	}
}
