package cassandrastore

// Statement helpers on the session: idempotent writes, the bounded
// parallel each, conditional statements and the read-then-CAS loop, and
// the package's error wrapping.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/retry"
)

// exec runs one idempotent write.
func (s *Store) exec(ctx context.Context, stmt string, args ...any) error {
	return s.sess.Query(stmt, args...).Idempotent(true).ExecContext(ctx)
}

// each runs fn(0..n-1) on at most MaxInFlight goroutines (none for n == 1)
// and returns the first error once every started call has returned. After
// an error or a cancelled ctx no new call starts.
func (s *Store) each(ctx context.Context, n int, fn func(i int) error) error {
	switch n {
	case 0:
		return ctx.Err()
	case 1:
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(0)
	}
	workers := min(n, s.cfg.MaxInFlight)
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		wg     sync.WaitGroup
	)
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n || failed.Load() {
				return
			}
			err := ctx.Err()
			if err == nil {
				err = fn(i)
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
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work() // the caller is a worker too
	wg.Wait()
	return first
}

// casApplied reads the [applied] column of a conditional statement's
// result and closes the iterator. The other columns (the current values
// when not applied) are skipped: callers re-read what they need.
func casApplied(iter *gocql.Iter) (bool, error) {
	cols := iter.Columns()
	if len(cols) == 0 {
		return false, iter.Close()
	}
	var applied bool
	var buf [16]any
	dest := buf[:0]
	dest = append(dest, &applied)
	for range len(cols) - 1 {
		dest = append(dest, nil)
	}
	iter.Scan(dest...)
	err := iter.Close()
	return applied && err == nil, err
}

// casStmt is one conditional statement of a single-partition CAS.
type casStmt struct {
	stmt string
	args []any
}

// cas runs conditional statements of one partition atomically: one
// statement alone, several as a conditional batch (Cassandra applies all or
// none, under one Paxos round). CAS statements are not idempotent: a
// timeout is returned to the caller, whose retry re-reads the state.
func (s *Store) cas(ctx context.Context, stmts []casStmt) (bool, error) {
	if len(stmts) == 1 {
		return casApplied(s.sess.Query(stmts[0].stmt, stmts[0].args...).NoSkipMetadata().IterContext(ctx))
	}
	b := s.sess.Batch(gocql.UnloggedBatch)
	for _, st := range stmts {
		b.Query(st.stmt, st.args...)
	}
	return casApplied(b.IterContext(ctx))
}

// maxCASAttempts bounds the read-then-CAS loops; each lost race re-reads
// at LOCAL_SERIAL after a jittered pause.
const maxCASAttempts = 24

// ErrContention is returned when a conditional update lost maxCASAttempts
// races in a row.
var ErrContention = errors.New("cassandrastore: too much contention on one partition")

// errLostRace is a read-then-CAS round whose condition failed: the row
// changed since it was read.
var errLostRace = errors.New("cassandrastore: lost a CAS race")

// casRetry paces lost races: full jitter (racing writers spread out) over
// waits doubling from 2 ms to 128 ms, at most maxCASAttempts rounds.
var casRetry = retry.Policy{Min: 2 * time.Millisecond, Max: 128 * time.Millisecond, Jitter: 1, Attempts: maxCASAttempts}

// casLoop runs round, one read-then-CAS, until it returns anything but
// errLostRace; attempt counts rounds from 0 (see readConsistency). Only a
// lost race is retried here: a failed statement was already retried by the
// driver (retryPolicy, idempotent ones only) and goes back to the caller. It
// returns ErrContention when every round lost, and ctx.Err() when ctx
// ended during a pause.
func casLoop(ctx context.Context, round func(attempt int) error) error {
	attempt := 0
	err := retry.Do(ctx, casRetry, func() error {
		err := round(attempt)
		attempt++
		if err != nil && !errors.Is(err, errLostRace) {
			return retry.Permanent(err)
		}
		return err
	})
	switch {
	case errors.Is(err, errLostRace):
		return ErrContention
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)):
		return ctx.Err()
	}
	return err
}

// readConsistency is the consistency of a read in a read-then-CAS loop:
// the configured one first (cheap, and a stale read only fails the CAS),
// LOCAL_SERIAL after a lost race (sees every committed Paxos write).
func (s *Store) readConsistency(attempt int) gocql.Consistency {
	if attempt == 0 {
		return s.cons
	}
	return gocql.LocalSerial
}

// errBadID is returned for an empty id, which no partition key can hold.
var errBadID = errors.New("id must not be empty")

// errPageTooLarge is returned for a page whose strings overflow int32.
var errPageTooLarge = errors.New("page too large")

// wrap names the operation that failed; nil stays nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cassandrastore: %s: %w", what, err)
}
