package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/lenta-dev/lenta/timeline"
)

func openReal(ctx context.Context, o options, policy timeline.Policy, r roles, log *slog.Logger) (*backend, error) {
	return nil, errors.New("the Kafka + Cassandra backend is not wired yet")
}
