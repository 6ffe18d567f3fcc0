package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/health"
	"github.com/lenta-dev/lenta/supervise"
)

// lifecycleOptions are the flags of the supervised lifecycle.
type lifecycleOptions struct {
	unhealthyAfter time.Duration
	fanoutFault    time.Duration
}

func addLifecycleFlags(fs *flag.FlagSet, l *lifecycleOptions) {
	fs.DurationVar(&l.unhealthyAfter, "unhealthy-after", 10*time.Second, "a part (store, fanout, push, ...) failing longer than this makes /healthz answer 503 naming it")
	fs.DurationVar(&l.fanoutFault, "test-fanout-fault", 0, "TESTS ONLY: the fan-out consumer fails permanently after this long (0: never)")
}

// lifecycle is the process's supervisor and health registry. A part is
// added with one line: lc.group.Add("name", part.Run).
type lifecycle struct {
	health *health.Registry
	group  *supervise.Group
}

func newLifecycle(o lifecycleOptions, log *slog.Logger) *lifecycle {
	reg := health.New(o.unhealthyAfter, nil)
	return &lifecycle{health: reg, group: &supervise.Group{Log: log, Health: reg}}
}

// probe adds a part that checks the named dependency every second, so
// /healthz goes 503 once it has been failing past --unhealthy-after.
func (lc *lifecycle) probe(name string, check func(context.Context) error) {
	lc.group.Add(name, health.Probe(lc.health.Part(name), time.Second, 2*time.Second, check))
}

// probeDown adds a part like probe whose failure makes /healthz 503 at
// once: for states that do not pass by retrying (a full disk).
func (lc *lifecycle) probeDown(name string, check func(context.Context) error) {
	lc.group.Add(name, health.ProbeDown(lc.health.Part(name), time.Second, 2*time.Second, check))
}

// healthObserver tells the "fanout" part whether batches apply or retry.
type healthObserver struct {
	fanout.Observer
	part *health.Part
}

func (o healthObserver) Applied(events, deliveries int) {
	o.Observer.Applied(events, deliveries)
	o.part.OK()
}

func (o healthObserver) Retried(err error) {
	o.Observer.Retried(err)
	o.part.Failing(err)
}

// withFault makes consume fail after d (the --test-fanout-fault flag).
func withFault(consume func(context.Context, func(context.Context, [][]byte) error) error, d time.Duration) func(context.Context, func(context.Context, [][]byte) error) error {
	if d <= 0 {
		return consume
	}
	return func(ctx context.Context, process func(context.Context, [][]byte) error) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		fault := errors.New("test fault: --test-fanout-fault")
		t := time.AfterFunc(d, func() { cancel(fault) })
		defer t.Stop()
		err := consume(ctx, process)
		if context.Cause(ctx) == fault {
			return fmt.Errorf("consumer: %w", fault)
		}
		return err
	}
}
