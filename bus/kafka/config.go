package kafkabus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// Defaults applied by Config when a field is left at its zero value.
const (
	DefaultTopicPrefix       = "lenta."
	DefaultPartitions        = 12
	DefaultReplicationFactor = 1
	DefaultGroup             = "lenta-fanout"
	DefaultBatchMax          = 500
	DefaultBatchWait         = 20 * time.Millisecond
	DefaultClientID          = "lenta"
	DefaultVersion           = "4.1.0"
	DefaultDrainTimeout      = 5 * time.Second
)

// Config says where the cluster is and how Lenta uses it. The zero value of
// every field except Brokers means "the default".
type Config struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// TopicPrefix is prepended to the topic names: <prefix>events and
	// <prefix>events.dlq. Default "lenta.".
	TopicPrefix string
	// Partitions is the partition count EnsureTopics creates topics with.
	// Changing it for an existing topic is not done here: it would move
	// actors to other partitions and break per-actor order. Default 12.
	Partitions int32
	// ReplicationFactor for created topics. Default 1 (a laptop); use 3 on
	// a cluster (EnsureTopics then sets min.insync.replicas=2).
	ReplicationFactor int16
	// Group is the consumer group of the fan-out workers. Default "lenta-fanout".
	Group string
	// BatchMax is the most messages handed to one process call. Default 500.
	BatchMax int
	// BatchWait is how long a partition's batch may wait for more messages
	// after its first one arrived. Default 20ms.
	BatchWait time.Duration
	// ClientID names this process in broker logs and quotas. Default "lenta".
	ClientID string
	// Version is the Kafka protocol version the client assumes, as
	// "major.minor.patch". Sarama still negotiates each request down to
	// what the broker advertises. Default "4.1.0"; must be at least 2.4
	// (cooperative rebalancing, idempotent producer, record headers).
	Version string
	// DrainTimeout bounds how long a stopping consumer (or one whose
	// partition was revoked) lets the batch in flight finish before its
	// context is cancelled. Default 5s.
	DrainTimeout time.Duration
}

// EventsTopic is the topic events are published to, keyed by actor.
func (c Config) EventsTopic() string { return c.prefix() + "events" }

// DeadLetterTopic is the topic dead letters are produced to.
func (c Config) DeadLetterTopic() string { return c.prefix() + "events.dlq" }

func (c Config) prefix() string {
	if c.TopicPrefix == "" {
		return DefaultTopicPrefix
	}
	return c.TopicPrefix
}

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, errors.New("kafkabus: no brokers configured")
	}
	c.TopicPrefix = c.prefix()
	if c.Partitions <= 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.BatchMax <= 0 {
		c.BatchMax = DefaultBatchMax
	}
	if c.BatchWait <= 0 {
		c.BatchWait = DefaultBatchWait
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	return c, nil
}

// base is the sarama configuration shared by every client of this package.
func (c Config) base() (*sarama.Config, error) {
	v, err := sarama.ParseKafkaVersion(strings.TrimSpace(c.Version))
	if err != nil {
		return nil, fmt.Errorf("kafkabus: version %q: %w", c.Version, err)
	}
	if !v.IsAtLeast(sarama.V2_4_0_0) {
		return nil, fmt.Errorf("kafkabus: version %s is older than 2.4, which Lenta needs", v)
	}
	sc := sarama.NewConfig()
	sc.Version = v
	sc.ClientID = c.ClientID
	return sc, nil
}

// producerConfig is the idempotent, acks=all producer configuration.
func (c Config) producerConfig() (*sarama.Config, error) {
	sc, err := c.base()
	if err != nil {
		return nil, err
	}
	p := &sc.Producer
	p.Idempotent = true
	p.RequiredAcks = sarama.WaitForAll
	sc.Net.MaxOpenRequests = 1 // sarama's idempotent producer requires it
	// Retry through leader elections and broker restarts for about two
	// minutes (Java's delivery.timeout.ms default), backing off
	// exponentially (produceRetry). The caller's ctx bounds how long
	// Publish waits. sarama owns this retry; package retry only computes
	// its waits.
	p.Retry.Max = 100
	p.Retry.BackoffFunc = func(retries, _ int) time.Duration { return produceRetry.Delay(retries + 1) }
	// Hash of the key, compatible with the Java client's default
	// partitioner (murmur2), so every producer of the topic, in any
	// language, sends one actor to one partition.
	p.Partitioner = sarama.NewMurmur2Partitioner
	p.Return.Successes = true
	p.Return.Errors = true
	p.Compression = sarama.CompressionNone
	return sc, nil
}

// consumerConfig is the consumer group configuration. The balance strategy
// is set per group (it is stateful), in Run.
func (c Config) consumerConfig() (*sarama.Config, error) {
	sc, err := c.base()
	if err != nil {
		return nil, err
	}
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	sc.Consumer.Offsets.AutoCommit.Enable = false
	sc.Consumer.Return.Errors = true
	sc.Consumer.Group.ResetInvalidOffsets = true
	// A member learns of a rebalance on its next heartbeat; a cooperative
	// handover takes two rebalances, so beat every second rather than
	// every 3s (session timeout stays 10s).
	sc.Consumer.Group.Heartbeat.Interval = time.Second
	// How long the broker may hold a fetch that found nothing. It is also
	// how late a paused partition (see claimQueue) can be fetched again
	// after it is resumed. Default 500ms.
	sc.Consumer.MaxWaitTime = 250 * time.Millisecond
	return sc, nil
}
