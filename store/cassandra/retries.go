package cassandrastore

// Driver retries: which errors a retry may fix, the policy that retries
// idempotent statements on the next host, and IsUnavailable for callers.

import (
	"errors"
	"net"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/retry"
)

// retryPolicy retries idempotent statements (the driver never retries
// others) on the next host after transient failures, and gives up at once
// on errors a retry cannot fix (syntax, invalid request, auth).
type retryPolicy struct{ retries int }

func (r *retryPolicy) Attempt(q gocql.RetryableQuery) bool { return q.Attempts() <= r.retries }

func (r *retryPolicy) GetRetryType(err error) gocql.RetryType {
	if !transient(err) {
		return gocql.Rethrow
	}
	// A short jittered pause spreads the retries of a fan-out over time
	// instead of hitting a struggling node with all of them at once. The
	// driver's hook has no context: the pause is short.
	time.Sleep(statementPause.Delay(1))
	return gocql.RetryNextHost
}

// statementPause is the pause before the driver retries a statement on the
// next host: 5 to 50 ms.
var statementPause = retry.Policy{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: 0.9}

// IsUnavailable reports whether err, however wrapped, means the cluster
// could not be reached or could not answer in time (no host up, a timeout,
// not enough replicas, an overloaded or bootstrapping node, a broken
// connection): the same request may succeed later. The HTTP API answers
// those with 503 and Retry-After rather than 500.
func IsUnavailable(err error) bool {
	for err != nil {
		if transient(err) {
			return true
		}
		if many, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range many.Unwrap() {
				if IsUnavailable(e) {
					return true
				}
			}
			return false
		}
		err = errors.Unwrap(err)
	}
	return false
}

// transient reports whether err may go away on another attempt.
func transient(err error) bool {
	switch err.(type) {
	case *gocql.RequestErrReadTimeout, *gocql.RequestErrWriteTimeout,
		*gocql.RequestErrUnavailable, *gocql.RequestErrOverloaded,
		*gocql.RequestErrBootstrapping, *gocql.RequestErrReadFailure,
		*gocql.RequestErrWriteFailure:
		return true
	}
	if errors.Is(err, gocql.ErrTimeoutNoResponse) || errors.Is(err, gocql.ErrConnectionClosed) ||
		errors.Is(err, gocql.ErrNoConnections) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
