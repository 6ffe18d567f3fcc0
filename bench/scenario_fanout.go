package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
)

var fanoutScenario = Scenario{
	Name: "fanout",
	Help: "publish --events as fast as the API takes them; events/s and timeline deliveries/s sustained, consumer lag over time; the same rows written straight into the store (ceiling)",
	Run:  runFanout,
}

func runFanout(ctx context.Context, e *Env, s *report.Scenario) error {
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	evs := e.events(e.Opts.Events)
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	sampler := StartSampler(ctx, c, e.Opts.Interval, 15*time.Minute)
	start := time.Now()
	pubDur, err := e.publishAll(ctx, evs, "fanout: publish")
	if err != nil {
		sampler.Stop()
		return err
	}
	end, err := e.waitApplied(ctx, base.Applied+float64(len(evs)), 10*time.Minute, "fanout: drain", int64(len(evs)), base.Applied)
	samples := sampler.Stop()
	if err != nil {
		return err
	}
	last, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	e.published, e.filled = evs, true
	elapsed := end.Sub(start).Seconds()
	deliveries := last.Deliveries - base.Deliveries
	evRate := float64(len(evs)) / elapsed
	dRate := deliveries / elapsed
	e.peak = evRate
	s.Add("events", float64(len(evs)), "events")
	s.Add("ingest (POST /v1/events accepted)", float64(len(evs))/pubDur.Seconds(), "events/s")
	s.Add("fan-out applied, sustained (first publish to drained)", evRate, "events/s")
	s.Add("timeline deliveries", deliveries, "rows")
	s.Add("deliveries per event", deliveries/float64(len(evs)), "rows")
	if e.Opts.Target.Real() {
		s.Add("deliveries, sustained", dRate, "rows/s")
	} else {
		s.AddTarget("deliveries, sustained", dRate, "rows/s", true, 250_000)
	}
	series := rateSeries(samples, start)
	s.Series = append(s.Series, series...)
	busy := busyRates(samples)
	if len(busy) > 0 {
		s.Add("deliveries, median 2 s window while backlogged", busy[len(busy)/2], "rows/s")
		s.Add("deliveries, best 2 s window", busy[len(busy)-1], "rows/s")
	}
	maxLag := 0.0
	for _, x := range samples {
		maxLag = max(maxLag, x.Lag)
	}
	s.Add("max consumer lag", maxLag, "events")
	s.Add("drain after publishing ended", end.Sub(start).Seconds()-pubDur.Seconds(), "s")

	// The ceiling: the same rows, straight into the store, same concurrency.
	ce, err := e.writeCeiling(ctx, evs)
	if err != nil {
		return fmt.Errorf("write ceiling: %w", err)
	}
	s.Add("ceiling: "+ce.what, ce.rowsPerSec, "rows/s")
	s.Add("ceiling rows written", float64(ce.rows), "rows")
	s.Add("ceiling concurrency", float64(ce.workers), "writers")
	ratio := dRate / ce.rowsPerSec
	if e.Opts.Target.Real() {
		s.AddTarget("pipeline / ceiling (deliveries)", ratio, "ratio", true, 0.85)
	} else {
		s.Add("pipeline / ceiling (deliveries)", ratio, "ratio")
	}
	s.Note("the pipeline's sustained rate includes HTTP ingest, the durable log or Kafka, decoding, the ledger, graph reads and object writes; the ceiling writes only the timeline rows")
	return nil
}

// rateSeries turns counter samples into per-interval rates.
func rateSeries(samples []Sample, start time.Time) []report.Series {
	ev := report.Series{Name: "events applied/s", Unit: "per second", Group: "throughput over time"}
	dl := report.Series{Name: "deliveries/s", Unit: "per second", Group: "throughput over time"}
	lag := report.Series{Name: "consumer lag", Unit: "events", Group: "consumer lag"}
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		dt := b.At.Sub(a.At).Seconds()
		if dt <= 0 {
			continue
		}
		t := b.At.Sub(start).Seconds()
		ev.T, ev.V = append(ev.T, t), append(ev.V, (b.Applied-a.Applied)/dt)
		dl.T, dl.V = append(dl.T, t), append(dl.V, (b.Deliveries-a.Deliveries)/dt)
	}
	for _, x := range samples {
		lag.T, lag.V = append(lag.T, x.At.Sub(start).Seconds()), append(lag.V, x.Lag)
	}
	return []report.Series{dl, ev, lag}
}

// busyWindow is the span the busy rates are taken over: long enough to
// hold several fan-out batches (the counters move once per batch).
const busyWindow = 2 * time.Second

// busyRates are the deliveries/s over busyWindow spans in which the
// consumer had a backlog at both ends (it was never idle), ascending.
func busyRates(samples []Sample) []float64 {
	var out []float64
	j := 0
	for i := 1; i < len(samples); i++ {
		b := samples[i]
		for j < i && b.At.Sub(samples[j].At) > busyWindow {
			j++
		}
		if j == 0 || j >= i {
			continue
		}
		a := samples[j-1]
		dt := b.At.Sub(a.At).Seconds()
		if dt < busyWindow.Seconds() || a.Lag <= 0 || b.Lag <= 0 {
			continue
		}
		out = append(out, (b.Deliveries-a.Deliveries)/dt)
	}
	slices.Sort(out)
	return out
}
