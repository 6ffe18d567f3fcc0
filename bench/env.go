package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/bench/workload"
	"github.com/lenta-dev/lenta/feeddproc"
	"github.com/lenta-dev/lenta/schema"
)

// Options are the knobs of a run (cmd/feedbench's flags).
type Options struct {
	Target   Target
	Workload workload.Config
	Mix      workload.Mix
	// Events is how many events the fan-out scenario publishes (and the
	// read scenario publishes to fill timelines when fan-out did not run).
	Events int
	// Batch is the events per POST /v1/events; Publishers publish at once.
	Batch, Publishers int
	// Partitions and FeeddBatch pass through to feedd (0: its defaults).
	Partitions, FeeddBatch int
	// LargeThreshold for feedd; 0: the graph's suggested threshold.
	LargeThreshold int64
	// Order is passed through as order= on feed reads (empty: none).
	Order string
	// Fraction of peak load that latency and mixed run at.
	Fraction float64
	// Duration of the timed phases (latency, read, mixed).
	Duration time.Duration
	// Clients are concurrent readers; Limit the page size.
	Clients, Limit int
	// ProbeRate is latency probes per second.
	ProbeRate float64
	// Followers of the large author, and how many of them are checked.
	Followers, Sample int
	// PushSubs is how many users the push scenario subscribes, Pushes
	// how many gifts (one push each) it publishes.
	PushSubs, Pushes int
	// CeilingRows caps the rows written by the write ceilings.
	CeilingRows int
	// Interval between /metrics samples.
	Interval time.Duration
	// Rate (events/s) and ReadRate (pages/s) are the soak's steady load,
	// SoakDuration its length and SoakInterval the time between its
	// samples of feedd's heap, goroutines and resident set.
	Rate, ReadRate             float64
	SoakDuration, SoakInterval time.Duration
	// SoakGoroutineSlack is how many goroutines the soak's end window may
	// hold above its warm window's maximum (0: DefaultSoakCriteria's).
	SoakGoroutineSlack float64
	// SoakRetention, when positive, is the retention of every purged table
	// of the embedded feedd (--ledger-retention, --notify-retention); the
	// soak then also checks that the data folder is flat after it.
	SoakRetention time.Duration
	// WorkDir holds data folders and logs; FeeddBin is the binary.
	WorkDir, FeeddBin string
	// LogDir receives feedd's logs (kept after the run).
	LogDir string
	// Secret is FEED_AUTH_SECRET for feedd.
	Secret string
	// Progress receives progress bars and Log phase messages (nil: quiet).
	Progress, Log io.Writer
}

// Env is the state scenarios of one run share: the graph, the running
// feedd, the measured peak. It is used by one goroutine.
type Env struct {
	Opts  Options
	Graph *workload.Graph
	Run   *report.Run

	feedd     *feeddproc.Proc
	client    *Client
	data      string // data folder (embedded) of the shared feedd
	starts    int
	loaded    bool // the graph is in the shared feedd's store
	filled    bool // timelines have items
	stream    *workload.Stream
	published []schema.Event // the fan-out scenario's events (ceiling rows)
	peak      float64        // applied events/s at full load (0: unknown)
	threshold int64
	rng       *rand.Rand
}

// NewEnv generates the graph.
func NewEnv(o Options, run *report.Run) (*Env, error) {
	g, err := workload.NewGraph(o.Workload)
	if err != nil {
		return nil, err
	}
	e := &Env{Opts: o, Graph: g, Run: run, data: filepath.Join(o.WorkDir, "feedd-data"),
		stream: workload.NewStream(g, o.Mix, 1), rng: rand.New(rand.NewPCG(g.Config.Seed, 7))}
	e.threshold = o.LargeThreshold
	if e.threshold <= 0 {
		e.threshold = g.SuggestedThreshold()
	}
	return e, nil
}

// Threshold is the --large-threshold feedd runs with.
func (e *Env) Threshold() int64 { return e.threshold }

func (e *Env) logf(format string, args ...any) {
	if e.Opts.Log != nil {
		fmt.Fprintf(e.Opts.Log, format+"\n", args...)
	}
}

// feeddArgs are the flags every feedd of the run gets.
func (e *Env) feeddArgs(threshold int64) []string {
	args := []string{"--large-threshold", strconv.FormatInt(threshold, 10)}
	if e.Opts.Partitions > 0 {
		args = append(args, "--partitions", strconv.Itoa(e.Opts.Partitions))
	}
	if e.Opts.FeeddBatch > 0 {
		args = append(args, "--batch", strconv.Itoa(e.Opts.FeeddBatch))
	}
	return append(args, soakRetentionArgs(e.Opts.SoakRetention)...)
}

// Feedd returns the shared feedd, starting it (and loading the graph
// through the API the first time) when it is not running.
func (e *Env) Feedd(ctx context.Context) (*feeddproc.Proc, *Client, error) {
	if e.feedd != nil {
		return e.feedd, e.client, nil
	}
	e.starts++
	if err := os.MkdirAll(e.data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data folder: %w", err)
	}
	f, err := StartFeedd(ctx, FeeddConfig{Bin: e.Opts.FeeddBin, Data: e.data, Target: e.Opts.Target,
		Secret: e.Opts.Secret, Args: e.feeddArgs(e.threshold),
		LogPath: filepath.Join(e.Opts.LogDir, fmt.Sprintf("feedd-%d.log", e.starts))})
	if err != nil {
		return nil, nil, err
	}
	c, err := NewClient(f.Base(), e.Opts.Secret)
	if err != nil {
		_ = f.Stop()
		return nil, nil, err
	}
	e.feedd, e.client = f, c
	if !e.loaded {
		if err := e.loadGraph(ctx); err != nil {
			return nil, nil, fmt.Errorf("load the graph: %w", err)
		}
		e.loaded = true
	}
	return f, c, nil
}

// StopFeedd stops the shared feedd (if running) and returns its peak RSS.
func (e *Env) StopFeedd() (int64, error) {
	if e.feedd == nil {
		return 0, nil
	}
	f := e.feedd
	e.feedd, e.client = nil, nil
	err := f.Stop()
	return f.PeakRSS(), err
}

// loadGraph publishes every friend and follow of the graph through the
// API and waits until the pipeline has applied them.
func (e *Env) loadGraph(ctx context.Context) error {
	evs := e.Graph.GraphEvents(time.Now().UnixMilli())
	e.logf("loading the graph through POST /v1/events: %d friend/follow events", len(evs))
	start := time.Now()
	base, err := readCounters(ctx, e.client)
	if err != nil {
		return err
	}
	if _, err := e.publishAll(ctx, evs, "graph: publish"); err != nil {
		return err
	}
	if _, err := e.waitApplied(ctx, base.Applied+float64(len(evs)), 10*time.Minute, "graph: apply", int64(len(evs)), base.Applied); err != nil {
		return err
	}
	e.logf("graph loaded in %.1fs", time.Since(start).Seconds())
	return nil
}

// publishAll publishes evs in batches on Publishers goroutines (bounded by
// the count of evs and by 10 minutes) and returns how long it took.
func (e *Env) publishAll(ctx context.Context, evs []schema.Event, label string) (time.Duration, error) {
	return e.publishTo(ctx, e.client, evs, label, nil)
}

// publishTo is publishAll to the feedd of c; sending (when not nil) is
// called with each batch's bounds just before it is posted.
func (e *Env) publishTo(ctx context.Context, c *Client, evs []schema.Event, label string, sending func(lo, hi int)) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	batch := max(1, min(e.Opts.Batch, schema.MaxBatch))
	n := (len(evs) + batch - 1) / batch
	jobs := make(chan int)
	errc := make(chan error, e.Opts.Publishers)
	done := make(chan int, n)
	start := time.Now()
	for range max(1, e.Opts.Publishers) {
		go func() {
			for i := range jobs {
				lo, hi := i*batch, min((i+1)*batch, len(evs))
				if sending != nil {
					sending(lo, hi)
				}
				if err := c.Publish(ctx, evs[lo:hi]); err != nil {
					errc <- err
					cancel()
					for range jobs { // drain so the feeder ends
					}
					return
				}
				done <- hi - lo
			}
			errc <- nil
		}()
	}
	p := NewProgress(e.Opts.Progress, label, int64(len(evs)))
	sent := int64(0)
	go func() { // the feeder; ends when every job is handed out or ctx ends
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var first error
	for finished := 0; finished < max(1, e.Opts.Publishers); {
		select {
		case k := <-done:
			sent += int64(k)
			p.Set(sent)
		case err := <-errc:
			finished++
			if err != nil && first == nil {
				first = err
			}
		}
	}
	p.Done()
	if first != nil {
		return 0, first
	}
	return time.Since(start), nil
}

// waitApplied waits until the pipeline's consumed count reaches target.
func (e *Env) waitApplied(ctx context.Context, target float64, limit time.Duration, label string, total int64, base float64) (time.Time, error) {
	return e.waitAppliedOn(ctx, e.client, target, limit, label, total, base)
}

// waitAppliedOn is waitApplied on the feedd of c.
func (e *Env) waitAppliedOn(ctx context.Context, c *Client, target float64, limit time.Duration, label string, total int64, base float64) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p := NewProgress(e.Opts.Progress, label, total)
	defer p.Done()
	for {
		s, err := readCounters(ctx, c)
		if err == nil {
			p.Set(int64(s.Applied - base))
			if s.Applied >= target {
				return s.At, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("the pipeline did not apply %d events within %v (last error %v): %w", total, limit, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// events draws n events from the run's stream, stamped now.
func (e *Env) events(n int) []schema.Event {
	ts := time.Now().UnixMilli()
	out := make([]schema.Event, n)
	for i := range out {
		out[i] = e.stream.Next(ts)
	}
	return out
}

// fill publishes the fan-out workload once, so timelines have items.
func (e *Env) fill(ctx context.Context) error {
	if e.filled {
		return nil
	}
	_, c, err := e.Feedd(ctx)
	if err != nil {
		return err
	}
	base, err := readCounters(ctx, c)
	if err != nil {
		return err
	}
	evs := e.events(e.Opts.Events)
	if _, err := e.publishAll(ctx, evs, "fill: publish"); err != nil {
		return err
	}
	if _, err := e.waitApplied(ctx, base.Applied+float64(len(evs)), 10*time.Minute, "fill: apply", int64(len(evs)), base.Applied); err != nil {
		return err
	}
	e.filled = true
	return nil
}

// errSkip marks a scenario that does not apply to the target.
var errSkip = errors.New("skipped")
