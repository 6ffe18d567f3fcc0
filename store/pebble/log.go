package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// Log is the embedded event log: a durable in-process bus with a fixed
// number of partitions. Publish appends each event to partition
// hash(actor) % partitions under (partition, seq) in one synced batch; Run
// consumes every partition in seq order, at least once, and deletes what
// was consumed. It implements fanout.Publisher.
//
// Sequence numbers of a partition are assigned under the partition's mutex
// but committed outside it, so concurrent Publish calls share Pebble's group
// commit. A consumer only reads up to the partition's visible seq: the
// highest seq below which every assigned seq is committed (or failed and
// left a gap). So a slow commit of seq 5 holds back seq 6, never the reverse,
// and no message is skipped.
type Log struct {
	s       *Store
	parts   []*partition
	running atomic.Bool
	idle    notifier // broadcast after every commit of a consumed batch
}

var _ fanout.Publisher = (*Log)(nil)

type partition struct {
	id   int
	wake chan struct{} // cap 1: Publish -> worker

	mu   sync.Mutex
	next uint64            // next seq to assign; guarded by mu
	done map[uint64]uint64 // committed ranges [start, end] not yet contiguous; guarded by mu

	visible   atomic.Uint64 // every seq <= visible is committed or a gap
	committed atomic.Uint64 // last consumed seq, as stored under logOffset

	// Owned by the partition's worker (one Run at a time):
	deleted uint64    // log keys with seq <= deleted are deleted
	cleaned time.Time // when consumed keys were last deleted
}

// Backoff bounds for a failing handle.
const (
	backoffMin = 50 * time.Millisecond
	backoffMax = 2 * time.Second
	pollEvery  = 100 * time.Millisecond
	maxParts   = 1 << 16

	// Consumed entries are deleted with one DeleteRange per partition at
	// most every cleanAfter or cleanEvery messages (and when Run stops),
	// not per batch: each range tombstone in the memtable makes the next
	// iterator of every reader re-fragment them all. The committed offset,
	// written with every batch, is what makes consumption exactly-once.
	cleanAfter = time.Second
	cleanEvery = 4096
)

// OpenLog returns the store's event log with n partitions, recovering each
// partition's next seq and committed offset. A store has one log; calling
// OpenLog again with the same n returns it. Changing n is refused while
// messages are unconsumed (their per-actor order would break).
func (s *Store) OpenLog(n int) (*Log, error) {
	if n <= 0 || n > maxParts {
		return nil, fmt.Errorf("pebblestore: open log: %d partitions (want 1..%d)", n, maxParts)
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.log != nil {
		if len(s.log.parts) != n {
			return nil, fmt.Errorf("pebblestore: open log: already open with %d partitions", len(s.log.parts))
		}
		return s.log, nil
	}
	if err := s.checkPartitions(n); err != nil {
		return nil, err
	}
	l := &Log{s: s, parts: make([]*partition, n)}
	for i := range l.parts {
		p := &partition{id: i, wake: make(chan struct{}, 1), done: make(map[uint64]uint64)}
		first, last, c, err := s.logState(i)
		if err != nil {
			return nil, err
		}
		p.committed.Store(c)
		p.next = max(last, c) + 1
		p.visible.Store(p.next - 1)
		p.deleted = c
		if first != 0 && first <= c {
			p.deleted = first - 1 // consumed keys not yet deleted
		}
		l.parts[i] = p
	}
	s.log = l
	return l, nil
}

// checkPartitions records n, refusing a change while messages are pending.
func (s *Store) checkPartitions(n int) error {
	mk := metaKey(nil, metaLogPartitions)
	v, found, err := s.getCopy(mk, nil)
	if err != nil {
		return fmt.Errorf("pebblestore: open log: %w", err)
	}
	if found && len(v) == 4 && int(binary.BigEndian.Uint32(v)) == n {
		return nil
	}
	if found && len(v) == 4 {
		old := int(binary.BigEndian.Uint32(v))
		for p := range old {
			_, last, committed, err := s.logState(p)
			if err != nil {
				return err
			}
			if last > committed {
				return fmt.Errorf("pebblestore: open log: %d partitions requested but the log has unconsumed messages in %d partitions; drain it first", n, old)
			}
		}
	}
	if err := s.db.Set(mk, binary.BigEndian.AppendUint32(nil, uint32(n)), pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: open log: %w", err)
	}
	return nil
}

func (s *Store) anyKey(lower, upper []byte) (bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return false, fmt.Errorf("pebblestore: iterator: %w", err)
	}
	ok := it.First()
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("pebblestore: iterator: %w", err)
	}
	return ok, nil
}

// logState returns the lowest and highest seq stored in a partition (0 if
// none) and its committed offset.
func (s *Store) logState(p int) (first, last, committed uint64, err error) {
	n, err := s.getCounter(logOffsetKey(nil, p))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pebblestore: open log: %w", err)
	}
	lower := logPrefix(nil, p)
	upper := prefixEnd(nil, lower)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pebblestore: open log: %w", err)
	}
	if it.First() {
		first = binary.BigEndian.Uint64(it.Key()[len(lower):])
	}
	if it.Last() {
		last = binary.BigEndian.Uint64(it.Key()[len(lower):])
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pebblestore: open log: %w", err)
	}
	return first, last, uint64(n), nil
}

// Partitions is the number of partitions.
func (l *Log) Partitions() int { return len(l.parts) }

// PartitionOf is the partition of an actor's events: a mix of the id (so
// sequential ids spread) modulo the partition count. It is part of the
// on-disk contract: changing it reorders pending messages.
func (l *Log) PartitionOf(actor int64) int {
	x := uint64(actor)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x % uint64(len(l.parts)))
}

// Publish appends the events in one synced batch; when it returns nil they
// are durable. Events of one actor keep their order (one partition, seqs
// assigned in slice order).
func (l *Log) Publish(ctx context.Context, events []schema.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	type rng struct {
		p        int
		start, n uint64
	}
	partOf := make([]int, len(events))
	count := make(map[int]int, min(len(events), len(l.parts)))
	for i := range events {
		p := l.PartitionOf(events[i].Actor)
		partOf[i] = p
		count[p]++
	}
	// Encode before taking seqs: an encoding error must not leave a gap.
	payloads := make([][]byte, len(events))
	for i := range events {
		b, err := schema.MarshalMsgpack(&events[i])
		if err != nil {
			return fmt.Errorf("pebblestore: publish: %w", err)
		}
		payloads[i] = b
	}
	ranges := make([]rng, 0, len(count))
	nextSeq := make(map[int]uint64, len(count))
	for p, n := range count {
		part := l.parts[p]
		part.mu.Lock()
		start := part.next
		part.next += uint64(n)
		part.mu.Unlock()
		ranges = append(ranges, rng{p: p, start: start, n: uint64(n)})
		nextSeq[p] = start
	}
	b := l.s.db.NewBatch()
	var k []byte
	var err error
	for i := range events {
		p := partOf[i]
		k = logKey(k[:0], p, nextSeq[p])
		nextSeq[p]++
		if err = b.Set(k, payloads[i], nil); err != nil {
			break
		}
	}
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	// Even a failed commit completes its ranges: they become a gap that the
	// consumer steps over, so later messages are not held back forever.
	for _, r := range ranges {
		part := l.parts[r.p]
		part.complete(r.start, r.start+r.n-1)
		select {
		case part.wake <- struct{}{}:
		default:
		}
	}
	if err != nil {
		return fmt.Errorf("pebblestore: publish: %w", err)
	}
	return nil
}

// complete marks [start, end] committed and advances visible over every
// contiguous committed range.
func (p *partition) complete(start, end uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[start] = end
	v := p.visible.Load()
	for {
		e, ok := p.done[v+1]
		if !ok {
			break
		}
		delete(p.done, v+1)
		v = e
	}
	p.visible.Store(v)
}

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

// Handler handles one batch of a partition's messages, oldest first. msgs
// (and their bytes) are valid only until it returns. Returning nil commits
// the batch; an error makes Run back off and call it again with the same
// messages.
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
	wait := backoffMin
	for {
		if handle(ctx, p.id, msgs) == nil {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, backoffMax)
	}
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
