package kafkabus

import (
	"context"
	"fmt"

	"github.com/IBM/sarama"
)

// TopicsChecker says whether the events topic and its dead-letter topic
// exist with a leader for every partition, over one admin connection kept
// open between checks (for a health probe).
type TopicsChecker struct {
	admin  sarama.ClusterAdmin
	topics []string
}

// NewTopicsChecker connects the admin client; Close it.
func NewTopicsChecker(cfg Config) (*TopicsChecker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	sc, err := cfg.base()
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafkabus: connect admin: %w", err)
	}
	return &TopicsChecker{admin: admin, topics: []string{cfg.EventsTopic(), cfg.DeadLetterTopic()}}, nil
}

// Check returns nil when both topics are ready. The admin client's own
// network timeouts bound it; ctx is checked before asking.
func (c *TopicsChecker) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	md, err := c.admin.DescribeTopics(c.topics)
	if err == nil {
		err = leadersReady(md)
	}
	if err != nil {
		return fmt.Errorf("kafkabus: topics: %w", err)
	}
	return nil
}

// Close closes the admin connection.
func (c *TopicsChecker) Close() error { return c.admin.Close() }
