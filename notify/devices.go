package notify

import (
	"context"
	"fmt"
	"time"
)

// MaxDevices caps a user's push subscriptions; subscribing one more drops
// the oldest (a browser that stopped renewing its subscription).
const MaxDevices = 8

// EndpointChecker checks where an endpoint resolves (Transport does).
type EndpointChecker interface {
	CheckEndpoint(ctx context.Context, endpoint string) error
}

// Subscribe stores a checked subscription for user, replacing the same
// browser's and dropping the oldest beyond MaxDevices.
func Subscribe(ctx context.Context, subs Subscriptions, check EndpointChecker, user int64, s Subscription, now time.Time) error {
	if err := check.CheckEndpoint(ctx, s.Endpoint); err != nil {
		return err
	}
	s.User, s.Created = user, now.UnixMilli()
	have, err := subs.Subscriptions(ctx, user)
	if err != nil {
		return fmt.Errorf("notify: read subscriptions: %w", err)
	}
	others := make([]Subscription, 0, len(have))
	for _, h := range have {
		if h.ID != s.ID {
			others = append(others, h)
		}
	}
	for i := 0; len(others)-i >= MaxDevices; i++ {
		if err := subs.DeleteSubscription(ctx, user, others[i].ID); err != nil {
			return fmt.Errorf("notify: drop oldest subscription: %w", err)
		}
	}
	if err := subs.PutSubscription(ctx, s); err != nil {
		return fmt.Errorf("notify: store subscription: %w", err)
	}
	return nil
}
