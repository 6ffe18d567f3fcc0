package pebblestore

// Web Push subscriptions, and the settings kept beside them (webpush's
// VAPID key pair).

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/notify"
)

// PutSubscription implements notify.Subscriptions.
func (n *NotifyStore) PutSubscription(ctx context.Context, sub notify.Subscription) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validKeyID(sub.ID) {
		return fmt.Errorf("pebblestore: subscription: %w", errBadID)
	}
	k := append(nSubPrefix(nil, sub.User), sub.ID...)
	v := binary.AppendVarint([]byte{valueV1}, sub.Created)
	v = appendStr(v, sub.Endpoint)
	v = appendStr(v, sub.P256dh)
	v = appendStr(v, sub.Auth)
	v = append(v, sub.Lang...)
	return n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Set(k, v, nil) })
}

// DeleteSubscription implements notify.Subscriptions.
func (n *NotifyStore) DeleteSubscription(ctx context.Context, user int64, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := append(nSubPrefix(nil, user), id...)
	return n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Delete(k, nil) })
}

// Subscriptions implements notify.Subscriptions.
func (n *NotifyStore) Subscriptions(ctx context.Context, user int64) ([]notify.Subscription, error) {
	p := nSubPrefix(nil, user)
	var out []notify.Subscription
	var bad error
	err := n.s.scan(ctx, p, prefixEnd(nil, p), func(k, v []byte) bool {
		r := reader{b: v}
		if bad = r.version("subscription"); bad != nil {
			return false
		}
		s := notify.Subscription{User: user, ID: string(k[len(p):]), Created: r.varint(),
			Endpoint: r.str(), P256dh: r.str(), Auth: r.str()}
		s.Lang = string(r.tail())
		if r.bad {
			bad = corrupt("subscription")
			return false
		}
		out = append(out, s)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: subscriptions: %w", err)
	}
	sortSubs(out)
	return out, nil
}

func sortSubs(s []notify.Subscription) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].Created < s[j-1].Created ||
			s[j].Created == s[j-1].Created && s[j].ID < s[j-1].ID); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// PutSettingIfAbsent implements notify.Settings.
func (n *NotifyStore) PutSettingIfAbsent(ctx context.Context, name, value string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	k := metaKey(nil, "setting."+name)
	idx := n.s.locks.lock([]int{n.s.locks.of(k)})
	defer n.s.locks.unlock(idx)
	v, found, err := n.s.getCopy(k, nil)
	if err != nil {
		return "", err
	}
	if found {
		return string(v), nil
	}
	if err := n.s.db.Set(k, []byte(value), pebble.Sync); err != nil {
		return "", fmt.Errorf("pebblestore: put setting: %w", err)
	}
	return value, nil
}
