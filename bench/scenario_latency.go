package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/bench/workload"
	"github.com/lenta-dev/lenta/schema"
)

var latencyScenario = Scenario{
	Name: "latency",
	Help: "background load at --fraction of peak; probe posts by sampled users, each polled in a sampled friend's feed until visible; p50/p95/p99/max",
	Run:  runLatency,
}

// probeTimeout is how long a probe waits for its post to show.
const probeTimeout = 10 * time.Second

// probePoll is the pause between a probe's feed reads. At 5 ms the probes
// themselves were ~40% of feedd's CPU on 2 cores (a profile of the latency
// phase), loading the system they measure; 25 ms keeps the resolution far
// below the 1 s target.
const probePoll = 25 * time.Millisecond

func runLatency(ctx context.Context, e *Env, s *report.Scenario) error {
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	peak, from, err := e.peakRate(ctx)
	if err != nil {
		return err
	}
	rate := e.Opts.Fraction * peak
	e.logf("latency: background load %.0f events/s (%.2f of peak %.0f from %s) for %v, %.0f probes/s",
		rate, e.Opts.Fraction, peak, from, e.Opts.Duration, e.Opts.ProbeRate)
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	sampler := StartSampler(ctx, c, e.Opts.Interval, e.Opts.Duration+time.Minute)
	start := time.Now()
	load := startPacer(ctx, c, e.stream, rate, e.Opts.Duration)
	lat, timeouts, perr := e.probe(ctx, c, workload.NewStream(e.Graph, e.Opts.Mix, 2), e.Opts.Duration)
	sent, achieved, lerr := load.Stop()
	samples := sampler.Stop()
	if perr != nil {
		return perr
	}
	if lerr != nil {
		return fmt.Errorf("background load: %w", lerr)
	}
	if _, err := e.waitApplied(ctx, base.Applied+float64(sent), 5*time.Minute, "latency: drain", int64(sent), base.Applied); err != nil {
		return err
	}
	sum := lat.Summarize()
	s.Add("peak (applied events/s, from "+from+")", peak, "events/s")
	s.Add("background load offered", rate, "events/s")
	s.Add("background load achieved", achieved, "events/s")
	s.Add("probes", float64(sum.N), "posts")
	s.Add("probes not visible within 10 s (counted as 10 s)", float64(timeouts), "posts")
	s.AddTarget("publish to visible p50", sum.P50, "ms", false, targetVisibleP50)
	s.Add("publish to visible p95", sum.P95, "ms")
	s.AddTarget("publish to visible p99", sum.P99, "ms", false, targetVisibleP99)
	s.Add("publish to visible max", sum.Max, "ms")
	s.Latencies = append(s.Latencies, report.Samples{Name: "publish to visible in a follower's feed", Millis: lat.Millis(2000)})
	s.Series = append(s.Series, rateSeries(samples, start)...)
	s.Note("latency runs from just before POST /v1/events to the first feed read (order=recent, polled every %v) that lists the post; the poll interval and the read itself are included", probePoll)
	return nil
}

// probe publishes ProbeRate posts/s for d, each by a random user with
// friends, and polls one random friend's feed until the post shows. It
// owns its goroutines (at most 64 probes in flight) and waits for them.
func (e *Env) probe(ctx context.Context, c *Client, st *workload.Stream, d time.Duration) (Latencies, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d+probeTimeout+5*time.Second)
	defer cancel()
	every := time.Duration(float64(time.Second) / max(e.Opts.ProbeRate, 0.1))
	t := time.NewTicker(every)
	defer t.Stop()
	sem := make(chan struct{}, 64)
	var mu sync.Mutex
	var lat Latencies
	var timeouts int
	var first error
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end) && i < 1_000_000; i++ {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
		author := st.RandomUser()
		friend := st.RandomFriend(author)
		if friend == 0 {
			continue
		}
		ev := st.Post(author, time.Now().UnixMilli())
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			d, ok, err := visible(ctx, c, ev, friend, e.Opts.Limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				if first == nil {
					first = err
				}
			case !ok:
				timeouts++
				lat = append(lat, probeTimeout) // censored: counted at the timeout
				e.logf("probe %s by %d not in the feed of %d within %v", ev.ID, author, friend, probeTimeout)
			default:
				lat = append(lat, d)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, 0, first
	}
	return lat, timeouts, nil
}

// visible publishes ev and reads follower's feed until it lists ev; it
// returns the time from publish to the read that showed it.
func visible(ctx context.Context, c *Client, ev schema.Event, follower int64, limit int) (time.Duration, bool, error) {
	r := c.NewReader("recent")
	t0 := time.Now()
	if err := c.Publish(ctx, []schema.Event{ev}); err != nil {
		return 0, false, err
	}
	stop := t0.Add(probeTimeout)
	for time.Now().Before(stop) {
		ids, err := r.Page(ctx, follower, max(limit, 50))
		if err != nil {
			if ctx.Err() != nil {
				return 0, false, nil
			}
			return 0, false, err
		}
		if slices.Contains(ids, ev.ID) {
			return time.Since(t0), true, nil
		}
		select {
		case <-ctx.Done():
			return 0, false, nil
		case <-time.After(probePoll):
		}
	}
	return 0, false, nil
}
