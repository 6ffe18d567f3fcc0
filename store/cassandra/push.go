package cassandrastore

import (
	"context"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/notify"
)

// Push retries, shard leases and group deletes, on the tables of
// schema/cql/004_push_retry_lease.cql (and 002_notify.cql).
var (
	_ notify.Retries = (*NotifyStore)(nil)
	_ notify.Leases  = (*NotifyStore)(nil)
)

const (
	insertRetry      = `INSERT INTO push_retry (shard, due, uid, grp, sub, attempt, deadline) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`
	deleteRetry      = `DELETE FROM push_retry WHERE shard = ? AND due = ? AND uid = ? AND grp = ? AND sub = ?`
	selectRetries    = `SELECT due, uid, grp, sub, attempt, deadline FROM push_retry WHERE shard = ? LIMIT ?`
	selectRetryAfter = `SELECT due, uid, grp, sub, attempt, deadline FROM push_retry WHERE shard = ? AND (due, uid, grp, sub) > (?, ?, ?, ?) LIMIT ?`
	takeLease        = `INSERT INTO push_lease (shard, owner) VALUES (?, ?) IF NOT EXISTS USING TTL ?`
	renewLease       = `UPDATE push_lease USING TTL ? SET owner = ? WHERE shard = ? IF owner = ?`
	dropLease        = `DELETE FROM push_lease WHERE shard = ? IF owner = ?`
	insertMember     = `INSERT INTO push_members (k, owner) VALUES (0, ?) USING TTL ?`
	selectMembers    = `SELECT owner FROM push_members WHERE k = 0`
	deleteGroup      = `DELETE FROM notify_activity WHERE uid = ? AND grp = ?`
)

// maxRetryTTL bounds a stored retry's life (the table's default TTL).
const maxRetryTTL = 2 * 24 * time.Hour

// PutRetry implements notify.Retries: the row lives until a minute after
// the push's deadline (at most two days).
func (n *NotifyStore) PutRetry(ctx context.Context, r notify.Retry) error {
	if r.Group == "" || r.Sub == "" {
		return wrap("put retry", errBadID)
	}
	ttl := time.Until(time.UnixMilli(r.Deadline)) + time.Minute
	ttl = min(max(ttl, time.Minute), maxRetryTTL)
	return wrap("put retry", n.s.exec(ctx, insertRetry, r.Shard, r.Due, r.User, r.Group, r.Sub, r.Attempt, r.Deadline,
		int(ttl/time.Second)))
}

// DeleteRetry implements notify.Retries.
func (n *NotifyStore) DeleteRetry(ctx context.Context, r notify.Retry) error {
	return wrap("delete retry", n.s.exec(ctx, deleteRetry, r.Shard, r.Due, r.User, r.Group, r.Sub))
}

// Retries implements notify.Retries.
func (n *NotifyStore) Retries(ctx context.Context, shard int, after notify.Retry, limit int) ([]notify.Retry, error) {
	var q *gocql.Query
	if after == (notify.Retry{}) {
		q = n.s.sess.Query(selectRetries, shard, limit)
	} else {
		q = n.s.sess.Query(selectRetryAfter, shard, after.Due, after.User, after.Group, after.Sub, limit)
	}
	iter := q.Idempotent(true).IterContext(ctx)
	var out []notify.Retry
	r := notify.Retry{Shard: shard}
	for iter.Scan(&r.Due, &r.User, &r.Group, &r.Sub, &r.Attempt, &r.Deadline) {
		out = append(out, r)
	}
	return out, wrap("read push retries", iter.Close())
}

// ttlSeconds rounds a lease TTL up to whole seconds (Cassandra's unit).
func ttlSeconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// AcquireLease implements notify.Leases with lightweight transactions:
// renew when owner holds the lease, else take it if nobody does.
func (n *NotifyStore) AcquireLease(ctx context.Context, shard int, owner string, ttl time.Duration) (bool, error) {
	secs := ttlSeconds(ttl)
	ok, err := n.s.cas(ctx, []casStmt{{renewLease, []any{secs, owner, shard, owner}}})
	if err != nil || ok {
		return ok, wrap("renew lease", err)
	}
	ok, err = n.s.cas(ctx, []casStmt{{takeLease, []any{shard, owner, secs}}})
	return ok, wrap("take lease", err)
}

// ReleaseLease implements notify.Leases.
func (n *NotifyStore) ReleaseLease(ctx context.Context, shard int, owner string) error {
	_, err := n.s.cas(ctx, []casStmt{{dropLease, []any{shard, owner}}})
	return wrap("release lease", err)
}

// Heartbeat implements notify.Leases.
func (n *NotifyStore) Heartbeat(ctx context.Context, owner string, ttl time.Duration) ([]string, error) {
	if owner == "" {
		return nil, wrap("heartbeat", errBadID)
	}
	if err := n.s.exec(ctx, insertMember, owner, ttlSeconds(ttl)); err != nil {
		return nil, wrap("heartbeat", err)
	}
	iter := n.s.sess.Query(selectMembers).Idempotent(true).IterContext(ctx)
	var out []string
	var o string
	for iter.Scan(&o) {
		out = append(out, o)
	}
	return out, wrap("read push members", iter.Close())
}

// DeleteGroups implements notify.Store: a partition delete of each group
// and a delete of its index row, in parallel.
func (n *NotifyStore) DeleteGroups(ctx context.Context, groups []notify.GroupAt) error {
	return wrap("delete groups", n.s.each(ctx, len(groups)*2, func(i int) error {
		g := &groups[i/2]
		if g.Pos.Group == "" {
			return errBadID
		}
		if i%2 == 1 {
			return n.s.exec(ctx, deleteIndex, g.User, g.Pos.TS, g.Pos.Group)
		}
		return n.s.exec(ctx, deleteGroup, g.User, g.Pos.Group)
	}))
}
