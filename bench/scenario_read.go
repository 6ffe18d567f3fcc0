package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/timeline"
)

var readScenario = Scenario{
	Name: "read",
	Help: "feed pages under --clients concurrent fasthttp clients, --duration per phase: ranked first pages, ranked next pages (cursors), recent pages; req/s and p50/p99 against the targets; the ranked order cache's hit rate; the same reads straight from the store in-process (ceilings)",
	Run:  runRead,
}

func (e *Env) randomUser(r *rand.Rand) int64 { return 1 + r.Int64N(int64(e.Graph.Config.Users)) }

// Read targets (issue 12), embedded, bench client on the same 2 cores.
const (
	targetRankedRate = 10_000 // ranked pages/s, first and next
	targetRankedP99  = 20     // ms
	targetRecentRate = 15_000 // recent pages/s
	targetRecentP99  = 15     // ms
	targetCeilRatio  = 0.7    // HTTP ranked / in-process ranked
	// targetMixedRankedP99 bounds ranked reads while writes run at half
	// of peak (the mixed scenario), ms.
	targetMixedRankedP99 = 50
)

// cursorBag collects ranked cursors during the first-page phase for the
// next-page phase to follow.
type cursorBag struct {
	mu   sync.Mutex
	list []userCursor
}

type userCursor struct {
	user   int64
	cursor string
}

const maxCursors = 20_000

func (b *cursorBag) add(u int64, c string) {
	if c == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.list) < maxCursors {
		b.list = append(b.list, userCursor{u, c})
	}
}

func runRead(ctx context.Context, e *Env, s *report.Scenario) error {
	if err := e.fill(ctx); err != nil {
		return err
	}
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	clients := e.Opts.Clients
	s.Add("clients", float64(clients), "connections")
	real := e.Opts.Target.Real()
	target := func(name string, v float64, unit string, atLeast bool, bound float64) {
		if real {
			s.Add(name, v, unit) // the targets are for the embedded store
		} else {
			s.AddTarget(name, v, unit, atLeast, bound)
		}
	}
	readersOf := func(order string) []*Reader {
		rs := make([]*Reader, clients)
		for i := range rs {
			rs[i] = c.NewReader(order)
		}
		return rs
	}

	// Ranked first pages. A short unmeasured warm-up first, as the
	// ceilings get: connections, the block cache, the first orders.
	ranked := readersOf("ranked")
	var bag cursorBag
	first := func(ctx context.Context, w int, u int64) error {
		_, next, err := ranked[w].Load(ctx, u, "", e.Opts.Limit)
		bag.add(u, next)
		return err
	}
	e.logf("read: warm-up, then ranked first pages, %d clients for %v over HTTP", clients, e.Opts.Duration)
	readLoad(ctx, clients, e.Opts.Duration/4, 5, e.randomUser, first)
	before, err := c.Metrics(ctx)
	if err != nil {
		return err
	}
	rf := readLoad(ctx, clients, e.Opts.Duration, 11, e.randomUser, first)
	after, err := c.Metrics(ctx)
	if err != nil {
		return err
	}
	if rf.requests == 0 {
		return fmt.Errorf("no ranked read succeeded: %v", rf.firstErr)
	}
	rfRate := float64(rf.requests) / rf.seconds
	rfSum := rf.lat.Summarize()
	target("HTTP ranked first pages", rfRate, "req/s", true, targetRankedRate)
	target("HTTP ranked first p99", rfSum.P99, "ms", false, targetRankedP99)
	s.Add("HTTP ranked first p50", rfSum.P50, "ms")
	s.Add("HTTP ranked first errors", float64(rf.errors), "requests")
	const hitKey, missKey = `lenta_ranked_pages_total{cache="hit",page="first"}`, `lenta_ranked_pages_total{cache="miss",page="first"}`
	if hits, misses := after[hitKey]-before[hitKey], after[missKey]-before[missKey]; hits+misses > 0 {
		s.Add("ranked order cache: first-page hit rate", hits/(hits+misses), "ratio")
		s.Add("ranked order cache: held", after["lenta_ranked_cache_bytes"]/(1<<20), "MiB")
		s.Add("ranked order cache: orders held", after["lenta_ranked_cache_orders"], "viewers")
	}
	const bcHit, bcMiss = `lenta_store_block_cache_requests_total{result="hit"}`, `lenta_store_block_cache_requests_total{result="miss"}`
	if hits, misses := after[bcHit]-before[bcHit], after[bcMiss]-before[bcMiss]; hits+misses > 0 {
		s.Add("store block cache: hit rate (ranked first pages)", hits/(hits+misses), "ratio")
	}
	s.Histograms = append(s.Histograms, report.Samples{Name: "HTTP ranked first page latency histogram", Millis: rf.lat.Millis(5000)})
	s.Latencies = append(s.Latencies, report.Samples{Name: "HTTP ranked first page", Millis: rf.lat.Millis(2000)})
	if rf.firstErr != nil {
		s.Note("first ranked read error: %v", rf.firstErr)
	}

	// Ranked next pages: the cursors the first pages handed out.
	if len(bag.list) > 0 {
		pick := func(r *rand.Rand) int64 { return int64(r.IntN(len(bag.list))) }
		next := func(ctx context.Context, w int, i int64) error {
			uc := bag.list[i]
			_, _, err := ranked[w].Load(ctx, uc.user, uc.cursor, e.Opts.Limit)
			return err
		}
		e.logf("read: ranked next pages (%d cursors)", len(bag.list))
		rn := readLoad(ctx, clients, e.Opts.Duration, 13, pick, next)
		if rn.requests == 0 {
			return fmt.Errorf("no ranked next page succeeded: %v", rn.firstErr)
		}
		rnSum := rn.lat.Summarize()
		target("HTTP ranked next pages", float64(rn.requests)/rn.seconds, "req/s", true, targetRankedRate)
		target("HTTP ranked next p99", rnSum.P99, "ms", false, targetRankedP99)
		s.Add("HTTP ranked next p50", rnSum.P50, "ms")
		s.Add("HTTP ranked next errors", float64(rn.errors), "requests")
		s.Latencies = append(s.Latencies, report.Samples{Name: "HTTP ranked next page", Millis: rn.lat.Millis(2000)})
		if rn.firstErr != nil {
			s.Note("first ranked next-page error: %v", rn.firstErr)
		}
	} else {
		s.Note("no ranked first page handed out a cursor: the feeds fit one page of %d", e.Opts.Limit)
	}

	// Recent pages.
	recent := readersOf("recent")
	e.logf("read: recent pages")
	rr := readLoad(ctx, clients, e.Opts.Duration, 17, e.randomUser, func(ctx context.Context, w int, u int64) error {
		_, _, err := recent[w].Load(ctx, u, "", e.Opts.Limit)
		return err
	})
	if rr.requests == 0 {
		return fmt.Errorf("no recent read succeeded: %v", rr.firstErr)
	}
	rrSum := rr.lat.Summarize()
	target("HTTP recent pages", float64(rr.requests)/rr.seconds, "req/s", true, targetRecentRate)
	target("HTTP recent p99", rrSum.P99, "ms", false, targetRecentP99)
	s.Add("HTTP recent p50", rrSum.P50, "ms")
	s.Add("HTTP recent errors", float64(rr.errors), "requests")
	s.Latencies = append(s.Latencies, report.Samples{Name: "HTTP recent page", Millis: rr.lat.Millis(2000)})

	// Ceilings: the same reads, users and concurrency, straight from the
	// store in this process. Embedded, feedd must let go of the Pebble
	// folder first (it restarts on the same data when needed).
	if !real {
		rss, err := e.StopFeedd()
		if err != nil {
			return err
		}
		s.Add("feedd peak RSS", float64(rss)/(1<<20), "MiB")
	}
	rs, closeStore, err := e.readStore(ctx)
	if err != nil {
		return fmt.Errorf("open the store for the read ceilings: %w", err)
	}
	defer closeStore()
	ceiling := func(name string, seed uint64, page func(ctx context.Context, _ int, u int64) error) (float64, error) {
		readLoad(ctx, clients, e.Opts.Duration/4, seed+1, e.randomUser, page) // warm the caches, unmeasured
		res := readLoad(ctx, clients, e.Opts.Duration/2, seed, e.randomUser, page)
		if res.requests == 0 {
			return 0, fmt.Errorf("no in-process %s read succeeded: %v", name, res.firstErr)
		}
		rate := float64(res.requests) / res.seconds
		sum := res.lat.Summarize()
		s.Add("ceiling: "+name+" in-process", rate, "pages/s")
		s.Add("ceiling: "+name+" p99", sum.P99, "ms")
		s.Latencies = append(s.Latencies, report.Samples{Name: "in-process " + name + " (ceiling)", Millis: res.lat.Millis(2000)})
		return rate, nil
	}
	rankedCeil, err := ceiling("ranking.Reader.Ranked (first pages)", 11, func(ctx context.Context, _ int, u int64) error {
		_, err := rs.ranked.Ranked(ctx, u, "", e.Opts.Limit, false)
		return err
	})
	if err != nil {
		return err
	}
	recentCeil, err := ceiling("timeline.Reader.Page (recent)", 17, func(ctx context.Context, _ int, u int64) error {
		_, err := rs.recent.Page(ctx, u, timeline.Position{}, e.Opts.Limit)
		return err
	})
	if err != nil {
		return err
	}
	target("HTTP / in-process, ranked first pages", rfRate/rankedCeil, "ratio", true, targetCeilRatio)
	s.Add("HTTP / in-process, recent", float64(rr.requests)/rr.seconds/recentCeil, "ratio")
	s.Note("the HTTP client (fasthttp, msgpack) runs on the same 2 cores as feedd and takes part of them; the in-process ranked reader has its own order cache of feedd's default size")
	return nil
}
