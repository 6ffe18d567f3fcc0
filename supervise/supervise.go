package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lenta-dev/lenta/health"
)

// DefaultStopTimeout bounds how long one part may take to return once
// asked to stop.
const DefaultStopTimeout = 30 * time.Second

// ErrExited is a part's failure when it returned nil before being asked to
// stop: a long-running part must not end on its own.
var ErrExited = errors.New("exited before shutdown")

// Group is a set of parts. Add them, then Run once.
type Group struct {
	// Log, if set, is told why the group stops.
	Log *slog.Logger
	// Health, if set, gets each part registered (OK) at Add and marked
	// Stopped when it returns.
	Health *health.Registry
	// StopTimeout bounds each part's stop (default DefaultStopTimeout).
	StopTimeout time.Duration

	parts []part
}

type part struct {
	name string
	run  func(ctx context.Context) error
}

// Add adds a part. run must block until its ctx ends (then return nil or
// ctx's error) or until it fails (then return why). Parts are stopped in the
// order they were added: add the HTTP server first so it drains before the
// parts behind it stop.
func (g *Group) Add(name string, run func(ctx context.Context) error) {
	if g.Health != nil {
		g.Health.Part(name)
	}
	g.parts = append(g.parts, part{name: name, run: run})
}

type exit struct {
	name string
	err  error
}

// Run starts every part and blocks until all have returned. It returns nil
// on a clean stop (ctx ended), the first failing part's error (prefixed
// with its name) otherwise, joined with any part's error while stopping.
func (g *Group) Run(ctx context.Context) error {
	log := g.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stopTimeout := g.StopTimeout
	if stopTimeout <= 0 {
		stopTimeout = DefaultStopTimeout
	}
	type running struct {
		cancel  context.CancelFunc
		done    chan struct{}
		stopErr error // set before done closes, when the part returned on request
	}
	var eg errgroup.Group
	exits := make(chan exit, len(g.parts))
	rs := make([]*running, len(g.parts))
	for i, p := range g.parts {
		// Each part has its own context: it is stopped when its turn comes,
		// not when the signal arrives.
		pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r := &running{cancel: cancel, done: make(chan struct{})}
		rs[i] = r
		eg.Go(func() error {
			defer close(r.done)
			err := p.run(pctx)
			if g.Health != nil {
				g.Health.Part(p.name).Stopped(err)
			}
			if pctx.Err() == nil {
				if err == nil {
					err = ErrExited
				}
				exits <- exit{p.name, err}
				return nil
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				r.stopErr = fmt.Errorf("%s: stop: %w", p.name, err)
			}
			return nil
		})
	}
	var first error
	select {
	case <-ctx.Done():
		log.Info("supervise: stopping on request")
	case e := <-exits:
		first = fmt.Errorf("%s: %w", e.name, e.err)
		log.Error("supervise: part failed; stopping the others", "part", e.name, "err", e.err)
	}
	errs := []error{first}
	for i, r := range rs {
		r.cancel()
		select {
		case <-r.done:
			errs = append(errs, r.stopErr)
		case <-time.After(stopTimeout):
			err := fmt.Errorf("%s: did not stop within %v", g.parts[i].name, stopTimeout)
			log.Error("supervise: part did not stop", "part", g.parts[i].name, "timeout", stopTimeout)
			// Its goroutine is left to the process exit that follows.
			return errors.Join(append(errs, err)...)
		}
	}
	_ = eg.Wait()
	close(exits)
	for e := range exits { // parts that failed on their own while others stopped
		errs = append(errs, fmt.Errorf("%s: %w", e.name, e.err))
	}
	return errors.Join(errs...)
}
