package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
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
	res := readLoad(ctx, e.Opts.Clients, e.Opts.Duration, 13, e.randomUser, func(ctx context.Context, w int, u int64) error {
		_, _, err := readers[w].Load(ctx, u, "", e.Opts.Limit)
		return err
	})
	sent, achieved, lerr := load.Stop()
	mid, merr := readCounters(ctx, c)
	el := time.Since(start).Seconds()
	samples := sampler.Stop()
	if lerr != nil {
		return fmt.Errorf("write load: %w", lerr)
	}
	if merr != nil {
		return merr
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
	s.Add("applied during the phase", (mid.Applied-base.Applied)/el, "events/s")
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
	s.Series = append(s.Series, rateSeries(samples, start)...)
	s.Histograms = append(s.Histograms, report.Samples{Name: "read latency under writes", Millis: res.lat.Millis(5000)})
	return nil
}
