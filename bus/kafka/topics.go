package kafkabus

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/retry"
)

// EnsureTopics creates the events topic and its dead-letter topic if they
// are missing, then waits (until ctx ends) for every partition of both to
// have a leader. A topic that exists is left as it is, whatever its
// partition count: repartitioning would move actors between partitions.
func EnsureTopics(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	sc, err := cfg.base()
	if err != nil {
		return err
	}
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("kafkabus: connect admin: %w", err)
	}
	defer admin.Close()

	var entries map[string]*string
	if cfg.ReplicationFactor >= 3 {
		two := "2"
		entries = map[string]*string{"min.insync.replicas": &two}
	}
	topics := []string{cfg.EventsTopic(), cfg.DeadLetterTopic()}
	for _, topic := range topics {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := admin.CreateTopic(topic, &sarama.TopicDetail{
			NumPartitions:     cfg.Partitions,
			ReplicationFactor: cfg.ReplicationFactor,
			ConfigEntries:     entries,
		}, false)
		if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("kafkabus: create topic %s: %w", topic, err)
		}
	}
	return waitForLeaders(ctx, admin, topics)
}

// waitForLeaders polls the metadata until every partition of topics has a
// leader: a freshly created topic is not writable for a moment.
func waitForLeaders(ctx context.Context, admin sarama.ClusterAdmin, topics []string) error {
	var last error
	err := retry.Do(ctx, topicRetry, func() error {
		md, err := admin.DescribeTopics(topics)
		if err == nil {
			err = leadersReady(md)
		}
		last = err
		return err
	})
	if err != nil {
		return fmt.Errorf("kafkabus: topics not ready: %w (last: %w)", ctx.Err(), last)
	}
	return nil
}

func leadersReady(md []*sarama.TopicMetadata) error {
	for _, t := range md {
		if !errors.Is(t.Err, sarama.ErrNoError) {
			return fmt.Errorf("topic %s: %w", t.Name, t.Err)
		}
		if len(t.Partitions) == 0 {
			return fmt.Errorf("topic %s: no partitions yet", t.Name)
		}
		for _, p := range t.Partitions {
			if !errors.Is(p.Err, sarama.ErrNoError) || p.Leader < 0 {
				return fmt.Errorf("topic %s partition %d: no leader (%v)", t.Name, p.ID, p.Err)
			}
		}
	}
	return nil
}

// ResetGroupOffsets rewinds the consumer group to the oldest retained
// message of every partition of the events topic, so everything still in
// the log is delivered again (applying is idempotent). The group must have
// no live members: Kafka refuses offset commits from outside an active
// group. It returns how many messages will be re-delivered.
func ResetGroupOffsets(ctx context.Context, cfg Config) (int64, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	sc, err := cfg.base()
	if err != nil {
		return 0, err
	}
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return 0, fmt.Errorf("kafkabus: connect: %w", err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client) // closing admin closes client
	if err != nil {
		_ = client.Close()
		return 0, fmt.Errorf("kafkabus: admin: %w", err)
	}
	defer admin.Close()

	topic := cfg.EventsTopic()
	parts, err := client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("kafkabus: partitions of %s: %w", topic, err)
	}
	offsets := make(map[int32]sarama.OffsetAndMetadata, len(parts))
	var total int64
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return 0, fmt.Errorf("kafkabus: oldest offset of %s/%d: %w", topic, p, err)
		}
		newest, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, fmt.Errorf("kafkabus: newest offset of %s/%d: %w", topic, p, err)
		}
		total += newest - oldest
		offsets[p] = sarama.OffsetAndMetadata{Offset: oldest, LeaderEpoch: -1}
	}
	resp, err := admin.AlterConsumerGroupOffsets(cfg.Group, map[string]map[int32]sarama.OffsetAndMetadata{topic: offsets}, nil)
	if err != nil {
		return 0, fmt.Errorf("kafkabus: reset offsets of group %s: %w", cfg.Group, err)
	}
	for _, perPartition := range resp.Errors {
		for p, kerr := range perPartition {
			if !errors.Is(kerr, sarama.ErrNoError) {
				return 0, fmt.Errorf("kafkabus: reset offsets of group %s, %s/%d: %w", cfg.Group, topic, p, kerr)
			}
		}
	}
	return total, nil
}
