package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/lenta-dev/lenta/metrics"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
)

// purgeOptions are the retentions of the tables that grow by one row per
// event (docs/reliability.md, "What grows and its bound").
type purgeOptions struct {
	every           time.Duration
	ledgerRetention time.Duration
	notifyRetention time.Duration
	deadRetention   time.Duration
}

// Default retentions: those of the Cassandra tables' default_time_to_live
// (applied_events 7 days, notify_activity and notify_index 30 days) and
// of the Kafka dead-letter topic (the broker's default 7 days).
const (
	defaultLedgerRetention = 7 * 24 * time.Hour
	defaultNotifyRetention = 30 * 24 * time.Hour
	defaultDeadRetention   = 7 * 24 * time.Hour
)

func addPurgeFlags(fs *flag.FlagSet, p *purgeOptions) {
	fs.DurationVar(&p.every, "purge-every", time.Minute, "embedded store: time between two retention purges")
	fs.DurationVar(&p.ledgerRetention, "ledger-retention", defaultLedgerRetention, "how long the applied-event ledger remembers an event id (embedded: purged; Cassandra: the rows' TTL); keep it far above the event log's redelivery window")
	fs.DurationVar(&p.notifyRetention, "notify-retention", defaultNotifyRetention, "embedded store: how long a notification stays in an inbox (Cassandra: the tables' 30-day TTL)")
	fs.DurationVar(&p.deadRetention, "dead-letter-retention", defaultDeadRetention, "embedded store: how long a dead letter is kept (Kafka: the dead-letter topic's retention.ms)")
}

func (p purgeOptions) check() error {
	if p.every <= 0 || p.ledgerRetention <= 0 || p.notifyRetention <= 0 || p.deadRetention <= 0 {
		return errors.New("--purge-every, --ledger-retention, --notify-retention and --dead-letter-retention must be positive")
	}
	return nil
}

// purger is the embedded store's retention purge, or nil on Cassandra
// (whose TTLs do that work). Its Run(ctx) purges until ctx ends.
func newPurger(o purgeOptions, b *backend, reg *metrics.Registry) (interface{ Run(context.Context) error }, error) {
	if b.pebble == nil {
		return nil, nil
	}
	return b.pebble.NewPurger(pebblestore.PurgeConfig{
		Every: o.every, LedgerRetention: o.ledgerRetention, NotifyRetention: o.notifyRetention,
		DeadLetterRetention: o.deadRetention,
		Purged:              reg.Purged(),
	})
}
