package cassandrastore

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/lenta-dev/lenta/timeline"
)

// RawInsert writes rows into timeline_rows with one INSERT per row (the
// statement and TTL Write uses) on workers goroutines, with no planning,
// no single-partition batches and no class markers. It is the ceiling
// feedbench and BenchmarkRawInsert1000 compare the fan-out pipeline with:
// the same rows straight through gocql at the same concurrency. It returns
// the first error once every started insert has returned.
func (t *TimelineStore) RawInsert(ctx context.Context, rows []timeline.Row, workers int) error {
	s := t.s
	now := s.cfg.Now().UnixMilli()
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		wg     sync.WaitGroup
	)
	for range max(1, min(workers, len(rows))) {
		wg.Go(func() {
			for !failed.Load() {
				j := int(next.Add(1) - 1)
				if j >= len(rows) {
					return
				}
				r := &rows[j]
				e := &r.Entry
				err := ctx.Err()
				if err == nil {
					err = s.exec(ctx, insertRow, r.User, int8(r.NS), e.TS, e.ID, int8(e.Kind), e.Actor,
						e.Object, e.Owner, e.Until, e.Audience, s.ttl(e.TS, now))
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return wrap("raw insert", first)
}
