package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/notify"
)

// Push retries and shard leases (notify.go lists the other push tables):
//
//	0x86 pushRetry  shard u32, due i64, user i64, group str, sub(tail) -> v, attempt, deadline
//	0x87 pushLease  shard u32                                  -> v, expiry ms, owner(tail)
//	0x88 pushMember owner(tail)                                -> v, expiry ms
//
// The embedded store is opened by one process, so leases only matter
// between senders of that process; they follow the same rules as on
// Cassandra (expiry by the wall clock) so the storetest suite checks both.
const (
	tPushRetry  byte = 0x86
	tPushLease  byte = 0x87
	tPushMember byte = 0x88
)

var (
	_ notify.Retries = (*NotifyStore)(nil)
	_ notify.Leases  = (*NotifyStore)(nil)
)

func pushRetryKey(b []byte, r *notify.Retry) []byte {
	b = binary.BigEndian.AppendUint32(append(b, tPushRetry), uint32(r.Shard))
	b = appendI64(appendI64(b, r.Due), r.User)
	return append(appendStr(b, r.Group), r.Sub...)
}

// PutRetry implements notify.Retries (synced: a retry must survive a crash).
func (n *NotifyStore) PutRetry(ctx context.Context, r notify.Retry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkGroup(r.Group); err != nil {
		return err
	}
	if !validKeyID(r.Sub) {
		return fmt.Errorf("pebblestore: retry subscription: %w", errBadID)
	}
	v := binary.AppendVarint([]byte{valueV1}, int64(r.Attempt))
	v = binary.AppendVarint(v, r.Deadline)
	k := pushRetryKey(nil, &r)
	return n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Set(k, v, nil) })
}

// DeleteRetry implements notify.Retries.
func (n *NotifyStore) DeleteRetry(ctx context.Context, r notify.Retry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := pushRetryKey(nil, &r)
	return n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Delete(k, nil) })
}

// Retries implements notify.Retries.
func (n *NotifyStore) Retries(ctx context.Context, shard int, after notify.Retry, limit int) ([]notify.Retry, error) {
	p := binary.BigEndian.AppendUint32([]byte{tPushRetry}, uint32(shard))
	lower := p
	if after != (notify.Retry{}) {
		after.Shard = shard
		lower = append(pushRetryKey(nil, &after), 0)
	}
	var out []notify.Retry
	err := n.s.scan(ctx, lower, prefixEnd(nil, p), func(k, v []byte) bool {
		if len(k) < len(p)+16 {
			return true
		}
		r := notify.Retry{Shard: shard, Due: decodeI64(k[len(p):]), User: decodeI64(k[len(p)+8:])}
		kr := reader{b: k[len(p)+16:]}
		r.Group = kr.str()
		r.Sub = string(kr.tail())
		vr := reader{b: v}
		if vr.version("push retry") != nil {
			return true
		}
		r.Attempt, r.Deadline = int(vr.varint()), vr.varint()
		if !kr.bad && !vr.bad {
			out = append(out, r)
		}
		return len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: push retries: %w", err)
	}
	return out, nil
}

func pushLeaseKey(shard int) []byte {
	return binary.BigEndian.AppendUint32([]byte{tPushLease}, uint32(shard))
}

// leaseOf reads a lease or member row: its owner and expiry (unix ms).
func (n *NotifyStore) leaseOf(k []byte) (owner string, expiry int64, err error) {
	v, found, err := n.s.getCopy(k, nil)
	if err != nil || !found {
		return "", 0, err
	}
	r := reader{b: v}
	if err := r.version("push lease"); err != nil {
		return "", 0, err
	}
	expiry = r.varint()
	owner = string(r.tail())
	if r.bad {
		return "", 0, corrupt("push lease")
	}
	return owner, expiry, nil
}

// AcquireLease implements notify.Leases.
func (n *NotifyStore) AcquireLease(ctx context.Context, shard int, owner string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k := pushLeaseKey(shard)
	idx := n.s.locks.lock([]int{n.s.locks.of(k)})
	defer n.s.locks.unlock(idx)
	now := time.Now()
	cur, exp, err := n.leaseOf(k)
	if err != nil {
		return false, fmt.Errorf("pebblestore: read lease: %w", err)
	}
	if cur != "" && cur != owner && exp > now.UnixMilli() {
		return false, nil
	}
	v := binary.AppendVarint([]byte{valueV1}, now.Add(ttl).UnixMilli())
	v = append(v, owner...)
	if err := n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Set(k, v, nil) }); err != nil {
		return false, fmt.Errorf("pebblestore: write lease: %w", err)
	}
	return true, nil
}

// ReleaseLease implements notify.Leases.
func (n *NotifyStore) ReleaseLease(ctx context.Context, shard int, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := pushLeaseKey(shard)
	idx := n.s.locks.lock([]int{n.s.locks.of(k)})
	defer n.s.locks.unlock(idx)
	cur, _, err := n.leaseOf(k)
	if err != nil {
		return fmt.Errorf("pebblestore: read lease: %w", err)
	}
	if cur != owner {
		return nil
	}
	return n.s.write(pebble.Sync, func(b *pebble.Batch) error { return b.Delete(k, nil) })
}

// Heartbeat implements notify.Leases: expired members are dropped as they
// are seen.
func (n *NotifyStore) Heartbeat(ctx context.Context, owner string, ttl time.Duration) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if owner == "" {
		return nil, fmt.Errorf("pebblestore: heartbeat: %w", errBadID)
	}
	now := time.Now()
	k := append([]byte{tPushMember}, owner...)
	v := binary.AppendVarint([]byte{valueV1}, now.Add(ttl).UnixMilli())
	if err := n.s.write(n.s.wo, func(b *pebble.Batch) error { return b.Set(k, v, nil) }); err != nil {
		return nil, fmt.Errorf("pebblestore: heartbeat: %w", err)
	}
	p := []byte{tPushMember}
	var live []string
	var gone [][]byte
	err := n.s.scan(ctx, p, prefixEnd(nil, p), func(k, v []byte) bool {
		r := reader{b: v}
		if r.version("push member") != nil {
			return true
		}
		if exp := r.varint(); r.bad || exp <= now.UnixMilli() {
			gone = append(gone, slices.Clone(k))
		} else {
			live = append(live, string(k[1:]))
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: read members: %w", err)
	}
	if len(gone) > 0 {
		err := n.s.write(n.s.wo, func(b *pebble.Batch) error {
			for _, k := range gone {
				if err := b.Delete(k, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("pebblestore: drop members: %w", err)
		}
	}
	return live, nil
}

// DeleteGroups implements notify.Store. Each group's rows are found and
// deleted one by one (point deletes): range tombstones, one per group of
// a broadcast's audience, would slow every later read.
func (n *NotifyStore) DeleteGroups(ctx context.Context, groups []notify.GroupAt) error {
	var keys [][]byte
	for _, g := range groups {
		if err := checkGroup(g.Pos.Group); err != nil {
			return err
		}
		p := nActPrefix(nil, g.User, g.Pos.Group)
		err := n.s.scan(ctx, p, prefixEnd(nil, p), func(k, _ []byte) bool {
			keys = append(keys, slices.Clone(k))
			return true
		})
		if err != nil {
			return fmt.Errorf("pebblestore: read group: %w", err)
		}
		keys = append(keys, nIdxKey(nil, g.User, g.Pos), nHeadKey(nil, g.User, g.Pos.Group))
	}
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		for _, k := range keys {
			if err := b.Delete(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
