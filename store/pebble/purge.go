package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// PurgeConfig sets what a Purger forgets and how often.
//
// The embedded store has no TTL, so the tables that grow by one row per
// event and are not bounded by their writers need this purger (the others
// are bounded where they are written; docs/reliability.md, "What grows and
// its bound", lists each table):
//   - the applied-event ledger (ledger and its age index): LedgerRetention,
//     the same 7 days as Cassandra's applied_events TTL by default;
//   - notifications (activities and inbox index rows): NotifyRetention, the
//     same 30 days as Cassandra's notify_activity and notify_index TTL;
//   - dead letters: DeadLetterRetention, by default the 7 days a Kafka
//     broker keeps the dead-letter topic (log.retention.hours=168).
type PurgeConfig struct {
	// Every is the time between two purge passes; default 1 minute.
	Every time.Duration
	// LedgerRetention is how long an applied event id is remembered; 0
	// keeps them forever. It must be far longer than any redelivery window
	// of the event log (see docs/reliability.md).
	LedgerRetention time.Duration
	// NotifyRetention is how long a notification stays in an inbox; 0
	// keeps them forever.
	NotifyRetention time.Duration
	// DeadLetterRetention is how long a dead letter is kept; 0 keeps them
	// forever.
	DeadLetterRetention time.Duration
	// Pause is the sleep between two bounded batches of one pass, so that a
	// large backlog never holds the fan-out's writes back; default 1ms.
	Pause time.Duration
	// Purged, if set, is told how many rows of a table one batch removed
	// (tables: "ledger", "notify_activity", "notify_index", "dead_letters").
	Purged func(table string, n int)
	// Now is the purge clock; default time.Now.
	Now func() time.Time
}

// Purger removes the rows older than their retention, in bounded batches
// from one goroutine (the caller's, in Run). It is the only background
// deleter of those tables; nothing it does is needed for correctness.
type Purger struct {
	s   *Store
	cfg PurgeConfig
}

// NewPurger makes a Purger over s.
func (s *Store) NewPurger(cfg PurgeConfig) (*Purger, error) {
	if cfg.Every == 0 {
		cfg.Every = time.Minute
	}
	if cfg.Pause == 0 {
		cfg.Pause = time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Every < 0 || cfg.LedgerRetention < 0 || cfg.NotifyRetention < 0 || cfg.DeadLetterRetention < 0 || cfg.Pause < 0 {
		return nil, errors.New("pebblestore: purge: durations must not be negative")
	}
	if cfg.Purged == nil {
		cfg.Purged = func(string, int) {}
	}
	return &Purger{s: s, cfg: cfg}, nil
}

// Run purges once now and then every cfg.Every until ctx ends; it returns
// ctx's error then, or the first purge error (a store that fails to purge
// is failing to write).
func (p *Purger) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	for {
		if err := p.PurgeOnce(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// PurgeOnce runs one pass over every table with a retention.
func (p *Purger) PurgeOnce(ctx context.Context) error {
	now := p.cfg.Now()
	if r := p.cfg.LedgerRetention; r > 0 {
		if err := p.purgeLedger(ctx, now.Add(-r).UnixMilli()); err != nil {
			return err
		}
	}
	if r := p.cfg.NotifyRetention; r > 0 {
		if err := p.purgeNotify(ctx, now.Add(-r).UnixMilli()); err != nil {
			return err
		}
	}
	if r := p.cfg.DeadLetterRetention; r > 0 {
		// Keys are (ts, seq): the old ones are one key range.
		upper := appendI64([]byte{tDead}, now.Add(-r).UnixMilli())
		if err := p.purgeRange(ctx, "dead_letters", []byte{tDead}, upper, func(_, _ []byte) (int64, bool) { return math.MinInt64, true }); err != nil {
			return err
		}
	}
	return nil
}

// pause sleeps between two batches, or returns ctx's error.
func (p *Purger) pause(ctx context.Context) error {
	t := time.NewTimer(p.cfg.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// purgeLedger forgets ledger entries recorded before olderThan (unix ms),
// purgeChunk age-index keys per batch (one range delete of the index plus
// point deletes of the ids), pausing between batches.
func (p *Purger) purgeLedger(ctx context.Context, olderThan int64) error {
	lower := []byte{tLedgerAge}
	upper := appendI64([]byte{tLedgerAge}, olderThan)
	for {
		n, next, err := p.s.purgeSome(ctx, lower, upper)
		if err != nil {
			return err
		}
		if n > 0 {
			p.cfg.Purged("ledger", n)
		}
		if next == nil {
			return nil
		}
		lower = next
		if err := p.pause(ctx); err != nil {
			return err
		}
	}
}

// purgeNotify walks the notification activities and inbox index rows in
// key order, purgeChunk keys per batch, and deletes those whose ts is
// before olderThan. Both tables are keyed by user first, so this is a full
// scan of them; the pass is spread over bounded batches with pauses.
//
// Deleting an activity by key cannot lose a newer write of the same key:
// its group names a 12-hour window, so the only write of an expired
// activity's key is a re-delivery of the same (expired) event.
func (p *Purger) purgeNotify(ctx context.Context, olderThan int64) error {
	tables := []struct {
		name  string
		t     byte
		tsOf  func(k, v []byte) (int64, bool)
		total int
	}{
		{name: "notify_activity", t: tNotifyAct, tsOf: activityTS},
		{name: "notify_head", t: tNotifyHead, tsOf: func(_, v []byte) (int64, bool) {
			r := reader{b: v}
			if r.version("group head") != nil {
				return 0, false
			}
			ts := r.varint()
			return ts, !r.bad
		}},
		{name: "notify_index", t: tNotifyIdx, tsOf: func(k, _ []byte) (int64, bool) {
			if len(k) < 1+8+8 {
				return 0, false
			}
			return decodeInv64(k[1+8 : 1+8+8]), true
		}},
	}
	for _, tb := range tables {
		olderThan := olderThan
		tsOf := func(k, v []byte) (int64, bool) {
			ts, ok := tb.tsOf(k, v)
			return ts - olderThan, ok
		}
		if err := p.purgeRange(ctx, tb.name, []byte{tb.t}, []byte{tb.t + 1}, tsOf); err != nil {
			return err
		}
	}
	return nil
}

// purgeRange deletes the keys of [lower, upper) whose age(k, v) is
// negative (too old), purgeChunk keys per batch, pausing between batches.
func (p *Purger) purgeRange(ctx context.Context, table string, lower, upper []byte, age func(k, v []byte) (int64, bool)) error {
	for lower != nil {
		n, next, err := p.s.purgeScan(ctx, lower, upper, 0, age)
		if err != nil {
			return fmt.Errorf("pebblestore: purge %s: %w", table, err)
		}
		if n > 0 {
			p.cfg.Purged(table, n)
		}
		if lower = next; lower != nil {
			if err := p.pause(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// activityTS reads the ts of an activity value (kind str, object str, ts).
func activityTS(_, v []byte) (int64, bool) {
	r := reader{b: v}
	if r.version("activity") != nil {
		return 0, false
	}
	r.str()
	r.str()
	ts := r.varint()
	return ts, !r.bad
}

// purgeScan looks at up to purgeChunk keys from lower and deletes, in one
// batch, those whose ts is before olderThan (keys whose ts cannot be read
// are kept). next is where to continue, nil when [lower, upper) is done.
func (s *Store) purgeScan(ctx context.Context, lower, upper []byte, olderThan int64, tsOf func(k, v []byte) (int64, bool)) (n int, next []byte, err error) {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, nil, err
	}
	b := s.db.NewBatch()
	count := 0
	ok := it.First()
	for ; ok && count < purgeChunk; ok = it.Next() {
		count++
		var v []byte
		if v, err = it.ValueAndErr(); err != nil {
			break
		}
		if ts, good := tsOf(it.Key(), v); good && ts < olderThan {
			n++
			if err = b.Delete(it.Key(), nil); err != nil {
				break
			}
		}
	}
	if ok && err == nil {
		next = bytes.Clone(it.Key())
	}
	if err == nil {
		err = it.Error()
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil || n == 0 {
		_ = b.Close()
		return 0, next, err
	}
	if err := commit(b, s.wo); err != nil {
		return 0, nil, err
	}
	return n, next, nil
}

// LedgerSize counts the ids the ledger remembers (for tests and tools; a
// full scan of the ledger).
func (s *Store) LedgerSize(ctx context.Context) (int, error) {
	n := 0
	err := s.scan(ctx, []byte{tLedger}, []byte{tLedger + 1}, func(_, _ []byte) bool {
		n++
		return true
	})
	return n, err
}
