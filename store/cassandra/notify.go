package cassandrastore

import (
	"context"
	"slices"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/notify"
)

// NotifyStore implements notify.Store, notify.Subscriptions, notify.Queue
// and notify.Settings on the tables of schema/cql/002_notify.cql.
type NotifyStore struct{ s *Store }

var (
	_ notify.Store         = (*NotifyStore)(nil)
	_ notify.Subscriptions = (*NotifyStore)(nil)
	_ notify.Queue         = (*NotifyStore)(nil)
	_ notify.Settings      = (*NotifyStore)(nil)
)

// Notify is the notifications and push view.
func (s *Store) Notify() *NotifyStore { return &NotifyStore{s: s} }

const (
	insertActivity = `INSERT INTO notify_activity (uid, grp, actor, kind, object, ts, until, event_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	deleteActivity = `DELETE FROM notify_activity WHERE uid = ? AND grp = ? AND actor = ?`
	selectGroup    = `SELECT actor, kind, object, ts, until, event_id FROM notify_activity WHERE uid = ? AND grp = ? LIMIT ?`
	selectNewest   = `SELECT max(ts) FROM notify_activity WHERE uid = ? AND grp = ?`
	selectMine     = `SELECT event_id FROM notify_activity WHERE uid = ? AND grp = ? AND actor = ?`
	insertIndex    = `INSERT INTO notify_index (uid, ts, grp) VALUES (?, ?, ?)`
	deleteIndex    = `DELETE FROM notify_index WHERE uid = ? AND ts = ? AND grp = ?`
	indexTop       = `SELECT ts, grp FROM notify_index WHERE uid = ? LIMIT ?`
	indexAfter     = `SELECT ts, grp FROM notify_index WHERE uid = ? AND (ts, grp) < (?, ?) LIMIT ?`
	selectReadMark = `SELECT ts, grp FROM notify_read WHERE uid = ?`
	insertReadMark = `INSERT INTO notify_read (uid, ts, grp) VALUES (?, ?, ?) USING TIMESTAMP ?`
	insertSub      = `INSERT INTO push_subscriptions (uid, id, endpoint, p256dh, auth, lang, created) VALUES (?, ?, ?, ?, ?, ?, ?)`
	deleteSub      = `DELETE FROM push_subscriptions WHERE uid = ? AND id = ?`
	selectSubs     = `SELECT id, endpoint, p256dh, auth, lang, created FROM push_subscriptions WHERE uid = ?`
	insertTask     = `INSERT INTO push_queue (shard, due, uid, grp, deadline) VALUES (?, ?, ?, ?, ?)`
	selectDue      = `SELECT uid, grp, deadline FROM push_queue WHERE shard = ? AND due = ? LIMIT ?`
	selectDueAfter = `SELECT uid, grp, deadline FROM push_queue WHERE shard = ? AND due = ? AND (uid, grp) > (?, ?) LIMIT ?`
	selectCP       = `SELECT due FROM push_checkpoint WHERE shard = ?`
	insertCP       = `INSERT INTO push_checkpoint (shard, due) VALUES (?, ?)`
	insertSetting  = `INSERT INTO settings (name, value) VALUES (?, ?) IF NOT EXISTS`
	selectSetting  = `SELECT value FROM settings WHERE name = ?`
)

// PutActivities implements notify.Store: one idempotent insert per row,
// in parallel (no multi-partition batches).
func (n *NotifyStore) PutActivities(ctx context.Context, acts []notify.Activity, index bool) error {
	per := 1
	if index {
		per = 2
	}
	return wrap("put activities", n.s.each(ctx, len(acts)*per, func(i int) error {
		a := &acts[i/per]
		if a.Group == "" {
			return errBadID
		}
		if i%per == 1 {
			return n.s.exec(ctx, insertIndex, a.User, a.TS, a.Group)
		}
		return n.s.exec(ctx, insertActivity, a.User, a.Group, a.Actor, string(a.Kind), a.Object, a.TS, a.Until, a.EventID)
	}))
}

// DeleteActivity implements notify.Store.
func (n *NotifyStore) DeleteActivity(ctx context.Context, user int64, group string, actor int64) error {
	return wrap("delete activity", n.s.exec(ctx, deleteActivity, user, group, actor))
}

// Groups implements notify.Store.
func (n *NotifyStore) Groups(ctx context.Context, user int64, groups []string) ([][]notify.Activity, error) {
	out := make([][]notify.Activity, len(groups))
	err := n.s.each(ctx, len(groups), func(i int) error {
		iter := n.s.sess.Query(selectGroup, user, groups[i], notify.MaxGroupActors).Idempotent(true).IterContext(ctx)
		var a notify.Activity
		var kind string
		for iter.Scan(&a.Actor, &kind, &a.Object, &a.TS, &a.Until, &a.EventID) {
			a.User, a.Group, a.Kind = user, groups[i], notify.Kind(kind)
			out[i] = append(out[i], a)
		}
		return iter.Close()
	})
	return out, wrap("read notification groups", err)
}

// Head implements notify.Store with two queries in parallel: the group's
// newest ts (an aggregate Cassandra computes inside the one partition, so
// the group's rows never cross the wire) and the actor's own row.
func (n *NotifyStore) Head(ctx context.Context, user int64, group string, actor int64) (notify.GroupHead, error) {
	var h notify.GroupHead
	if group == "" {
		return h, wrap("read notification group head", errBadID)
	}
	err := n.s.each(ctx, 2, func(i int) error {
		if i == 0 {
			var newest *int64
			if err := n.s.sess.Query(selectNewest, user, group).Idempotent(true).ScanContext(ctx, &newest); err != nil {
				return err
			}
			if newest != nil {
				h.Newest = *newest
			}
			return nil
		}
		err := n.s.sess.Query(selectMine, user, group, actor).Idempotent(true).ScanContext(ctx, &h.EventID)
		if err == gocql.ErrNotFound {
			return nil
		}
		return err
	})
	return h, wrap("read notification group head", err)
}

// Index implements notify.Store.
func (n *NotifyStore) Index(ctx context.Context, user int64, after notify.Position, limit int) ([]notify.Position, error) {
	var q *gocql.Query
	if after.IsTop() {
		q = n.s.sess.Query(indexTop, user, limit)
	} else {
		q = n.s.sess.Query(indexAfter, user, after.TS, after.Group, limit)
	}
	iter := q.Idempotent(true).IterContext(ctx)
	var out []notify.Position
	var p notify.Position
	for iter.Scan(&p.TS, &p.Group) {
		out = append(out, p)
	}
	return out, wrap("read notification index", iter.Close())
}

// DropIndex implements notify.Store.
func (n *NotifyStore) DropIndex(ctx context.Context, user int64, rows []notify.Position) error {
	return wrap("drop index rows", n.s.each(ctx, len(rows), func(i int) error {
		return n.s.exec(ctx, deleteIndex, user, rows[i].TS, rows[i].Group)
	}))
}

// ReadMark implements notify.Store.
func (n *NotifyStore) ReadMark(ctx context.Context, user int64) (notify.Position, error) {
	var p notify.Position
	err := n.s.sess.Query(selectReadMark, user).Idempotent(true).ScanContext(ctx, &p.TS, &p.Group)
	if err == gocql.ErrNotFound {
		return notify.Position{}, nil
	}
	return p, wrap("read mark", err)
}

// SetReadMark implements notify.Store. The write time is derived from the
// position (ts in µs plus a little of the group's order), so the newest
// position wins under any interleaving; positions with the same ts keep
// the one written last, which is at worst one group too few read.
func (n *NotifyStore) SetReadMark(ctx context.Context, user int64, p notify.Position) error {
	cur, err := n.ReadMark(ctx, user)
	if err != nil {
		return err
	}
	if !p.After(cur) {
		return nil
	}
	return wrap("set read mark", n.s.exec(ctx, insertReadMark, user, p.TS, p.Group, p.TS*1000+int64(len(p.Group)%1000)))
}

// PutSubscription implements notify.Subscriptions.
func (n *NotifyStore) PutSubscription(ctx context.Context, sub notify.Subscription) error {
	if sub.ID == "" {
		return wrap("put subscription", errBadID)
	}
	return wrap("put subscription", n.s.exec(ctx, insertSub, sub.User, sub.ID, sub.Endpoint, sub.P256dh, sub.Auth, sub.Lang, sub.Created))
}

// DeleteSubscription implements notify.Subscriptions.
func (n *NotifyStore) DeleteSubscription(ctx context.Context, user int64, id string) error {
	return wrap("delete subscription", n.s.exec(ctx, deleteSub, user, id))
}

// Subscriptions implements notify.Subscriptions.
func (n *NotifyStore) Subscriptions(ctx context.Context, user int64) ([]notify.Subscription, error) {
	iter := n.s.sess.Query(selectSubs, user).Idempotent(true).IterContext(ctx)
	var out []notify.Subscription
	s := notify.Subscription{User: user}
	for iter.Scan(&s.ID, &s.Endpoint, &s.P256dh, &s.Auth, &s.Lang, &s.Created) {
		out = append(out, s)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap("read subscriptions", err)
	}
	slices.SortFunc(out, func(a, b notify.Subscription) int {
		if a.Created != b.Created {
			if a.Created < b.Created {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}

// Enqueue implements notify.Queue.
func (n *NotifyStore) Enqueue(ctx context.Context, tasks []notify.Task) error {
	return wrap("enqueue push", n.s.each(ctx, len(tasks), func(i int) error {
		t := &tasks[i]
		return n.s.exec(ctx, insertTask, t.Shard, t.Due, t.User, t.Group, t.Deadline)
	}))
}

// Due implements notify.Queue.
func (n *NotifyStore) Due(ctx context.Context, shard int, due int64, afterUser int64, afterGroup string, limit int) ([]notify.Task, error) {
	var q *gocql.Query
	if afterUser == 0 && afterGroup == "" {
		q = n.s.sess.Query(selectDue, shard, due, limit)
	} else {
		q = n.s.sess.Query(selectDueAfter, shard, due, afterUser, afterGroup, limit)
	}
	iter := q.Idempotent(true).IterContext(ctx)
	var out []notify.Task
	t := notify.Task{Shard: shard, Due: due}
	for iter.Scan(&t.User, &t.Group, &t.Deadline) {
		out = append(out, t)
	}
	return out, wrap("read push queue", iter.Close())
}

// Checkpoint implements notify.Queue.
func (n *NotifyStore) Checkpoint(ctx context.Context, shard int) (int64, error) {
	var due int64
	err := n.s.sess.Query(selectCP, shard).Idempotent(true).ScanContext(ctx, &due)
	if err == gocql.ErrNotFound {
		return 0, nil
	}
	return due, wrap("read push checkpoint", err)
}

// SetCheckpoint implements notify.Queue.
func (n *NotifyStore) SetCheckpoint(ctx context.Context, shard int, due int64) error {
	return wrap("set push checkpoint", n.s.exec(ctx, insertCP, shard, due))
}

// PutSettingIfAbsent implements notify.Settings with a lightweight
// transaction, so two processes starting at once agree on one value.
func (n *NotifyStore) PutSettingIfAbsent(ctx context.Context, name, value string) (string, error) {
	applied, err := casApplied(n.s.sess.Query(insertSetting, name, value).NoSkipMetadata().IterContext(ctx))
	if err != nil {
		return "", wrap("put setting", err)
	}
	if applied {
		return value, nil
	}
	var v string
	err = n.s.sess.Query(selectSetting, name).SerialConsistency(gocql.LocalSerial).Consistency(gocql.LocalSerial).
		Idempotent(true).ScanContext(ctx, &v)
	return v, wrap("read setting", err)
}
