package kafkabus

// Offsets: the group's lag, newest offsets against committed ones.

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// Lag is the number of messages of the events topic not yet committed by
// the group: the sum over partitions of newest offset − committed offset
// (a partition without a committed offset counts from its oldest message).
func (c *Consumer) Lag(ctx context.Context) (int64, error) {
	topic := c.cfg.EventsTopic()
	if err := c.client.RefreshMetadata(topic); err != nil {
		return 0, fmt.Errorf("kafkabus: lag: metadata of %s: %w", topic, err)
	}
	parts, err := c.client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("kafkabus: lag: partitions of %s: %w", topic, err)
	}
	resp, err := c.admin.ListConsumerGroupOffsets(c.cfg.Group, map[string][]int32{topic: parts})
	if err != nil {
		return 0, fmt.Errorf("kafkabus: lag: offsets of group %s: %w", c.cfg.Group, err)
	}
	if !errors.Is(resp.Err, sarama.ErrNoError) {
		return 0, fmt.Errorf("kafkabus: lag: offsets of group %s: %w", c.cfg.Group, resp.Err)
	}
	var lag int64
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		newest, err := c.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, fmt.Errorf("kafkabus: lag: newest offset of %s/%d: %w", topic, p, err)
		}
		committed := int64(-1)
		if b := resp.GetBlock(topic, p); b != nil {
			if !errors.Is(b.Err, sarama.ErrNoError) {
				return 0, fmt.Errorf("kafkabus: lag: committed offset of %s/%d: %w", topic, p, b.Err)
			}
			committed = b.Offset
		}
		if committed < 0 {
			if committed, err = c.client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
				return 0, fmt.Errorf("kafkabus: lag: oldest offset of %s/%d: %w", topic, p, err)
			}
		}
		lag += max(newest-committed, 0)
	}
	return lag, nil
}
