package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	kafkabus "github.com/lenta-dev/lenta/bus/kafka"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
	"github.com/lenta-dev/lenta/timeline"
)

func splitHosts(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// openReal connects to Kafka and Cassandra. It creates the topics and (with
// --migrate) applies the CQL migrations, both idempotent, so a fresh
// cluster needs no separate step; operators who prefer to run
// `feedctl migrate` and `feedctl topics` themselves pass --migrate=false.
func openReal(ctx context.Context, o options, policy timeline.Policy, r roles, log *slog.Logger) (*backend, error) {
	ccfg := cassandrastore.Config{Hosts: splitHosts(o.cassandra), Keyspace: o.keyspace,
		Consistency: o.consistency, ReplicationFactor: o.replication, Policy: policy,
		LedgerTTL: o.purge.ledgerRetention}
	parts := o.partitions
	if parts == 0 {
		parts = 12
	}
	kcfg := kafkabus.Config{Brokers: splitHosts(o.kafka), TopicPrefix: o.topicPrefix, Partitions: int32(parts),
		ReplicationFactor: int16(o.kafkaRepl), Group: o.group, BatchMax: o.batchMax, ClientID: "feedd"}
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if o.migrate {
		if err := cassandrastore.Migrate(setupCtx, ccfg); err != nil {
			return nil, fmt.Errorf("migrate cassandra: %w", err)
		}
		if err := kafkabus.EnsureTopics(setupCtx, kcfg); err != nil {
			return nil, fmt.Errorf("create topics: %w", err)
		}
	}
	st, err := cassandrastore.Open(setupCtx, ccfg)
	if err != nil {
		return nil, err
	}
	closers := []func() error{func() error { st.Close(); return nil }}
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	b := &backend{
		name: fmt.Sprintf("kafka %s + cassandra %s/%s", o.kafka, o.cassandra, o.keyspace),
		stores: stores{graph: st.Graph(), objects: st.Objects(), comments: st.Comments(), timelines: st.Timelines(), ledger: st.Ledger(),
			ranking: st.Ranking(), notify: st.Notify(), profiles: st.Profiles()},
		health:      st.Health,
		unavailable: cassandrastore.IsUnavailable,
		close:       closeAll,
		overlap:     8, // Cassandra: each call is a round trip
	}
	topics, err := kafkabus.NewTopicsChecker(kcfg)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, topics.Close)
	b.busHealth = topics.Check
	if r.ingest {
		p, err := kafkabus.NewProducer(kcfg)
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, p.Close)
		b.publisher = p
	}
	if r.fanout {
		dead, err := kafkabus.NewDeadLetters(kcfg)
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, dead.Close)
		b.dead = dead
		b.deadStore = kafkabus.NewDeadLetterLog(kcfg, dead)
		b.consume = func(ctx context.Context, process func(context.Context, [][]byte) error) error {
			c, err := kafkabus.NewConsumer(kcfg, process, log)
			if err != nil {
				return err
			}
			defer c.Close()
			b.setLag(func() float64 {
				lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, err := c.Lag(lctx)
				if err != nil {
					return -1
				}
				return float64(n)
			})
			return c.Run(ctx)
		}
	}
	return b, nil
}
