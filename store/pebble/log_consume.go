package pebblestore

// Event log consumption: Run's per-partition workers read the messages
// between the committed offset and the visible seq and deliver them to the
// handler until it succeeds. log_offset.go commits what they consumed.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/retry"
)

// Handler handles one batch of a partition's messages, oldest first. msgs
// (and their bytes) are valid only until it returns. Returning nil commits
// the batch; an error makes Run back off (50 ms doubling to 5 s) and call
// it again with the same messages, until it succeeds or ctx ends: the
// handler should not retry a failure itself.
type Handler func(ctx context.Context, partition int, msgs [][]byte) error

// Run consumes every partition with one goroutine each until ctx is
// cancelled, then waits for them and returns nil. A batch whose handler
// returned nil is committed even if ctx was cancelled meanwhile. A non-nil
// result is a storage failure, which stops every partition. Only one Run
// may be active at a time.
func (l *Log) Run(ctx context.Context, handle Handler, batchMax int) error {
	if batchMax <= 0 {
		batchMax = 256
	}
	if !l.running.CompareAndSwap(false, true) {
		return ErrLogRunning
	}
	defer l.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(l.parts))
	var wg sync.WaitGroup
	for i, p := range l.parts {
		wg.Go(func() {
			if err := l.consume(ctx, p, handle, batchMax); err != nil {
				errs[i] = fmt.Errorf("pebblestore: log partition %d: %w", p.id, err)
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// consume is one partition's worker. On the way out it deletes what it
// consumed.
func (l *Log) consume(ctx context.Context, p *partition, handle Handler, batchMax int) (err error) {
	defer func() {
		if c := p.committed.Load(); err == nil && p.deleted < c {
			err = l.commitOffset(p, c, true)
		}
	}()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var arena []byte
	var offs []int
	msgs := make([][]byte, 0, batchMax)
	for {
		if ctx.Err() != nil {
			return nil
		}
		var last uint64
		arena, offs, last, err = l.read(ctx, p, arena[:0], offs[:0], batchMax)
		if err != nil {
			return err
		}
		if len(offs) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-p.wake:
			case <-tick.C:
			}
			continue
		}
		msgs = msgs[:0]
		for i := range offs {
			lo := 0
			if i > 0 {
				lo = offs[i-1]
			}
			msgs = append(msgs, arena[lo:offs[i]:offs[i]])
		}
		if !l.deliver(ctx, p, handle, msgs) {
			return nil // cancelled before the batch was handled
		}
		if err := l.commitOffset(p, last, false); err != nil {
			return err
		}
	}
}

// deliver calls handle until it succeeds (true) or ctx ends (false).
func (l *Log) deliver(ctx context.Context, p *partition, handle Handler, msgs [][]byte) bool {
	r := handleRetry
	r.OnRetry = func(err error, wait time.Duration) {
		l.s.logf("event log: partition %d: a batch of %d failed; delivering it again in %v: %v", p.id, len(msgs), wait, err)
	}
	return retry.Do(ctx, r, func() error { return handle(ctx, p.id, msgs) }) == nil
}

// read copies up to max messages after the committed offset (and not past
// visible) into arena; offs[i] is the end of message i; last is the seq of
// the last one.
func (l *Log) read(ctx context.Context, p *partition, arena []byte, offs []int, max int) ([]byte, []int, uint64, error) {
	from, to := p.committed.Load()+1, p.visible.Load()
	if from > to {
		return arena, offs, 0, nil
	}
	kb := l.s.getBuf()
	defer l.s.putBuf(kb)
	bb := logKey((*kb)[:0], p.id, from)
	bb = logKey(bb, p.id, to+1)
	*kb = bb
	lower, upper := bb[:len(bb)/2], bb[len(bb)/2:]
	it, err := l.s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return arena, offs, 0, fmt.Errorf("read: %w", err)
	}
	var last uint64
	for ok := it.First(); ok && len(offs) < max; ok = it.Next() {
		v, verr := it.ValueAndErr()
		if verr != nil {
			err = verr
			break
		}
		arena = append(arena, v...)
		offs = append(offs, len(arena))
		last = binary.BigEndian.Uint64(it.Key()[len(lower)-8:])
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return arena, offs[:0], 0, fmt.Errorf("read: %w", err)
	}
	if len(offs) == 0 {
		// Only gaps (failed publishes) between committed and visible: step
		// over them so they are not rescanned.
		last = to
		if err := l.commitOffset(p, last, false); err != nil {
			return arena, offs, 0, err
		}
	}
	return arena, offs, last, nil
}
