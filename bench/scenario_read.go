package bench

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/timeline"
)

var readScenario = Scenario{
	Name: "read",
	Help: "feed pages (--order, --limit) under --clients concurrent fasthttp clients for --duration; req/s and p50/p99; the same pages read straight from the store in-process (ceiling)",
	Run:  runRead,
}

func (e *Env) randomUser(r *rand.Rand) int64 { return 1 + r.Int64N(int64(e.Graph.Config.Users)) }

func runRead(ctx context.Context, e *Env, s *report.Scenario) error {
	if err := e.fill(ctx); err != nil {
		return err
	}
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	readers := make([]*Reader, e.Opts.Clients)
	for i := range readers {
		readers[i] = c.NewReader(e.Opts.Order)
	}
	e.logf("read: %d clients for %v over HTTP", e.Opts.Clients, e.Opts.Duration)
	res := readLoad(ctx, e.Opts.Clients, e.Opts.Duration, 11, e.randomUser, func(ctx context.Context, w int, u int64) error {
		_, err := readers[w].Page(ctx, u, e.Opts.Limit)
		return err
	})
	if res.requests == 0 {
		return fmt.Errorf("no read succeeded: %v", res.firstErr)
	}
	rate := float64(res.requests) / res.seconds
	sum := res.lat.Summarize()
	order := e.Opts.Order
	if order == "" {
		order = "default"
	}
	s.Add("clients", float64(e.Opts.Clients), "connections")
	if e.Opts.Target.Real() {
		s.Add("HTTP feed pages ("+order+")", rate, "req/s")
		s.Add("HTTP p99", sum.P99, "ms")
	} else {
		s.AddTarget("HTTP feed pages ("+order+")", rate, "req/s", true, 10_000)
		s.AddTarget("HTTP p99", sum.P99, "ms", false, 20)
	}
	s.Add("HTTP p50", sum.P50, "ms")
	s.Add("HTTP p95", sum.P95, "ms")
	s.Add("HTTP max", sum.Max, "ms")
	s.Add("HTTP errors", float64(res.errors), "requests")
	if res.firstErr != nil {
		s.Note("first read error: %v", res.firstErr)
	}
	s.Histograms = append(s.Histograms, report.Samples{Name: "HTTP read latency histogram", Millis: res.lat.Millis(5000)})
	s.Latencies = append(s.Latencies, report.Samples{Name: "HTTP page", Millis: res.lat.Millis(2000)})
	if order != "ranked" {
		s.Note("the target is for ranked pages; this run read order=%s (--order ranked reads the ranked feed)", order)
	}

	// Ceiling: the same pages, the same users and concurrency, straight
	// from the store in this process. Embedded, feedd must let go of the
	// Pebble folder first (it restarts on the same data when needed).
	if !e.Opts.Target.Real() {
		rss, err := e.StopFeedd()
		if err != nil {
			return err
		}
		s.Add("feedd peak RSS", float64(rss)/(1<<20), "MiB")
	}
	feed, closeStore, err := e.readStore(ctx)
	if err != nil {
		return fmt.Errorf("open the store for the read ceiling: %w", err)
	}
	defer closeStore()
	page := func(ctx context.Context, _ int, u int64) error {
		_, err := feed.Page(ctx, u, timeline.Position{}, e.Opts.Limit)
		return err
	}
	readLoad(ctx, e.Opts.Clients, e.Opts.Duration/4, 17, e.randomUser, page) // warm the caches, unmeasured
	ceil := readLoad(ctx, e.Opts.Clients, e.Opts.Duration/2, 11, e.randomUser, page)
	if ceil.requests == 0 {
		return fmt.Errorf("no in-process read succeeded: %v", ceil.firstErr)
	}
	crate := float64(ceil.requests) / ceil.seconds
	csum := ceil.lat.Summarize()
	s.Add("ceiling: timeline.Reader.Page (recent) in-process", crate, "pages/s")
	s.Add("ceiling p50", csum.P50, "ms")
	s.Add("ceiling p99", csum.P99, "ms")
	s.Add("HTTP / in-process (req/s)", rate/crate, "ratio")
	s.Latencies = append(s.Latencies, report.Samples{Name: "in-process Reader.Page (ceiling)", Millis: ceil.lat.Millis(2000)})
	s.Note("the HTTP client (fasthttp, msgpack) runs on the same 2 cores as feedd and takes part of them")
	return nil
}
