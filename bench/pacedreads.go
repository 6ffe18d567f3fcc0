package bench

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// readTick is how often the paced reader hands out reads.
const readTick = 10 * time.Millisecond

// readPacer issues feed reads at a fixed rate (open loop) on a fixed set
// of workers until Stop or its time limit. A read whose turn comes while
// every worker is busy is skipped and counted, not queued, so the rate
// offered stays the rate asked for and a slow feedd shows as skips.
type readPacer struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	all      Latencies // every successful read
	win      Latencies // since the last take
	errs     int
	winErrs  int
	skipped  int
	firstErr error
	start    time.Time
	end      time.Time
}

// startReadPacer reads rate pages/s for at most d on workers goroutines;
// users draws the user to read (from the pacer's own generator), page
// reads one page (an error on failure). The pacer's goroutine owns the
// workers: it closes their queue and waits for them before it ends.
func startReadPacer(ctx context.Context, rate float64, workers int, d time.Duration, seed uint64,
	users func(*rand.Rand) int64, page func(ctx context.Context, worker int, user int64) error) *readPacer {
	ctx, cancel := context.WithTimeout(ctx, d)
	p := &readPacer{cancel: cancel, done: make(chan struct{}), start: time.Now()}
	end, _ := ctx.Deadline() // the phase's end
	go func() {
		defer close(p.done)
		jobs := make(chan int64) // unbuffered: a send succeeds only to an idle worker
		var wg sync.WaitGroup
		for w := range max(1, workers) {
			wg.Go(func() {
				for u := range jobs {
					t0 := time.Now()
					err := page(ctx, w, u)
					if ctx.Err() != nil || (err != nil && !time.Now().Before(end)) {
						continue // cut off by the end of the phase: not counted
					}
					p.record(time.Since(t0), err)
				}
			})
		}
		defer wg.Wait()
		defer close(jobs)
		rng := rand.New(rand.NewPCG(seed, 99))
		t := time.NewTicker(readTick)
		defer t.Stop()
		issued := 0
		limit := int(math.Ceil(rate*d.Seconds())) + 1
		for issued < limit {
			select {
			case <-ctx.Done():
				p.finish()
				return
			case <-t.C:
			}
			want := min(int(rate*time.Since(p.start).Seconds()), limit)
			for ; issued < want; issued++ {
				select {
				case jobs <- users(rng):
				default:
					p.mu.Lock()
					p.skipped++
					p.mu.Unlock()
				}
			}
		}
		<-ctx.Done()
		p.finish()
	}()
	return p
}

func (p *readPacer) finish() {
	p.mu.Lock()
	p.end = time.Now()
	p.mu.Unlock()
}

func (p *readPacer) record(d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs++
		p.winErrs++
		if p.firstErr == nil {
			p.firstErr = err
		}
		return
	}
	p.all = append(p.all, d)
	p.win = append(p.win, d)
}

// take returns the reads and errors since the last take, and the
// window's read latency summary.
func (p *readPacer) take() (reads, errs int, sum Summary) {
	p.mu.Lock()
	win, e := p.win, p.winErrs
	p.win, p.winErrs = nil, 0
	p.mu.Unlock()
	return len(win), e, win.Summarize()
}

// readTotals is what a paced read load did in all.
type readTotals struct {
	lat             Latencies
	errors, skipped int
	firstErr        error
	seconds         float64
}

// Stop ends the reads, waits for the workers and returns the totals.
func (p *readPacer) Stop() readTotals {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return readTotals{lat: p.all, errors: p.errs, skipped: p.skipped, firstErr: p.firstErr, seconds: p.end.Sub(p.start).Seconds()}
}
