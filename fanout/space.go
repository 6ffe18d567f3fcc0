package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// ErrNoSpace marks a refusal because the store's disk is below its free
// space watermark. Nothing was written; the same batch may be sent again
// once space returns. Match it with errors.Is; errors.As with *NoSpaceError
// gives the figures.
var ErrNoSpace = errors.New("not enough free disk space")

// NoSpaceError says how much space is free and how much must be.
type NoSpaceError struct {
	Path string // the folder watched
	Free uint64 // bytes free for an unprivileged writer
	Min  uint64 // the watermark, bytes
}

func (e *NoSpaceError) Error() string {
	return fmt.Sprintf("%s: %d bytes free on %s, below the %d-byte watermark", ErrNoSpace, e.Free, e.Path, e.Min)
}

// Is makes errors.Is(err, ErrNoSpace) true.
func (e *NoSpaceError) Is(target error) bool { return target == ErrNoSpace }

// SpaceGuard says whether the store may take more writes: nil, or an error
// matching ErrNoSpace (or another error when the check itself failed). It
// must be cheap: it runs before every published batch.
type SpaceGuard interface {
	CheckSpace() error
}

// GuardedPublisher refuses batches with ErrNoSpace while the guard says the
// disk is too full, so no write is attempted below the watermark.
type GuardedPublisher struct {
	Publisher
	Guard SpaceGuard
}

// Publish publishes evs if the guard allows it.
func (p GuardedPublisher) Publish(ctx context.Context, evs []schema.Event) error {
	if err := p.Guard.CheckSpace(); err != nil {
		return err
	}
	return p.Publisher.Publish(ctx, evs)
}

// WaitForSpace wraps a batch processor so that, while the guard refuses,
// it waits (checking every poll) instead of writing: the consumer keeps its
// place, because the batch is neither applied nor acknowledged until space
// returns. onWait, if set, is called once each time a wait starts. It
// returns ctx's error if ctx ends while waiting.
func WaitForSpace(g SpaceGuard, poll time.Duration, onWait func(error),
	process func(context.Context, [][]byte) error) func(context.Context, [][]byte) error {
	return func(ctx context.Context, msgs [][]byte) error {
		if err := waitSpace(ctx, g, poll, onWait); err != nil {
			return err
		}
		return process(ctx, msgs)
	}
}

func waitSpace(ctx context.Context, g SpaceGuard, poll time.Duration, onWait func(error)) error {
	err := g.CheckSpace()
	if err == nil {
		return nil
	}
	if onWait != nil {
		onWait(err)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if g.CheckSpace() == nil {
			return nil
		}
	}
}
