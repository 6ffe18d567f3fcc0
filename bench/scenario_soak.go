package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
)

var soakScenario = Scenario{
	Name: "soak",
	Help: "not in suite: writes at --rate and feed reads at --read-rate for --soak-duration (10m); samples feedd's Go heap, goroutines and RSS every --soak-interval; PASS/FAIL on their flatness, errors and the final bus lag",
	Run:  runSoak,
}

// Soak drain limits: the pipeline must apply everything published within
// soakDrain of the load's end, and the bus lag must read 0 within
// soakLagWait after that (Kafka's lag follows offset commits).
const (
	soakDrain   = 5 * time.Minute
	soakLagWait = time.Minute
)

const mib = 1 << 20

func runSoak(ctx context.Context, e *Env, s *report.Scenario) error {
	o := e.Opts
	d, every := o.SoakDuration, o.SoakInterval
	if d < 5*every {
		return fmt.Errorf("the soak (%v) must last at least 5 sample intervals (--soak-interval %v)", d, every)
	}
	if err := e.fill(ctx); err != nil {
		return err
	}
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	base, err := scrapeProcess(ctx, c)
	if err != nil {
		return err
	}
	// One client (so one connection) per worker: feedd serves a
	// connection on a goroutine of its own, and a shared pool would grow
	// with the busiest moment so far, which the goroutine check would read
	// as a leak. Each worker's connection stays open for the whole load.
	workers := o.Clients
	readers := make([]*Reader, workers)
	clients := make([]*Client, workers)
	closeReaders := func() {
		for _, wc := range clients {
			if wc != nil {
				wc.CloseIdle()
			}
		}
	}
	defer closeReaders()
	for i := range readers {
		if clients[i], err = NewClient(c.base, o.Secret); err != nil {
			return err
		}
		readers[i] = clients[i].NewReader(o.Order)
	}
	e.logf("soak: %.0f events/s and %.0f feed reads/s (%d workers) for %v, a sample of feedd every %v",
		o.Rate, o.ReadRate, workers, d, every)
	start := time.Now()
	writes := startPacer(ctx, c, e.stream, o.Rate, d)
	reads := startReadPacer(ctx, o.ReadRate, workers, d, 17, e.randomUser, func(ctx context.Context, w int, u int64) error {
		_, _, err := readers[w].Load(ctx, u, "", o.Limit)
		return err
	})
	samples, scrapeErrs, lastScrapeErr := soakSamples(ctx, e, c, start, d, every, base, writes, reads)
	sent, achieved, lerr := writes.Stop()
	rt := reads.Stop()
	closeReaders() // their connections' goroutines in feedd end too
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("no scrape of feedd's /metrics succeeded during the soak: %v", lastScrapeErr)
	}
	loadEnd := time.Now()

	// Drain: everything published applied, then the lag gauge at 0.
	drained := true
	if _, err := e.waitApplied(ctx, base.Applied+float64(sent), soakDrain, "soak: drain", int64(sent), base.Applied); err != nil {
		drained = false
		s.Note("drain: %v", err)
	}
	endLag, after, haveAfter := -1.0, SoakSample{}, false
	lctx, cancel := context.WithTimeout(ctx, soakLagWait)
	for {
		if smp, err := scrapeProcess(lctx, c); err == nil {
			endLag, after, haveAfter = smp.Lag, smp, true
			if smp.Lag == 0 {
				break
			}
		}
		select {
		case <-lctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
		if lctx.Err() != nil {
			break
		}
	}
	cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	drainSecs := time.Since(loadEnd).Seconds()
	_, writeErrs := writes.counts()
	last := samples[len(samples)-1]
	server5xx := last.Server5xx
	if haveAfter {
		server5xx = after.Server5xx - base.Server5xx
	}
	crit := DefaultSoakCriteria()
	if e.Opts.SoakGoroutineSlack > 0 {
		crit.GoroutineSlack = e.Opts.SoakGoroutineSlack
	}
	v := JudgeSoak(crit, samples, SoakEnd{Duration: d.Seconds(), ReadErrors: rt.errors,
		WriteErrors: writeErrs, Server5xx: server5xx, Lag: endLag})
	if o.SoakRetention > 0 && !o.Target.Real() {
		ch, ok, why := JudgeDisk(samples, o.SoakRetention, d)
		if ch.Name != "" {
			v.Checks = append(v.Checks, ch)
		}
		if !ok {
			v.Reasons = append(v.Reasons, why)
			v.Pass = false
		}
	}

	sum := rt.lat.Summarize()
	maxLag := 0.0
	for _, x := range samples {
		maxLag = max(maxLag, x.Lag)
	}
	s.Add("writes offered", o.Rate, "events/s")
	s.Add("writes achieved", achieved, "events/s")
	if last.T > 0 {
		s.Add("applied during the load", (last.Applied-base.Applied)/last.T, "events/s")
		s.Add("deliveries during the load", (last.Deliveries-base.Deliveries)/last.T, "rows/s")
	}
	s.Add("reads offered", o.ReadRate, "req/s")
	s.Add("reads achieved", float64(len(rt.lat))/rt.seconds, "req/s")
	s.Add("reads skipped (every worker busy)", float64(rt.skipped), "requests")
	s.Add("read p50", sum.P50, "ms")
	s.Add("read p99", sum.P99, "ms")
	s.Add("read max", sum.Max, "ms")
	s.Add("read errors", float64(rt.errors), "requests")
	s.Add("write errors", float64(writeErrs), "batches")
	s.Add("feedd 5xx", server5xx, "responses")
	s.Add("max bus lag under load", maxLag, "events")
	s.Add("bus lag at the end of the load", last.Lag, "events")
	s.Add("drain after the load", drainSecs, "s")
	s.Add("samples", float64(len(samples)), "samples")
	s.Add("heap in use, warm window (median)", v.WarmHeap/mib, "MiB")
	s.Add("heap in use, end window (median)", v.EndHeap/mib, "MiB")
	s.Add("heap in use slope after warm-up", v.HeapSlope/mib, "MiB/min")
	s.Add("RSS, warm window (median)", v.WarmRSS/mib, "MiB")
	s.Add("RSS, end window (median)", v.EndRSS/mib, "MiB")
	s.Add("goroutines, warm window (max)", v.WarmGoroutinesMax, "goroutines")
	s.Add("goroutines, end window (median)", v.EndGoroutines, "goroutines")
	s.Add("goroutines before the load", base.Goroutines, "goroutines")
	s.Add("data folder at the start of the load", samples[0].DataBytes/mib, "MiB")
	s.Add("data folder at the end of the load", last.DataBytes/mib, "MiB")
	if haveAfter {
		s.Add("heap in use after the drain", after.HeapInuse/mib, "MiB")
		s.Add("goroutines after the drain", after.Goroutines, "goroutines")
	}
	for _, ch := range v.Checks {
		s.AddTarget("verdict: "+ch.Name, round1(ch.Value), ch.Unit, false, round1(ch.Limit))
	}
	s.Note("verdict: %s", v)
	cr := v.Criteria
	s.Note("windows: warm %.0f-%.0f s (samples: %d), end %.0f-%.0f s (samples: %d); heap slope from %.0f s on",
		cr.WarmFrom*d.Seconds(), cr.WarmTo*d.Seconds(), v.WarmSamples, cr.EndFrom*d.Seconds(), d.Seconds(), v.EndSamples, cr.WarmFrom*d.Seconds())
	if lerr != nil {
		s.Note("first write error: %v", lerr)
	}
	if rt.firstErr != nil {
		s.Note("first read error: %v", rt.firstErr)
	}
	if scrapeErrs > 0 {
		s.Note("%d scrapes of /metrics failed (last: %v)", scrapeErrs, lastScrapeErr)
	}
	if !drained {
		s.Note("the pipeline did not apply every published event within %v", soakDrain)
	}
	s.Series = append(s.Series, soakSeries(samples, every, v, d)...)
	s.Histograms = append(s.Histograms, report.Samples{Name: "read latency during the soak", Millis: rt.lat.Millis(5000)})
	s.Tables = append(s.Tables, soakTable(samples, every))
	e.logf("soak: verdict %s", v)
	if o.LogDir != "" {
		if err := writeSoakJSON(filepath.Join(o.LogDir, "soak.json"), e, s, v, samples); err != nil {
			return err
		}
	}
	if !v.Pass {
		return fmt.Errorf("verdict %s", v)
	}
	return nil
}

// scrapeProcess reads feedd's /metrics once (at most 5 s).
func scrapeProcess(ctx context.Context, c *Client) (SoakSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	fams, err := c.Families(ctx)
	if err != nil {
		return SoakSample{}, err
	}
	return processSample(fams)
}

// soakSamples samples feedd and the load every interval from start until
// d has passed (one last sample at d), on the caller's goroutine. A failed
// scrape leaves a gap and is counted.
func soakSamples(ctx context.Context, e *Env, c *Client, start time.Time, d, every time.Duration, base SoakSample,
	writes *pacer, reads *readPacer) ([]SoakSample, int, error) {
	var out []SoakSample
	failed := 0
	var lastErr error
	prevSent, prevFailed := 0, 0
	for k := 0; ; k++ {
		at := min(time.Duration(k)*every, d)
		select {
		case <-ctx.Done():
			return out, failed, lastErr
		case <-time.After(time.Until(start.Add(at))):
		}
		smp, err := scrapeProcess(ctx, c)
		sent, wf := writes.counts()
		n, re, sum := reads.take()
		if err != nil {
			failed++
			lastErr = err
		} else {
			smp.T = time.Since(start).Seconds()
			smp.Server5xx -= base.Server5xx
			smp.Writes, smp.WriteErrors = sent-prevSent, wf-prevFailed
			smp.Reads, smp.ReadErrors, smp.ReadP50, smp.ReadP99 = n, re, sum.P50, sum.P99
			smp.DataBytes = dirBytes(e.data)
			out = append(out, smp)
			e.logf("soak %5.0fs/%.0fs: heap %.1f MiB, RSS %.1f MiB, data %.1f MiB, %.0f goroutines, lag %.0f, %d writes, %d reads (p99 %.1f ms), errors %d+%d, 5xx %.0f",
				smp.T, d.Seconds(), smp.HeapInuse/mib, smp.RSS/mib, smp.DataBytes/mib, smp.Goroutines, smp.Lag, smp.Writes, smp.Reads, smp.ReadP99,
				smp.WriteErrors, smp.ReadErrors, smp.Server5xx)
		}
		prevSent, prevFailed = sent, wf
		if at >= d {
			return out, failed, lastErr
		}
	}
}

// soakSeries are the soak's plots: feedd's heap in use (with the windows'
// medians and the end window's limit), resident set and goroutines (with
// their limit), the request rates, read latency and the bus lag over time.
func soakSeries(ss []SoakSample, every time.Duration, v SoakVerdict, d time.Duration) []report.Series {
	mk := func(name, unit, group string, f func(SoakSample) float64) report.Series {
		r := report.Series{Name: name, Unit: unit, Group: group}
		for _, x := range ss {
			r.T, r.V = append(r.T, x.T), append(r.V, f(x))
		}
		return r
	}
	c := v.Criteria
	span := func(name, unit, group string, from, to, v float64) report.Series {
		return report.Series{Name: name, Unit: unit, Group: group, T: []float64{from * d.Seconds(), to * d.Seconds()}, V: []float64{v, v}}
	}
	per := every.Seconds()
	out := []report.Series{
		mk("heap in use", "MiB", "feedd Go heap in use", func(x SoakSample) float64 { return x.HeapInuse / mib }),
	}
	if v.WarmSamples > 0 && v.EndSamples > 0 {
		out = append(out,
			span("warm window median", "MiB", "feedd Go heap in use", c.WarmFrom, c.WarmTo, v.WarmHeap/mib),
			span("end window median", "MiB", "feedd Go heap in use", c.EndFrom, 1, v.EndHeap/mib),
			span("limit", "MiB", "feedd Go heap in use", c.EndFrom, 1, v.HeapLimit/mib))
	}
	out = append(out, mk("data folder", "MiB", "feedd data folder", func(x SoakSample) float64 { return x.DataBytes / mib }),
		mk("RSS", "MiB", "feedd resident set", func(x SoakSample) float64 { return x.RSS / mib }),
		mk("goroutines", "goroutines", "feedd goroutines", func(x SoakSample) float64 { return x.Goroutines }))
	if v.WarmSamples > 0 && v.EndSamples > 0 {
		out = append(out, span("limit", "goroutines", "feedd goroutines", c.EndFrom, 1, v.GoroutineLimit))
	}
	return append(out,
		mk("writes/s", "per second", "requests over time", func(x SoakSample) float64 { return float64(x.Writes) / per }),
		mk("reads/s", "per second", "requests over time", func(x SoakSample) float64 { return float64(x.Reads) / per }),
		mk("read p50", "ms", "read latency over time", func(x SoakSample) float64 { return x.ReadP50 }),
		mk("read p99", "ms", "read latency over time", func(x SoakSample) float64 { return x.ReadP99 }),
		mk("consumer lag", "events", "consumer lag", func(x SoakSample) float64 { return x.Lag }),
	)
}

// soakTable is the samples as a table.
func soakTable(ss []SoakSample, every time.Duration) report.Table {
	t := report.Table{Name: "soak samples (counts and latencies are per interval)",
		Columns: []string{"t s", "heap MiB", "RSS MiB", "data MiB", "goroutines", "lag", "writes/s", "reads/s", "read p50 ms", "read p99 ms", "errors", "feedd 5xx"}}
	per := every.Seconds()
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	f0 := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	for _, x := range ss {
		t.Rows = append(t.Rows, []string{f0(x.T), f1(x.HeapInuse / mib), f1(x.RSS / mib), f1(x.DataBytes / mib), f0(x.Goroutines), f0(x.Lag),
			f0(float64(x.Writes) / per), f0(float64(x.Reads) / per), f1(x.ReadP50), f1(x.ReadP99),
			strconv.Itoa(x.ReadErrors + x.WriteErrors), f0(x.Server5xx)})
	}
	return t
}

// writeSoakJSON writes the soak's own summary: the verdict, its criteria,
// the figures and every sample.
func writeSoakJSON(path string, e *Env, s *report.Scenario, v SoakVerdict, ss []SoakSample) error {
	verdict := "PASS"
	if !v.Pass {
		verdict = "FAIL"
	}
	c := v.Criteria
	doc := map[string]any{
		"verdict": verdict, "pass": v.Pass, "reasons": v.Reasons, "checks": v.Checks,
		"heap_slope_bytes_per_min": v.HeapSlope,
		"windows": map[string]any{"warm_from": c.WarmFrom, "warm_to": c.WarmTo, "end_from": c.EndFrom,
			"warm_samples": v.WarmSamples, "end_samples": v.EndSamples,
			"warm_heap_median_bytes": v.WarmHeap, "end_heap_median_bytes": v.EndHeap, "heap_limit_bytes": v.HeapLimit,
			"warm_rss_median_bytes": v.WarmRSS, "end_rss_median_bytes": v.EndRSS,
			"warm_goroutines_max": v.WarmGoroutinesMax, "end_goroutines_median": v.EndGoroutines, "goroutine_limit": v.GoroutineLimit},
		"criteria": map[string]any{"heap_growth": c.HeapGrowth, "heap_floor_bytes": c.HeapFloor,
			"rss_growth": c.RSSGrowth, "rss_floor_bytes": c.RSSFloor, "goroutine_slack": c.GoroutineSlack,
			"max_errors": c.MaxErrors, "max_end_lag": c.MaxEndLag},
		"settings": map[string]any{"target": e.Opts.Target.Name(), "rate": e.Opts.Rate, "read_rate": e.Opts.ReadRate,
			"workers": e.Opts.Clients, "duration_s": e.Opts.SoakDuration.Seconds(), "interval_s": e.Opts.SoakInterval.Seconds(),
			"users": e.Graph.Config.Users, "order": e.Opts.Order, "limit": e.Opts.Limit},
		"figures": s.Figures, "notes": s.Notes, "samples": ss,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode soak summary: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func round1(v float64) float64 {
	if math.IsInf(v, 0) {
		return v
	}
	return math.Round(v*10) / 10
}
