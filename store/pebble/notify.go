package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/invariants"
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
	err := n.s.write(n.s.wo, func(b *pebble.Batch) error {
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
	if err == nil && invariants.Enabled {
		n.checkHeads(ctx, acts)
	}
	return err
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
