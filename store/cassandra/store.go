package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

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

// Store is Lenta's Cassandra store. Its views (Graph, Objects, Timelines,
// Ledger) implement the domain interfaces. It is safe for concurrent use.
type Store struct {
	cfg    Config
	sess   *gocql.Session
	cons   gocql.Consistency // the configured one
	maxAge int64             // Policy.MaxAge in ms; 0: rows get no TTL

	graph     GraphStore
	objects   ObjectStore
	comments  CommentStore
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
	s.comments.s = s
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
