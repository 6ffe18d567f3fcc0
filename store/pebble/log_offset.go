package pebblestore

// Event log offsets and retention: commitOffset stores a partition's
// committed offset and deletes consumed messages when a clean-up is due;
// Lag and WaitIdle report on what is left to consume.

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Lag is the number of published messages not yet consumed.
func (l *Log) Lag() int64 {
	var n int64
	for _, p := range l.parts {
		n += int64(p.visible.Load() - p.committed.Load())
	}
	return n
}

// WaitIdle blocks until every published message has been consumed (Lag is
// 0) or ctx ends. It needs a running Run to make progress.
func (l *Log) WaitIdle(ctx context.Context) error {
	for {
		ch := l.idle.wait()
		if l.Lag() == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// commitOffset stores last as the partition's committed offset in one
// synced batch that also deletes the consumed messages when a clean-up is
// due (or forced).
func (l *Log) commitOffset(p *partition, last uint64, force bool) error {
	now := time.Now()
	clean := p.deleted < last && (force || last-p.deleted >= cleanEvery || now.Sub(p.cleaned) >= cleanAfter)
	b := l.s.db.NewBatch()
	err := b.Set(logOffsetKey(nil, p.id), binary.BigEndian.AppendUint64(nil, last), nil)
	if err == nil && clean {
		err = b.DeleteRange(logKey(nil, p.id, p.deleted+1), logKey(nil, p.id, last+1), nil)
	}
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("commit offset: %w", err)
	}
	if err := commit(b, pebble.Sync); err != nil {
		return fmt.Errorf("commit offset: %w", err)
	}
	p.committed.Store(last)
	if clean {
		p.deleted, p.cleaned = last, now
	}
	l.idle.broadcast()
	return nil
}

// notifier wakes every waiter at once.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next broadcast.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
