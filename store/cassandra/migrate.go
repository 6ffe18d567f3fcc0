package cassandrastore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/lenta-dev/lenta/schema/cql"
)

// ddlTimeout bounds one schema statement: creating a table waits for every
// node to apply it.
const ddlTimeout = 60 * time.Second

const (
	createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    int PRIMARY KEY,
    name       text,
    checksum   text,
    applied_at timestamp
) WITH comment = 'schema files applied by feedctl migrate'`
	selectMigrations = `SELECT version, name, checksum FROM schema_migrations`
	insertMigration  = `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`
)

// Replication is the replication clause Migrate creates the keyspace with:
// NetworkTopologyStrategy {LocalDC: RF} when LocalDC is set, else
// SimpleStrategy with RF.
func (c *Config) Replication() string {
	if c.LocalDC != "" {
		return fmt.Sprintf(`{'class': 'NetworkTopologyStrategy', '%s': %d}`, c.LocalDC, c.ReplicationFactor)
	}
	return fmt.Sprintf(`{'class': 'SimpleStrategy', 'replication_factor': %d}`, c.ReplicationFactor)
}

// Migrate creates the keyspace (if missing) and applies every embedded
// schema file (schema/cql) not yet recorded in its schema_migrations table,
// in version order, waiting for schema agreement after each DDL statement.
// Every statement is IF NOT EXISTS, so a run interrupted half-way is
// finished by the next, and re-running is a no-op. An applied file whose
// text changed since is an error (a released file must never change).
// An existing keyspace keeps its replication (change it with ALTER
// KEYSPACE and a repair). Run it from one process at a time.
func Migrate(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if cfg.LocalDC != "" && !validDC(cfg.LocalDC) {
		return fmt.Errorf("cassandrastore: migrate: bad data center name %q", cfg.LocalDC)
	}
	migrations, err := cql.Migrations()
	if err != nil {
		return err
	}
	cfg.Timeout = max(cfg.Timeout, ddlTimeout)
	cfg.Retries = -1 // DDL is not retried blindly

	root, err := cfg.cluster("").CreateSession()
	if err != nil {
		return fmt.Errorf("cassandrastore: migrate: connect to %v: %w", cfg.Hosts, err)
	}
	stmt := fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s AND durable_writes = true`,
		cfg.Keyspace, cfg.Replication())
	err = ddl(ctx, root, stmt)
	root.Close()
	if err != nil {
		return fmt.Errorf("cassandrastore: migrate: create keyspace %q: %w", cfg.Keyspace, err)
	}

	sess, err := cfg.cluster(cfg.Keyspace).CreateSession()
	if err != nil {
		return fmt.Errorf("cassandrastore: migrate: connect to keyspace %q: %w", cfg.Keyspace, err)
	}
	defer sess.Close()
	if err := ddl(ctx, sess, createMigrations); err != nil {
		return fmt.Errorf("cassandrastore: migrate: create schema_migrations: %w", err)
	}
	applied := make(map[int]string)
	iter := sess.Query(selectMigrations).IterContext(ctx)
	var (
		v        int
		name, ck string
	)
	for iter.Scan(&v, &name, &ck) {
		applied[v] = ck
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("cassandrastore: migrate: read schema_migrations: %w", err)
	}
	for _, m := range migrations {
		sum := sha256.Sum256([]byte(m.Text))
		ck := hex.EncodeToString(sum[:])
		if old, ok := applied[m.Version]; ok {
			if old != ck {
				return fmt.Errorf("cassandrastore: migrate: %s changed after it was applied (checksum %s, applied %s): add a new file instead", m.Name, ck[:12], old[:min(12, len(old))])
			}
			continue
		}
		for i, st := range m.Statements() {
			if err := ddl(ctx, sess, st); err != nil {
				return fmt.Errorf("cassandrastore: migrate: %s statement %d: %w", m.Name, i+1, err)
			}
		}
		if fill := dataSteps[m.Version]; fill != nil {
			// Idempotent, and the file is recorded only after it: an
			// interrupted run does it again.
			if err := fill(ctx, sess); err != nil {
				return fmt.Errorf("cassandrastore: migrate: %s: %w", m.Name, err)
			}
		}
		if err := sess.Query(insertMigration, m.Version, m.Name, ck, time.Now()).ExecContext(ctx); err != nil {
			return fmt.Errorf("cassandrastore: migrate: record %s: %w", m.Name, err)
		}
	}
	return nil
}

// ddl runs one schema statement and waits until every node has the same
// schema version.
func ddl(ctx context.Context, sess *gocql.Session, stmt string) error {
	if err := sess.Query(stmt).ExecContext(ctx); err != nil {
		var exists *gocql.RequestErrAlreadyExists
		if !errors.As(err, &exists) {
			return err
		}
	}
	return sess.AwaitSchemaAgreement(ctx)
}

// validDC accepts the characters Cassandra data center names use.
func validDC(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// DropKeyspace drops the configured keyspace and everything in it. For
// tests and tear-down scripts only.
func DropKeyspace(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	cfg.Timeout = max(cfg.Timeout, ddlTimeout)
	cfg.Retries = -1
	sess, err := cfg.cluster("").CreateSession()
	if err != nil {
		return fmt.Errorf("cassandrastore: drop keyspace: connect: %w", err)
	}
	defer sess.Close()
	if err := ddl(ctx, sess, `DROP KEYSPACE IF EXISTS `+cfg.Keyspace); err != nil {
		return fmt.Errorf("cassandrastore: drop keyspace %q: %w", cfg.Keyspace, err)
	}
	return nil
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
