package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/bench/workload"
)

// Write-path targets under the mixed load (issue 13).
const (
	targetMixedApplied = 0.98 // applied / offered during the phase
	targetVisibleP50   = 100  // ms, publish -> visible, half of peak
	targetVisibleP99   = 1000 // ms
)

var mixedScenario = Scenario{
	Name: "mixed",
	Help: "writes at --fraction of peak and --clients feed readers together for --duration",
	Run:  runMixed,
}

func runMixed(ctx context.Context, e *Env, s *report.Scenario) error {
	if err := e.fill(ctx); err != nil {
		return err
	}
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	peak, from, err := e.peakRate(ctx)
	if err != nil {
		return err
	}
	rate := e.Opts.Fraction * peak
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	readers := make([]*Reader, e.Opts.Clients)
	for i := range readers {
		readers[i] = c.NewReader(e.Opts.Order)
	}
	e.logf("mixed: writes at %.0f events/s and %d readers for %v", rate, e.Opts.Clients, e.Opts.Duration)
	sampler := StartSampler(ctx, c, e.Opts.Interval, e.Opts.Duration+time.Minute)
	start := time.Now()
	load := startPacer(ctx, c, e.stream, rate, e.Opts.Duration)
	// Probes as in the latency scenario, now with the readers on: the
	// freshness a user sees while others read.
	type probed struct {
		lat      Latencies
		timeouts int
		err      error
	}
	probes := make(chan probed, 1)
	go func() {
		lat, timeouts, err := e.probe(ctx, c, workload.NewStream(e.Graph, e.Opts.Mix, 3), e.Opts.Duration)
		probes <- probed{lat, timeouts, err}
	}()
	res := readLoad(ctx, e.Opts.Clients, e.Opts.Duration, 13, e.randomUser, func(ctx context.Context, w int, u int64) error {
		_, _, err := readers[w].Load(ctx, u, "", e.Opts.Limit)
		return err
	})
	sent, achieved, lerr := load.Stop()
	mid, merr := readCounters(ctx, c)
	el := time.Since(start).Seconds()
	pr := <-probes // ends at most probeTimeout after the phase
	samples := sampler.Stop()
	if lerr != nil {
		return fmt.Errorf("write load: %w", lerr)
	}
	if merr != nil {
		return merr
	}
	if pr.err != nil {
		return fmt.Errorf("probes: %w", pr.err)
	}
	end, err := e.waitApplied(ctx, base.Applied+float64(sent), 5*time.Minute, "mixed: drain", int64(sent), base.Applied)
	if err != nil {
		return err
	}
	if res.requests == 0 {
		return fmt.Errorf("no read succeeded: %v", res.firstErr)
	}
	sum := res.lat.Summarize()
	s.Add("peak (from "+from+")", peak, "events/s")
	s.Add("writes offered", rate, "events/s")
	s.Add("writes achieved", achieved, "events/s")
	applied := (mid.Applied - base.Applied) / el
	s.Add("applied during the phase", applied, "events/s")
	s.AddTarget("applied / offered", applied/rate, "ratio", true, targetMixedApplied)
	s.Add("deliveries during the phase", (mid.Deliveries-base.Deliveries)/el, "rows/s")
	s.Add("drain after the phase", end.Sub(start).Seconds()-e.Opts.Duration.Seconds(), "s")
	s.Add("reads ("+e.Opts.Order+")", float64(res.requests)/res.seconds, "req/s")
	s.Add("read p50", sum.P50, "ms")
	if e.Opts.Order == "ranked" && !e.Opts.Target.Real() {
		s.AddTarget("read p99 ("+e.Opts.Order+")", sum.P99, "ms", false, targetMixedRankedP99)
	} else {
		s.Add("read p99 ("+e.Opts.Order+")", sum.P99, "ms")
	}
	s.Add("read max", sum.Max, "ms")
	s.Add("read errors", float64(res.errors), "requests")
	ps := pr.lat.Summarize()
	s.Add("probes (posts, as in the latency scenario)", float64(ps.N), "posts")
	s.Add("probes not visible within 10 s (counted as 10 s)", float64(pr.timeouts), "posts")
	s.AddTarget("publish to visible p50, readers on", ps.P50, "ms", false, targetVisibleP50)
	s.AddTarget("publish to visible p99, readers on", ps.P99, "ms", false, targetVisibleP99)
	s.Latencies = append(s.Latencies, report.Samples{Name: "publish to visible, readers on", Millis: pr.lat.Millis(2000)})
	s.Series = append(s.Series, rateSeries(samples, start)...)
	s.Histograms = append(s.Histograms, report.Samples{Name: "read latency under writes", Millis: res.lat.Millis(5000)})
	return nil
}
