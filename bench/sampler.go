package bench

import (
	"context"
	"sync"
	"time"
)

// Sample is one reading of feedd's pipeline counters.
type Sample struct {
	At         time.Time
	Applied    float64 // events applied + duplicates skipped + dead-lettered
	Deliveries float64
	Lag        float64
}

// Sampler reads /metrics every interval until Stop. Its goroutine is owned
// by the Sampler: Stop ends it and waits.
type Sampler struct {
	mu      sync.Mutex
	samples []Sample
	cancel  context.CancelFunc
	done    chan struct{}
}

// readCounters takes one sample now.
func readCounters(ctx context.Context, c *Client) (Sample, error) {
	m, err := c.Metrics(ctx)
	if err != nil {
		return Sample{}, err
	}
	return Sample{At: time.Now(), Applied: m[mApplied] + m[mDuplicates] + m[mDead],
		Deliveries: m[mDeliveries], Lag: m[mLag]}, nil
}

// StartSampler samples c every interval (at most for limit).
func StartSampler(ctx context.Context, c *Client, interval, limit time.Duration) *Sampler {
	ctx, cancel := context.WithTimeout(ctx, limit)
	s := &Sampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			rctx, rc := context.WithTimeout(ctx, 5*time.Second)
			smp, err := readCounters(rctx, c)
			rc()
			if err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, smp)
				s.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Last is the newest sample (zero if none yet).
func (s *Sampler) Last() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return Sample{}
	}
	return s.samples[len(s.samples)-1]
}

// Stop ends sampling and returns every sample.
func (s *Sampler) Stop() []Sample {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}
