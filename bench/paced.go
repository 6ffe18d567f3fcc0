package bench

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/bench/workload"
	"github.com/lenta-dev/lenta/schema"
)

// pacedTick is how often the paced publisher sends a batch.
const pacedTick = 50 * time.Millisecond

// pacer publishes the run's event stream at a fixed rate from its own
// goroutine until Stop (or its time limit).
type pacer struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	sent   int
	failed int // batches that failed (not cut off by the end)
	err    error
	start  time.Time
	end    time.Time
}

// startPacer publishes rate events/s for at most d. The stream is used by
// the pacer's goroutine only until Stop returns.
func startPacer(ctx context.Context, c *Client, st *workload.Stream, rate float64, d time.Duration) *pacer {
	ctx, cancel := context.WithTimeout(ctx, d)
	p := &pacer{cancel: cancel, done: make(chan struct{}), start: time.Now()}
	end, _ := ctx.Deadline() // the phase's end
	go func() {
		defer close(p.done)
		t := time.NewTicker(pacedTick)
		defer t.Stop()
		owed := 0.0
		buf := make([]schema.Event, 0, schema.MaxBatch)
		for {
			select {
			case <-ctx.Done():
				p.mu.Lock()
				p.end = time.Now()
				p.mu.Unlock()
				return
			case <-t.C:
			}
			// What the schedule wants by now, minus what was sent.
			want := rate * time.Since(p.start).Seconds()
			p.mu.Lock()
			owed = want - float64(p.sent)
			p.mu.Unlock()
			n := min(int(math.Floor(owed)), schema.MaxBatch)
			if n <= 0 {
				continue
			}
			ts := time.Now().UnixMilli()
			buf = buf[:0]
			for range n {
				buf = append(buf, st.Next(ts))
			}
			err := c.Publish(ctx, buf)
			p.mu.Lock()
			// A failure at the deadline is the end of the phase cutting the
			// request off (fasthttp's timer can fire before the context's).
			if err != nil && ctx.Err() == nil && time.Now().Before(end) {
				p.failed++
				if p.err == nil {
					p.err = err
				}
			}
			if err == nil {
				p.sent += n
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// counts are the events sent and the failed batches so far.
func (p *pacer) counts() (sent, failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.failed
}

// Stop ends the pacer and returns the events sent and the achieved rate.
func (p *pacer) Stop() (int, float64, error) {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	el := p.end.Sub(p.start).Seconds()
	if el <= 0 {
		return p.sent, 0, p.err
	}
	return p.sent, float64(p.sent) / el, p.err
}

// measurePeak publishes up to n events flat out and returns the applied
// events/s (first publish to drained).
func (e *Env) measurePeak(ctx context.Context, n int) (float64, error) {
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return 0, err
	}
	base, err := readCounters(ctx, c)
	if err != nil {
		return 0, err
	}
	evs := e.events(n)
	start := time.Now()
	if _, err := e.publishAll(ctx, evs, "peak probe: publish"); err != nil {
		return 0, err
	}
	end, err := e.waitApplied(ctx, base.Applied+float64(n), 10*time.Minute, "peak probe: drain", int64(n), base.Applied)
	if err != nil {
		return 0, err
	}
	e.filled = true
	rate := float64(n) / end.Sub(start).Seconds()
	if rate <= 0 {
		return 0, fmt.Errorf("peak probe: no rate")
	}
	return rate, nil
}

// peakRate is the fan-out scenario's rate, or a short probe's.
func (e *Env) peakRate(ctx context.Context) (float64, string, error) {
	if e.peak > 0 {
		return e.peak, "the fan-out scenario of this run", nil
	}
	n := max(1000, min(e.Opts.Events, 30_000))
	r, err := e.measurePeak(ctx, n)
	if err != nil {
		return 0, "", err
	}
	e.peak = r
	return r, fmt.Sprintf("a %d-event flat-out probe", n), nil
}
