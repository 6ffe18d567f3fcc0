package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// readResult is what a read load measured.
type readResult struct {
	requests, errors int
	seconds          float64
	lat              Latencies
	firstErr         error
}

// maxReadsPerClient bounds each client's loop in count (time bounds it
// too).
const maxReadsPerClient = 5_000_000

// readLoad runs clients goroutines for d, each reading pages of random
// users with page (which returns an error on failure), and owns them until
// they end.
func readLoad(ctx context.Context, clients int, d time.Duration, seed uint64, users func(*rand.Rand) int64,
	page func(ctx context.Context, worker int, user int64) error) readResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res readResult
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var lat Latencies
			errs := 0
			var firstErr error
			for range maxReadsPerClient {
				if ctx.Err() != nil || !time.Now().Before(end) {
					break
				}
				u := users(rng)
				t0 := time.Now()
				err := page(ctx, w, u)
				if ctx.Err() != nil || (err != nil && !time.Now().Before(end)) {
					break // cut off by the end of the phase: not counted
				}
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.seconds = time.Since(start).Seconds()
	res.requests = len(res.lat)
	return res
}
