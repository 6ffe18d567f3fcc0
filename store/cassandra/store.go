package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/schema/cql"
	"github.com/lenta-dev/lenta/timeline"
)

// Config says where the cluster is and how to talk to it. Only Hosts is
// required; withDefaults documents every default.
type Config struct {
	// Hosts are contact points, "host" or "host:port" (port 9042 if
	// omitted). The rest of the ring is discovered.
	Hosts []string
	// Keyspace holds every table; default "lenta".
	Keyspace string
	// Consistency of reads and writes: LOCAL_QUORUM (default), QUORUM,
	// LOCAL_ONE, ONE, ... Lightweight transactions always use LOCAL_SERIAL
	// for their Paxos phase.
	Consistency string
	// ReplicationFactor is used by Migrate when it creates the keyspace;
	// default 1 (a single node). Use 3 on a 3-node cluster.
	ReplicationFactor int
	// LocalDC, if set, makes routing DC-aware (token-aware over
	// DCAwareRoundRobin) and makes Migrate create the keyspace with
	// NetworkTopologyStrategy {LocalDC: ReplicationFactor}. Empty: token-aware
	// over RoundRobin and SimpleStrategy.
	LocalDC string
	// Timeout bounds each request to a node (the driver's per-query
	// timeout, also the socket read timeout); default 10s, above the
	// server's own request timeouts so retries never pile up.
	Timeout time.Duration
	// MaxInFlight bounds the statements one call keeps in flight at once
	// (fan-out writes, multi-object reads, per-partition graph updates);
	// default 64.
	MaxInFlight int
	// Policy bounds timelines. Rows are written USING TTL = Policy.MaxAge
	// minus the entry's age (at least 1s), so timeline partitions are bounded
	// in age without any sweeping. The zero Policy means
	// timeline.DefaultPolicy; a Policy with MaxAge <= 0 writes rows without
	// TTL (only Trim bounds them).
	Policy timeline.Policy
	// Retries is how many times an idempotent statement is retried on a
	// timeout, an unavailable or overloaded node or a broken connection
	// (on the next host); default 3. Negative: no retries.
	Retries int
	// Now is the clock used for TTLs; default time.Now.
	Now func() time.Time
	// LedgerTTL is how long the applied-event ledger remembers an id
	// (INSERT ... USING TTL); 0: the table's default_time_to_live, 7 days.
	// Keep it far longer than the bus's redelivery window.
	LedgerTTL time.Duration
}

// Defaults.
const (
	DefaultKeyspace    = "lenta"
	DefaultConsistency = "LOCAL_QUORUM"
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 64
	DefaultRetries     = 3
)

var keyspaceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// withDefaults fills the defaults in and checks the config.
func (c Config) withDefaults() (Config, error) {
	if len(c.Hosts) == 0 {
		return c, errors.New("cassandrastore: no hosts configured")
	}
	if c.Keyspace == "" {
		c.Keyspace = DefaultKeyspace
	}
	if !keyspaceName.MatchString(c.Keyspace) {
		return c, fmt.Errorf("cassandrastore: keyspace %q: want lower case letters, digits and _, starting with a letter, at most 48", c.Keyspace)
	}
	if c.Consistency == "" {
		c.Consistency = DefaultConsistency
	}
	cons, err := gocql.ParseConsistencyWrapper(c.Consistency)
	if err != nil || cons == gocql.Serial || cons == gocql.LocalSerial || cons == gocql.Any {
		return c, fmt.Errorf("cassandrastore: consistency %q: want one of ONE, LOCAL_ONE, QUORUM, LOCAL_QUORUM or ALL", c.Consistency)
	}
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Policy == (timeline.Policy{}) {
		c.Policy = timeline.DefaultPolicy
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// cluster returns the driver config; keyspace may be empty.
func (c *Config) cluster(keyspace string) *gocql.ClusterConfig {
	cl := gocql.NewCluster(c.Hosts...)
	cl.Keyspace = keyspace
	cl.Consistency = gocql.ParseConsistency(c.Consistency)
	cl.SerialConsistency = gocql.LocalSerial
	cl.Timeout = c.Timeout
	cl.ConnectTimeout = c.Timeout
	cl.RetryPolicy = &retryPolicy{retries: c.Retries}
	cl.DefaultIdempotence = false // every idempotent statement says so
	var fallback gocql.HostSelectionPolicy
	if c.LocalDC != "" {
		fallback = gocql.DCAwareRoundRobinPolicy(c.LocalDC)
	} else {
		fallback = gocql.RoundRobinHostPolicy()
	}
	// Token-aware: a statement goes to a replica of its partition, so a
	// fan-out row costs one network hop and no coordinator forwarding.
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(fallback)
	return cl
}

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
	// instead of hitting a struggling node with all of them at once.
	time.Sleep(time.Duration(5+rand.IntN(45)) * time.Millisecond)
	return gocql.RetryNextHost
}

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

// Store is Lenta's Cassandra store. Its views (Graph, Objects, Timelines,
// Ledger) implement the domain interfaces. It is safe for concurrent use.
type Store struct {
	cfg    Config
	sess   *gocql.Session
	cons   gocql.Consistency // the configured one
	maxAge int64             // Policy.MaxAge in ms; 0: rows get no TTL

	graph     GraphStore
	objects   ObjectStore
	timelines TimelineStore
	ledger    Ledger

	scratch sync.Pool // *writeScratch
}

// ErrSchema is wrapped by Open when the keyspace or its tables are missing
// or older than this build.
var ErrSchema = errors.New("cassandrastore: schema missing or out of date (run feedctl migrate)")

// Open connects to the configured keyspace and checks that Migrate brought
// its schema up to this build's version.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sess, err := cfg.cluster(cfg.Keyspace).CreateSession()
	if err != nil {
		// The driver reports a missing keyspace as "no connections were
		// made"; tell the operator what is actually wrong.
		if ok, kerr := keyspaceExists(ctx, &cfg); kerr == nil && !ok {
			return nil, fmt.Errorf("%w: keyspace %q does not exist", ErrSchema, cfg.Keyspace)
		}
		return nil, fmt.Errorf("cassandrastore: connect to %v, keyspace %q: %w", cfg.Hosts, cfg.Keyspace, err)
	}
	s := &Store{cfg: cfg, sess: sess, cons: gocql.ParseConsistency(cfg.Consistency)}
	if cfg.Policy.MaxAge > 0 {
		s.maxAge = cfg.Policy.MaxAge.Milliseconds()
	}
	s.graph.s, s.objects.s, s.timelines.s, s.ledger.s = s, s, s, s
	if err := s.checkSchema(ctx); err != nil {
		sess.Close()
		return nil, err
	}
	return s, nil
}

// keyspaceExists asks the cluster, without a keyspace, whether ours exists.
func keyspaceExists(ctx context.Context, cfg *Config) (bool, error) {
	sess, err := cfg.cluster("").CreateSession()
	if err != nil {
		return false, err
	}
	defer sess.Close()
	var name string
	err = sess.Query(`SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?`, cfg.Keyspace).
		ScanContext(ctx, &name)
	if errors.Is(err, gocql.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// checkSchema compares the recorded migrations with this build's.
func (s *Store) checkSchema(ctx context.Context) error {
	iter := s.sess.Query(`SELECT version FROM schema_migrations`).IterContext(ctx)
	have := 0
	var v int
	for iter.Scan(&v) {
		have = max(have, v)
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("%w: keyspace %q: read schema_migrations: %v", ErrSchema, s.cfg.Keyspace, err)
	}
	if want := cql.Latest(); have < want {
		return fmt.Errorf("%w: keyspace %q is at schema version %d, this build needs %d", ErrSchema, s.cfg.Keyspace, have, want)
	}
	return nil
}

// Close closes the session. The Store must not be used afterwards.
func (s *Store) Close() { s.sess.Close() }

// Health checks that a node answers a query.
func (s *Store) Health(ctx context.Context) error {
	var v string
	if err := s.sess.Query(`SELECT release_version FROM system.local`).Idempotent(true).ScanContext(ctx, &v); err != nil {
		return fmt.Errorf("cassandrastore: health: %w", err)
	}
	return nil
}

// Keyspace is the keyspace the store uses.
func (s *Store) Keyspace() string { return s.cfg.Keyspace }

// Graph is the graph.Store view.
func (s *Store) Graph() *GraphStore { return &s.graph }

// Objects is the objects.Store view.
func (s *Store) Objects() *ObjectStore { return &s.objects }

// Timelines is the timeline.Store view.
func (s *Store) Timelines() *TimelineStore { return &s.timelines }

// Ledger is the fanout.Ledger view.
func (s *Store) Ledger() *Ledger { return &s.ledger }

// ---- statements ----

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

// backoff sleeps before CAS attempt n (n >= 1), growing to ~100ms, with
// full jitter so that racing writers spread out.
func backoff(ctx context.Context, n int) error {
	d := time.Duration(1<<min(n, 7)) * time.Millisecond
	d = time.Duration(rand.Int64N(int64(d))) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
