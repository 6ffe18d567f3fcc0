package pebblestore

// The push queue: due tasks per shard, and the per-shard checkpoints that
// stand in for deleting sent tasks.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/notify"
)

// Enqueue implements notify.Queue.
func (n *NotifyStore) Enqueue(ctx context.Context, tasks []notify.Task) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		var k, v []byte
		for i := range tasks {
			t := &tasks[i]
			k = appendI64(pushQPrefix(k[:0], t.Shard, t.Due), t.User)
			k = append(k, t.Group...)
			v = binary.AppendVarint(append(v[:0], valueV1), t.Deadline)
			if err := b.Set(k, v, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// Due implements notify.Queue.
func (n *NotifyStore) Due(ctx context.Context, shard int, due int64, afterUser int64, afterGroup string, limit int) ([]notify.Task, error) {
	p := pushQPrefix(nil, shard, due)
	lower := p
	if afterUser != 0 || afterGroup != "" {
		lower = append(appendI64(bytes.Clone(p), afterUser), afterGroup...)
		lower = append(lower, 0)
	}
	var out []notify.Task
	err := n.s.scan(ctx, lower, prefixEnd(nil, p), func(k, v []byte) bool {
		if len(k) < len(p)+8 {
			return true
		}
		r := reader{b: v}
		if r.version("push task") != nil {
			return true
		}
		t := notify.Task{Shard: shard, Due: due, User: decodeI64(k[len(p):]), Group: string(k[len(p)+8:]),
			Deadline: r.varint()}
		if !r.bad {
			out = append(out, t)
		}
		return len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: push queue: %w", err)
	}
	return out, nil
}

func pushCPKey(shard int) []byte {
	return binary.BigEndian.AppendUint32([]byte{tPushCP}, uint32(shard))
}

// Checkpoint implements notify.Queue.
func (n *NotifyStore) Checkpoint(ctx context.Context, shard int) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return n.s.getCounter(pushCPKey(shard))
}

// purgeEvery: one checkpoint in purgeEvery seconds also drops the shard's
// tasks up to it (the embedded store has no TTL). Doing it at every
// checkpoint would pile up range tombstones that every read must skip.
const purgeEvery = 64

// SetCheckpoint implements notify.Queue.
func (n *NotifyStore) SetCheckpoint(ctx context.Context, shard int, due int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		if due%purgeEvery == 0 {
			lo := pushQPrefix(nil, shard, 0)[:5]
			if err := b.DeleteRange(lo, pushQPrefix(nil, shard, due+1), nil); err != nil {
				return err
			}
		}
		return b.Set(pushCPKey(shard), binary.BigEndian.AppendUint64(nil, uint64(due)), nil)
	})
}
