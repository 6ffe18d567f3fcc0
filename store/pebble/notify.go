package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/notify"
)

// Notification and push tables (keys.go lists the others):
//
//	0x80 nAct    user i64, group str, actor i64         -> activity value
//	0x81 nIdx    user i64, ts inv64, group invid         -> empty
//	0x82 nMark   user i64                                -> v, ts, group(tail)
//	0x83 nSub    user i64, id(tail)                      -> subscription value
//	0x84 pushQ   shard u32, due i64, user i64, group(tail) -> v, deadline
//	0x85 pushCP  shard u32                               -> due i64 (8 bytes BE)
//	0x8B nHead   user i64, group(tail)                   -> v, ts of the newest indexed activity
//	meta "setting.<name>"                                -> the setting
//
// Value encodings (after the version byte, as in codec.go):
//
//	activity      kind str, object str, ts, until, event id(tail)
//	subscription  created, endpoint str, p256dh str, auth str, lang(tail)
//
// nHead is a cache of the group's newest ts, never above the truth:
// PutActivities with index sets it (Inbox.Add indexes only an activity
// at or above the group's newest), DeleteActivity and DeleteGroups delete
// it, the purge drops it with the activities; when it is absent Head
// reads the group's rows.
//
// nIdx keys of one user sort newest first by (ts desc, group desc), which
// is notify.Position order, so an inbox page is one forward scan. Push
// queue keys are never deleted by the sender (it keeps a checkpoint per
// shard); PurgePushQueue drops the ones before a due second.
const (
	tNotifyAct  byte = 0x80
	tNotifyIdx  byte = 0x81
	tNotifyMark byte = 0x82
	tNotifySub  byte = 0x83
	tPushQueue  byte = 0x84
	tPushCP     byte = 0x85
	tNotifyHead byte = 0x8B
)

// NotifyStore implements notify.Store, notify.Subscriptions, notify.Queue
// and notify.Settings.
type NotifyStore struct{ s *Store }

var (
	_ notify.Store         = (*NotifyStore)(nil)
	_ notify.Subscriptions = (*NotifyStore)(nil)
	_ notify.Queue         = (*NotifyStore)(nil)
	_ notify.Settings      = (*NotifyStore)(nil)
)

// Notify is the notifications and push view.
func (s *Store) Notify() *NotifyStore { return &NotifyStore{s: s} }

func nActPrefix(b []byte, user int64, group string) []byte {
	return appendStr(appendI64(append(b, tNotifyAct), user), group)
}

func nHeadKey(b []byte, user int64, group string) []byte {
	return append(appendI64(append(b, tNotifyHead), user), group...)
}

func nIdxKey(b []byte, user int64, p notify.Position) []byte {
	b = appendI64(append(b, tNotifyIdx), user)
	return appendInvID(appendInv64(b, p.TS), p.Group)
}

func nSubPrefix(b []byte, user int64) []byte { return appendI64(append(b, tNotifySub), user) }

func pushQPrefix(b []byte, shard int, due int64) []byte {
	return appendI64(binary.BigEndian.AppendUint32(append(b, tPushQueue), uint32(shard)), due)
}

func checkGroup(g string) error {
	if !validKeyID(g) {
		return fmt.Errorf("pebblestore: group: %w", errBadID)
	}
	return nil
}

// PutActivities implements notify.Store.
func (n *NotifyStore) PutActivities(ctx context.Context, acts []notify.Activity, index bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		var k, v []byte
		for i := range acts {
			a := &acts[i]
			if err := checkGroup(a.Group); err != nil {
				return err
			}
			k = appendI64(nActPrefix(k[:0], a.User, a.Group), a.Actor)
			v = appendStr(append(v[:0], valueV1), string(a.Kind))
			v = appendStr(v, a.Object)
			v = binary.AppendVarint(v, a.TS)
			v = binary.AppendVarint(v, a.Until)
			v = append(v, a.EventID...)
			if err := b.Set(k, v, nil); err != nil {
				return err
			}
			if index {
				k = nIdxKey(k[:0], a.User, notify.Position{TS: a.TS, Group: a.Group})
				if err := b.Set(k, nil, nil); err != nil {
					return err
				}
				k = nHeadKey(k[:0], a.User, a.Group)
				v = binary.AppendVarint(append(v[:0], valueV1), a.TS)
				if err := b.Set(k, v, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DeleteActivity implements notify.Store.
func (n *NotifyStore) DeleteActivity(ctx context.Context, user int64, group string, actor int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkGroup(group); err != nil {
		return err
	}
	k := appendI64(nActPrefix(nil, user, group), actor)
	h := nHeadKey(nil, user, group)
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		if err := b.Delete(k, nil); err != nil {
			return err
		}
		return b.Delete(h, nil) // the actor may have been the newest: Head rereads the rows
	})
}

// Head implements notify.Store: two point reads when the group has a head
// row; else one pass over the group's rows that decodes only their ts.
func (n *NotifyStore) Head(ctx context.Context, user int64, group string, actor int64) (notify.GroupHead, error) {
	var h notify.GroupHead
	if err := checkGroup(group); err != nil {
		return h, err
	}
	if err := ctx.Err(); err != nil {
		return h, err
	}
	var kb [64]byte
	p := nActPrefix(kb[:0], user, group)
	mine, found, err := n.s.getCopy(appendI64(p, actor), nil)
	if err != nil {
		return h, fmt.Errorf("pebblestore: notification group head: %w", err)
	}
	if found {
		a, err := decodeActivity(mine)
		if err == nil {
			h.EventID = a.EventID
		}
	}
	head, found, err := n.s.getCopy(nHeadKey(kb[:0], user, group), mine[:0])
	if err != nil {
		return h, fmt.Errorf("pebblestore: notification group head: %w", err)
	}
	if found {
		r := reader{b: head}
		if r.version("group head") == nil {
			if ts := r.varint(); !r.bad {
				h.Newest = ts
				return h, nil
			}
		}
	}
	p = nActPrefix(kb[:0], user, group)
	err = n.s.scan(ctx, p, prefixEnd(nil, p), func(_, v []byte) bool {
		if ts, ok := activityTS(nil, v); ok && ts > h.Newest {
			h.Newest = ts
		}
		return true
	})
	if err != nil {
		return h, fmt.Errorf("pebblestore: notification group head: %w", err)
	}
	return h, nil
}

// Groups implements notify.Store.
func (n *NotifyStore) Groups(ctx context.Context, user int64, groups []string) ([][]notify.Activity, error) {
	out := make([][]notify.Activity, len(groups))
	for i, g := range groups {
		p := nActPrefix(nil, user, g)
		err := n.s.scan(ctx, p, prefixEnd(nil, p), func(k, v []byte) bool {
			if len(out[i]) >= notify.MaxGroupActors {
				return false
			}
			a, err := decodeActivity(v)
			if err != nil || len(k) < len(p)+8 {
				return true // skip a corrupt row rather than fail the inbox
			}
			a.User, a.Group, a.Actor = user, g, lastI64(k)
			out[i] = append(out[i], a)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("pebblestore: notification group: %w", err)
		}
	}
	return out, nil
}

func decodeActivity(v []byte) (notify.Activity, error) {
	r := reader{b: v}
	if err := r.version("activity"); err != nil {
		return notify.Activity{}, err
	}
	a := notify.Activity{Kind: notify.Kind(r.str()), Object: r.str(), TS: r.varint(), Until: r.varint()}
	a.EventID = string(r.tail())
	if r.bad {
		return notify.Activity{}, corrupt("activity")
	}
	return a, nil
}

// Index implements notify.Store.
func (n *NotifyStore) Index(ctx context.Context, user int64, after notify.Position, limit int) ([]notify.Position, error) {
	prefix := appendI64([]byte{tNotifyIdx}, user)
	lower := prefix
	if !after.IsTop() {
		lower = append(nIdxKey(nil, user, after), 0)
	}
	var out []notify.Position
	err := n.s.scan(ctx, lower, prefixEnd(nil, prefix), func(k, _ []byte) bool {
		if len(k) < len(prefix)+9 {
			return true
		}
		p := notify.Position{TS: decodeInv64(k[len(prefix):]),
			Group: string(appendUninvID(nil, k[len(prefix)+8:]))}
		out = append(out, p)
		return len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: notification index: %w", err)
	}
	return out, nil
}

// DropIndex implements notify.Store.
func (n *NotifyStore) DropIndex(ctx context.Context, user int64, rows []notify.Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.s.write(n.s.wo, func(b *pebble.Batch) error {
		for _, p := range rows {
			if err := b.Delete(nIdxKey(nil, user, p), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func nMarkKey(user int64) []byte { return appendI64([]byte{tNotifyMark}, user) }

// ReadMark implements notify.Store.
func (n *NotifyStore) ReadMark(ctx context.Context, user int64) (notify.Position, error) {
	if err := ctx.Err(); err != nil {
		return notify.Position{}, err
	}
	v, found, err := n.s.getCopy(nMarkKey(user), nil)
	if err != nil || !found {
		return notify.Position{}, err
	}
	r := reader{b: v}
	if err := r.version("read mark"); err != nil {
		return notify.Position{}, err
	}
	p := notify.Position{TS: r.varint()}
	p.Group = string(r.tail())
	if r.bad {
		return notify.Position{}, corrupt("read mark")
	}
	return p, nil
}

// SetReadMark implements notify.Store: the mark only moves forward.
func (n *NotifyStore) SetReadMark(ctx context.Context, user int64, p notify.Position) error {
	k := nMarkKey(user)
	idx := n.s.locks.lock([]int{n.s.locks.of(k)})
	defer n.s.locks.unlock(idx)
	cur, err := n.ReadMark(ctx, user)
	if err != nil {
		return err
	}
	if !p.After(cur) {
		return nil
	}
	v := binary.AppendVarint([]byte{valueV1}, p.TS)
	v = append(v, p.Group...)
	return n.s.write(n.s.wo, func(b *pebble.Batch) error { return b.Set(k, v, nil) })
}

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

// scan calls fn for each key in [lower, upper) until fn returns false.
func (s *Store) scan(ctx context.Context, lower, upper []byte, fn func(k, v []byte) bool) error {
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		if !fn(it.Key(), v) {
			break
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return errors.Join(err, ctx.Err())
}
