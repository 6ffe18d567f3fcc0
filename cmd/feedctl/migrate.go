package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	kafkabus "github.com/lenta-dev/lenta/bus/kafka"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
)

func hosts(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// cmdMigrate applies the CQL migrations: feedctl migrate --cassandra HOSTS.
func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "--cassandra HOSTS [--keyspace lenta] [--replication 1]")
	cass := fs.String("cassandra", "127.0.0.1:9042", "Cassandra contact points, host:port,...")
	keyspace := fs.String("keyspace", "lenta", "keyspace to create and migrate")
	rf := fs.Int("replication", 1, "replication factor of a newly created keyspace (3 on a 3-node cluster)")
	dc := fs.String("dc", "", "data center name: use NetworkTopologyStrategy {dc: replication}")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cfg := cassandrastore.Config{Hosts: hosts(*cass), Keyspace: *keyspace, ReplicationFactor: *rf, LocalDC: *dc}
	if err := cassandrastore.Migrate(ctx, cfg); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "keyspace %s is migrated to the current schema\n", *keyspace)
	return err
}

// cmdTopics creates the Kafka topics: feedctl topics --kafka HOSTS.
func cmdTopics(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "topics", "--kafka HOSTS [--topic-prefix lenta.] [--partitions 12] [--replication 1]")
	brokers := fs.String("kafka", "127.0.0.1:9092", "Kafka brokers, host:port,...")
	prefix := fs.String("topic-prefix", "lenta.", "topic name prefix")
	parts := fs.Int("partitions", 12, "partitions of a newly created events topic")
	rf := fs.Int("replication", 1, "replication factor of newly created topics")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *parts < 1 || *rf < 1 || *rf > 32767 {
		return usagef("--partitions and --replication must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cfg := kafkabus.Config{Brokers: hosts(*brokers), TopicPrefix: *prefix, Partitions: int32(*parts), ReplicationFactor: int16(*rf)}
	if err := kafkabus.EnsureTopics(ctx, cfg); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "topics %sevents and %sevents.dlq exist\n", *prefix, *prefix)
	return err
}

// cmdRewind moves the fan-out group back to the oldest events, so every
// event still on the topic is applied again (harmless: events are
// idempotent). The group's workers must be stopped.
func cmdRewind(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rewind", "--kafka HOSTS [--topic-prefix lenta.] [--group lenta-fanout]")
	brokers := fs.String("kafka", "127.0.0.1:9092", "Kafka brokers, host:port,...")
	prefix := fs.String("topic-prefix", "lenta.", "topic name prefix")
	group := fs.String("group", "lenta-fanout", "consumer group of the fan-out workers")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	n, err := kafkabus.ResetGroupOffsets(ctx, kafkabus.Config{Brokers: hosts(*brokers), TopicPrefix: *prefix, Group: *group})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "group %s rewound: %d events will be delivered again\n", *group, n)
	return err
}
