package cassandrastore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/ranking"
)

// RankingStore implements ranking.AffinityStore on affinity_interactions
// and ranking.SnapshotStore on ranked_snapshots (schema/cql/003_ranking.cql).
type RankingStore struct{ s *Store }

var (
	_ ranking.AffinityStore = (*RankingStore)(nil)
	_ ranking.SnapshotStore = (*RankingStore)(nil)
)

// Ranking is the ranking stores' view.
func (s *Store) Ranking() *RankingStore { return &RankingStore{s: s} }

const (
	insertInteraction = `INSERT INTO affinity_interactions (viewer, author, ts, event_id, weight) VALUES (?, ?, ?, ?, ?) USING TTL ?`
	selectInteraction = `SELECT ts, weight FROM affinity_interactions WHERE viewer = ? AND author = ? AND ts >= ? LIMIT ?`
	insertSnapshot    = `INSERT INTO ranked_snapshots (viewer, id, data) VALUES (?, ?, ?) USING TTL ?`
	selectSnapshot    = `SELECT data FROM ranked_snapshots WHERE viewer = ? AND id = ?`
)

// ttlUntil is the TTL in seconds of a row that may be forgotten at until
// (unix ms); 0 when it is already due.
func (r *RankingStore) ttlUntil(until int64) int {
	ms := until - r.s.cfg.Now().UnixMilli()
	if ms <= 0 {
		return 0
	}
	return int(max((ms+999)/1000, 1))
}

// AddInteractions writes one row per interaction (its event id in the
// key), pipelined; an interaction already past its horizon is skipped.
func (r *RankingStore) AddInteractions(ctx context.Context, in []ranking.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.s.each(ctx, len(in), func(i int) error {
		x := &in[i]
		if x.EventID == "" {
			return errBadID
		}
		ttl := r.ttlUntil(x.Until)
		if ttl == 0 {
			return nil
		}
		return r.s.exec(ctx, insertInteraction, x.Viewer, x.Author, x.TS, x.EventID, x.Weight, ttl)
	})
	return wrap("add interactions", err)
}

// Interactions reads the newest ranking.MaxPerPair interactions of each
// (viewer, author) pair, one partition read per author, concurrently; fn
// is called under a lock, so never concurrently.
func (r *RankingStore) Interactions(ctx context.Context, viewer int64, authors []int64, since int64,
	fn func(i int, ts int64, weight float64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var mu sync.Mutex
	err := r.s.each(ctx, len(authors), func(i int) error {
		iter := r.s.sess.Query(selectInteraction, viewer, authors[i], since, ranking.MaxPerPair).
			Idempotent(true).IterContext(ctx)
		var ts int64
		var w float64
		for iter.Scan(&ts, &w) {
			mu.Lock()
			fn(i, ts, w)
			mu.Unlock()
		}
		return iter.Close()
	})
	return wrap("interactions", err)
}

// PutSnapshot writes a snapshot with a TTL up to its expiry.
func (r *RankingStore) PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) > ranking.MaxSnapshotBytes {
		return fmt.Errorf("cassandrastore: snapshot of %d bytes is over %d", len(data), ranking.MaxSnapshotBytes)
	}
	ttl := r.ttlUntil(expires)
	if ttl == 0 {
		return nil
	}
	// The blob starts with the expiry (8 bytes), so a read honours it to
	// the millisecond, not only to the TTL's second.
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), uint64(expires))
	v = append(v, data...)
	return wrap("put snapshot", r.s.exec(ctx, insertSnapshot, viewer, int64(id), v, ttl))
}

// Snapshot reads a snapshot; an expired one is gone by its TTL.
func (r *RankingStore) Snapshot(ctx context.Context, viewer int64, id uint64, now int64, dst []byte) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return dst, false, err
	}
	var data []byte
	err := r.s.sess.Query(selectSnapshot, viewer, int64(id)).Idempotent(true).ScanContext(ctx, &data)
	if errors.Is(err, gocql.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, wrap("snapshot", err)
	}
	if len(data) < 8 {
		return dst, false, wrap("snapshot", errors.New("short value"))
	}
	if int64(binary.BigEndian.Uint64(data)) <= now {
		return dst, false, nil
	}
	return append(dst, data[8:]...), true, nil
}
