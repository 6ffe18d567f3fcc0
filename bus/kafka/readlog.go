package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/IBM/sarama"
)

// LogRecord is one record of a topic as ReadLog delivers it.
type LogRecord struct {
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	// Headers are the record's headers (the dead-letter topic's reason, for
	// one); nil when it has none.
	Headers map[string]string
}

// ReadLog reads every record of topic that was committed when it was
// called, partition by partition from the oldest offset to the high-water
// mark, and calls fn with each in offset order. It joins no consumer group
// and commits nothing, so it never disturbs the fan-out workers: it is how
// tests and operators read back what the bus holds (the event log the
// fault tests compute their expected state from, the dead letters).
// An fn error stops the read and is returned.
func ReadLog(ctx context.Context, cfg Config, topic string, fn func(LogRecord) error) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	sc, err := cfg.base()
	if err != nil {
		return err
	}
	sc.Consumer.Return.Errors = true
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("kafkabus: connect: %w", err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return fmt.Errorf("kafkabus: partitions of %s: %w", topic, err)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("kafkabus: consumer: %w", err)
	}
	defer consumer.Close()
	for _, p := range parts {
		if err := readPartition(ctx, client, consumer, topic, p, fn); err != nil {
			return err
		}
	}
	return nil
}

func readPartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer, topic string, p int32, fn func(LogRecord) error) error {
	oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return fmt.Errorf("kafkabus: oldest offset of %s/%d: %w", topic, p, err)
	}
	end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("kafkabus: newest offset of %s/%d: %w", topic, p, err)
	}
	if oldest >= end {
		return nil
	}
	pc, err := consumer.ConsumePartition(topic, p, oldest)
	if err != nil {
		return fmt.Errorf("kafkabus: consume %s/%d: %w", topic, p, err)
	}
	defer pc.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case cerr, ok := <-pc.Errors():
			if !ok {
				return errors.New("kafkabus: partition consumer closed")
			}
			return fmt.Errorf("kafkabus: read %s/%d: %w", topic, p, cerr)
		case m, ok := <-pc.Messages():
			if !ok {
				return errors.New("kafkabus: partition consumer closed")
			}
			rec := LogRecord{Partition: p, Offset: m.Offset, Key: m.Key, Value: m.Value}
			if len(m.Headers) > 0 {
				rec.Headers = make(map[string]string, len(m.Headers))
				for _, h := range m.Headers {
					rec.Headers[string(h.Key)] = string(h.Value)
				}
			}
			if err := fn(rec); err != nil {
				return err
			}
			// Transaction markers and compaction can leave offset gaps, so
			// the end is reached when the next offset is at or past it.
			if m.Offset+1 >= end {
				return nil
			}
		}
	}
}
