package pebblestore

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/retry"
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

// handleRetry is how Run retries a batch whose handler failed: the log
// owns that retry (the handler tries once), and a store failure lasts, so
// the waits grow to 5 s.
var handleRetry = retry.Policy{Min: 50 * time.Millisecond, Max: 5 * time.Second}

const (
	pollEvery = 100 * time.Millisecond
	maxParts  = 1 << 16

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
