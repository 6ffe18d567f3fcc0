package cassandrastore

import (
	"context"
	"errors"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/fanout"
)

// Ledger implements fanout.Ledger on applied_events: one partition per
// event id, forgotten after Config.LedgerTTL (default: 7 days, the
// table's default_time_to_live).
type Ledger struct{ s *Store }

var _ fanout.Ledger = (*Ledger)(nil)

const (
	selectApplied = `SELECT digest FROM applied_events WHERE id = ?`
	insertApplied = `INSERT INTO applied_events (id, ts, digest) VALUES (?, ?, ?)`
	// insertAppliedTTL is insertApplied with Config.LedgerTTL.
	insertAppliedTTL = `INSERT INTO applied_events (id, ts, digest) VALUES (?, ?, ?) USING TTL ?`
)

// Seen reports, for each id, whether it was recorded (and not yet
// expired): concurrent token-aware point reads, at most MaxInFlight at once.
func (l *Ledger) Seen(ctx context.Context, ids []string) ([]fanout.LedgerMark, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]fanout.LedgerMark, len(ids))
	err := l.s.each(ctx, len(ids), func(i int) error {
		if ids[i] == "" {
			return nil
		}
		var digest *int64 // null in rows from before 005_ledger_digest
		err := l.s.sess.Query(selectApplied, ids[i]).Idempotent(true).ScanContext(ctx, &digest)
		if errors.Is(err, gocql.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out[i].Found = true
		if digest != nil {
			out[i].Digest = uint64(*digest)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("ledger seen", err)
	}
	return out, nil
}

// Record marks ids as applied at ts (unix ms): one insert per id, pipelined.
func (l *Ledger) Record(ctx context.Context, ids []string, digests []uint64, ts int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := l.s.each(ctx, len(ids), func(i int) error {
		if ids[i] == "" {
			return nil
		}
		var digest *int64
		if i < len(digests) && digests[i] != 0 {
			d := int64(digests[i])
			digest = &d
		}
		if ttl := l.s.cfg.LedgerTTL; ttl > 0 {
			return l.s.exec(ctx, insertAppliedTTL, ids[i], ts, digest, ttlSeconds(ttl))
		}
		return l.s.exec(ctx, insertApplied, ids[i], ts, digest)
	})
	return wrap("ledger record", err)
}
