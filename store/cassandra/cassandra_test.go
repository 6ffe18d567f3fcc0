package cassandrastore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/schema/cql"
	"github.com/lenta-dev/lenta/store/storetest"
	"github.com/lenta-dev/lenta/timeline"
)

// The integration tests and benchmarks run against a real cluster named by
// LENTA_TEST_CASSANDRA (comma-separated "host:port" contact points, e.g.
// "127.0.0.1:9042"; start one with `bash scripts/services.sh start
// cassandra`). Unset, they skip. A run creates its own keyspace
// lenta_test_<random>, migrates it, and drops it at the end.
const envHosts = "LENTA_TEST_CASSANDRA"

// LENTA_TEST_CASSANDRA_RF optionally sets the test keyspace's replication
// factor (default 1; 3 on a 3-node cluster exercises quorum paths).
const envRF = "LENTA_TEST_CASSANDRA_RF"

var (
	run struct {
		cfg   Config // the run's keyspace, migrated
		store *Store // shared by the suites; tables truncated per subtest
		err   error
	}
	setupOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if run.store != nil {
		run.store.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := DropKeyspace(ctx, run.cfg); err != nil {
			fmt.Fprintln(os.Stderr, "drop test keyspace:", err)
		}
		cancel()
	}
	os.Exit(code)
}

// hosts returns the contact points or skips.
func hosts(tb testing.TB) []string {
	tb.Helper()
	v := os.Getenv(envHosts)
	if v == "" {
		tb.Skip(envHosts + " not set: integration test skipped (set it to e.g. 127.0.0.1:9042 to run against a real Cassandra)")
	}
	return strings.Split(v, ",")
}

func testConfig(tb testing.TB, keyspace string) Config {
	rf := 1
	if v := os.Getenv(envRF); v != "" {
		if _, err := fmt.Sscan(v, &rf); err != nil {
			tb.Fatalf("%s=%q: %v", envRF, v, err)
		}
	}
	return Config{
		Hosts:             hosts(tb),
		Keyspace:          keyspace,
		ReplicationFactor: rf,
		// The suite uses small synthetic timestamps (10, 100, ... and
		// 2023 dates) and must not depend on the clock, so rows get no
		// TTL here; TestRowTTL checks the TTL path.
		Policy: timeline.Policy{Cap: timeline.DefaultPolicy.Cap},
	}
}

func randomKeyspace() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "lenta_test_" + hex.EncodeToString(b[:])
}

// shared returns the run's migrated store, creating it once.
func shared(tb testing.TB) *Store {
	tb.Helper()
	cfg := testConfig(tb, randomKeyspace())
	setupOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		run.cfg = cfg
		if run.err = Migrate(ctx, cfg); run.err != nil {
			return
		}
		run.store, run.err = Open(ctx, cfg)
	})
	if run.err != nil {
		tb.Fatal(run.err)
	}
	return run.store
}

// dataTables are every table 001_init.cql creates (not schema_migrations).
var dataTables = []string{"timeline_rows", "class_markers", "objects", "marks", "edges", "large_authors", "applied_events"}

// laterTables are the data tables of later migrations that the suites
// write (010: comments, 011: reactions).
var laterTables = []string{"comments", "comment_thread", "my_reactions"}

// fresh empties the shared store for one subtest of the suite: every
// subtest must start from an empty store.
func fresh(t *testing.T) *Store {
	t.Helper()
	s := shared(t)
	for _, tbl := range slices.Concat(dataTables, laterTables) {
		if err := s.sess.Query("TRUNCATE " + tbl).ExecContext(t.Context()); err != nil {
			t.Fatalf("truncate %s: %v", tbl, err)
		}
	}
	return s
}

func TestStoreSuiteGraph(t *testing.T) {
	storetest.RunGraph(t, func(t *testing.T) graph.Store { return fresh(t).Graph() })
}

func TestStoreSuiteObjects(t *testing.T) {
	storetest.RunObjects(t, func(t *testing.T) objects.Store { return fresh(t).Objects() })
}

func TestStoreSuiteComments(t *testing.T) {
	storetest.RunComments(t, func(t *testing.T) objects.Comments { return fresh(t).Comments() })
}

func TestStoreSuiteTimeline(t *testing.T) {
	storetest.RunTimeline(t, func(t *testing.T) timeline.Store { return fresh(t).Timelines() })
}

func TestStoreSuiteLedger(t *testing.T) {
	storetest.RunLedger(t, func(t *testing.T) fanout.Ledger { return fresh(t).Ledger() })
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := shared(t)
	ctx := t.Context()
	for range 2 {
		if err := Migrate(ctx, run.cfg); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	var n int
	if err := s.sess.Query(`SELECT COUNT(*) FROM schema_migrations`).ScanContext(ctx, &n); err != nil {
		t.Fatal(err)
	}
	ms, err := cql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	s2, err := Open(ctx, run.cfg)
	if err != nil {
		t.Fatalf("Open after re-migrating: %v", err)
	}
	s2.Close()
}

func TestOpenMissingKeyspace(t *testing.T) {
	cfg := testConfig(t, randomKeyspace())
	_, err := Open(t.Context(), cfg)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "feedctl migrate") {
		t.Fatalf("Open(missing keyspace) = %v, want ErrSchema telling to run feedctl migrate", err)
	}
}

func TestHealth(t *testing.T) {
	if err := shared(t).Health(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSetMark: 20 goroutines class one object at once, then
// re-deliver, then half of them unclass while the other half re-deliver
// their class: the count is exact at every step.
func TestConcurrentSetMark(t *testing.T) {
	s := fresh(t)
	o := s.Objects()
	const n = 20
	parallel := func(f func(a int64) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for a := int64(1); a <= n; a++ {
			wg.Go(func() {
				if err := f(a); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	class := func(a int64) error {
		_, err := o.SetMark(t.Context(), objects.Mark{Object: "hot", Actor: a, Owner: 9, On: true, Stamp: schema.Stamp{TS: 10, ID: fmt.Sprint("c", a)}})
		return err
	}
	wantCount := func(want int64) {
		t.Helper()
		got, err := o.ClassCounts(t.Context(), []string{"hot"})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != want {
			t.Fatalf("ClassCounts = %d, want %d", got[0], want)
		}
	}
	parallel(class)
	wantCount(n)
	parallel(class) // every class re-delivered at once
	wantCount(n)
	parallel(func(a int64) error {
		if a%2 == 0 {
			return class(a)
		}
		_, err := o.SetMark(t.Context(), objects.Mark{Object: "hot", Actor: a, Owner: 9, On: false, Stamp: schema.Stamp{TS: 20, ID: fmt.Sprint("u", a)}})
		return err
	})
	wantCount(n / 2)
	// The same unclass delivered by many workers at once counts once.
	parallel(func(int64) error {
		_, err := o.SetMark(t.Context(), objects.Mark{Object: "hot", Actor: 2, Owner: 9, On: false, Stamp: schema.Stamp{TS: 30, ID: "u2"}})
		return err
	})
	wantCount(n/2 - 1)
}

// TestConcurrentSetEdges: followers and friends of one user arrive from 20
// goroutines at once (with re-deliveries); AudienceSize stays exact.
func TestConcurrentSetEdges(t *testing.T) {
	s := fresh(t)
	g := s.Graph()
	const u, n = 1, 20
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := int64(1); i <= n; i++ {
		wg.Go(func() {
			st := schema.Stamp{TS: 5, ID: fmt.Sprint("e", i)}
			var edges []graph.Edge
			if i%2 == 0 {
				edges = []graph.Edge{{Rel: graph.Follow, From: 100 + i, To: u, On: true, Stamp: st}}
			} else {
				edges = []graph.Edge{{Rel: graph.Friend, From: u, To: 100 + i, On: true, Stamp: st},
					{Rel: graph.Friend, From: 100 + i, To: u, On: true, Stamp: st}}
			}
			for range 2 { // delivered twice
				if err := g.SetEdges(t.Context(), edges); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	size, err := g.AudienceSize(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if size != n {
		t.Fatalf("AudienceSize = %d, want %d", size, n)
	}
	friends, err := g.Friends(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	followers, err := g.Followers(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	if len(friends) != n/2 || len(followers) != n/2 {
		t.Fatalf("friends %v, followers %v: want %d of each", friends, followers, n/2)
	}
	// Half of them leave, concurrently.
	for i := int64(1); i <= n; i += 2 {
		wg.Go(func() {
			st := schema.Stamp{TS: 6, ID: fmt.Sprint("u", i)}
			err := g.SetEdges(t.Context(), []graph.Edge{{Rel: graph.Friend, From: u, To: 100 + i, Stamp: st},
				{Rel: graph.Friend, From: 100 + i, To: u, Stamp: st}})
			if err != nil {
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	if size, err = g.AudienceSize(t.Context(), u); err != nil || size != n/2 {
		t.Fatalf("AudienceSize after unfriends = %d, %v; want %d", size, err, n/2)
	}
}

// TestRowTTL: rows and their class markers live for what is left of
// Policy.MaxAge.
func TestRowTTL(t *testing.T) {
	shared(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := run.cfg
	cfg.Policy = timeline.Policy{Cap: 800, MaxAge: time.Hour}
	cfg.Now = func() time.Time { return now }
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh(t)
	ms := now.UnixMilli()
	tl := s.Timelines()
	rows := []timeline.Row{
		{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: ms - 30*60*1000, ID: "half", Kind: timeline.KindClass, Actor: 2, Object: "o"}},
		{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: ms - 2*3600*1000, ID: "old", Kind: timeline.KindPost, Actor: 2, Object: "p"}},
		{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: ms, ID: "new", Kind: timeline.KindPost, Actor: 2, Object: "p"}},
	}
	if err := tl.Write(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	ttl := func(q string, args ...any) int {
		t.Helper()
		var v int
		if err := s.sess.Query(q, args...).ScanContext(t.Context(), &v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	near := func(what string, got, want int) {
		t.Helper()
		if got > want || got < want-60 { // the write itself takes a moment
			t.Errorf("TTL of %s = %d, want about %d", what, got, want)
		}
	}
	rowTTL := `SELECT TTL(kind) FROM timeline_rows WHERE uid = 1 AND ns = 1 AND ts = ? AND id = ?`
	near("row half way", ttl(rowTTL, rows[0].Entry.TS, "half"), 1800)
	near("new row", ttl(rowTTL, rows[2].Entry.TS, "new"), 3600)
	// class_markers rows have no regular column to ask TTL() about: check
	// that a marker written with 1s to live is gone with its row.
	short := []timeline.Row{{NS: timeline.Home, User: 1, Entry: timeline.Entry{TS: ms - 3600*1000 + 200,
		ID: "short", Kind: timeline.KindClass, Actor: 3, Object: "o"}}}
	if err := tl.Write(t.Context(), short); err != nil {
		t.Fatal(err)
	}
	if m, err := tl.Markers(t.Context(), 1, "o"); err != nil || len(m) != 2 {
		t.Fatalf("Markers = %+v, %v; want actors 2 and 3", m, err)
	}
	time.Sleep(2500 * time.Millisecond)
	if m, err := tl.Markers(t.Context(), 1, "o"); err != nil || len(m) != 1 || m[0].Actor != 2 {
		t.Errorf("Markers after the short TTL = %+v, %v; want only actor 2", m, err)
	}
	if es, err := tl.Page(t.Context(), timeline.Home, 1, timeline.Position{}, 10); err != nil || len(es) != 2 {
		t.Errorf("Page after the short TTL = %+v, %v; want rows new and half", es, err)
	}
	if got := s.ttl(ms-2*3600*1000, ms); got != 1 {
		t.Errorf("ttl of a row older than MaxAge = %d, want 1", got)
	}
	s.maxAge = 0
	if got := s.ttl(ms, ms); got != 0 {
		t.Errorf("ttl with MaxAge off = %d, want 0", got)
	}
}

// TestStatementsSplit checks the CQL file splitter on the real schema.
func TestStatementsSplit(t *testing.T) {
	ms, err := cql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("migrations = %+v", ms)
	}
	sts := ms[0].Statements()
	var tables []string
	for _, st := range sts {
		if !strings.HasPrefix(st, "CREATE TABLE IF NOT EXISTS ") {
			t.Errorf("statement is not an idempotent CREATE TABLE: %.60q", st)
			continue
		}
		tables = append(tables, strings.Fields(st)[5])
	}
	if strings.Join(tables, " ") != strings.Join(dataTables, " ") {
		t.Errorf("tables %v, want %v", tables, dataTables)
	}
}

// fanoutRows is one event delivered to 1,000 friends' home timelines.
func fanoutRows(event string, ts int64) []timeline.Row {
	rows := make([]timeline.Row, 1000)
	for i := range rows {
		rows[i] = timeline.Row{NS: timeline.Home, User: int64(1_000_000 + i), Entry: timeline.Entry{
			TS: ts, ID: event, Kind: timeline.KindPost, Actor: 42, Object: event, Audience: schema.AudiencePublic}}
	}
	return rows
}

// benchWarmup is how many untimed rounds of 1,000 rows each benchmark
// writes first, so that neither pays for connection set-up, statement
// preparation or a cold server.
const benchWarmup = 5

// BenchmarkFanout1000 writes one event's home rows for 1,000 different
// users through TimelineStore.Write (MaxInFlight concurrent statements).
func BenchmarkFanout1000(b *testing.B) {
	s := shared(b)
	ctx := context.Background()
	ts := time.Now().UnixMilli()
	write := func(event string) {
		if err := s.Timelines().Write(ctx, fanoutRows(event, ts)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchWarmup {
		write(fmt.Sprint("warm-", i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		write(fmt.Sprint("bench-", i))
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkRawInsert1000 is the ceiling for BenchmarkFanout1000: the same
// 1,000 rows, the same statement, the same session and the same number of
// concurrent statements, issued straight through gocql by a fixed pool of
// goroutines with no planning at all.
func BenchmarkRawInsert1000(b *testing.B) {
	s := shared(b)
	ctx := context.Background()
	ts := time.Now().UnixMilli()
	workers := s.cfg.MaxInFlight
	insert := func(event string) {
		rows := fanoutRows(event, ts)
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Value
		for range workers {
			wg.Go(func() {
				for {
					j := int(next.Add(1) - 1)
					if j >= len(rows) {
						return
					}
					r := &rows[j]
					e := &r.Entry
					err := s.sess.Query(insertRow, r.User, int8(r.NS), e.TS, e.ID, int8(e.Kind), e.Actor,
						e.Object, e.Owner, e.Until, e.Audience, 0).Idempotent(true).ExecContext(ctx)
					if err != nil {
						failed.Store(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchWarmup {
		insert(fmt.Sprint("rawwarm-", i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		insert(fmt.Sprint("raw-", i))
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkPage20 reads the newest 20 entries of a 200-entry home
// timeline (a feed page), to watch the read path's latency and allocations.
func BenchmarkPage20(b *testing.B) {
	s := shared(b)
	ctx := context.Background()
	const user = 77
	rows := make([]timeline.Row, 200)
	for i := range rows {
		rows[i] = timeline.Row{NS: timeline.Home, User: user, Entry: timeline.Entry{TS: int64(1_700_000_000_000 + i),
			ID: fmt.Sprintf("ev-%04d", i), Kind: timeline.KindPost, Actor: int64(i % 13), Object: fmt.Sprintf("obj-%04d", i),
			Audience: schema.AudienceFriends}}
	}
	if err := s.Timelines().Write(ctx, rows); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		es, err := s.Timelines().Page(ctx, timeline.Home, user, timeline.Position{}, 20)
		if err != nil || len(es) != 20 {
			b.Fatalf("Page = %d entries, %v", len(es), err)
		}
	}
}

// TestBackfillMyReactions: marks written before 011_reactions.cql (no
// kind, no my_reactions row) are indexed by the migration's data step.
func TestBackfillMyReactions(t *testing.T) {
	s := fresh(t)
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO marks (object, actor, is_on, owner, stamp_ts, stamp_id, since_ts, since_id) VALUES ('bp', 5, true, 1, 10, 'c1', 10, 'c1')`,
		`INSERT INTO marks (object, actor, is_on, owner, stamp_ts, stamp_id, since_ts, since_id) VALUES ('bq', 5, false, 1, 10, 'u1', 9, 'c0')`,
		`INSERT INTO marks (object, actor, is_on, owner, stamp_ts, stamp_id, since_ts, since_id, kind) VALUES ('br', 5, true, 1, 10, 'r1', 10, 'r1', 'love')`,
	} {
		if err := s.sess.Query(q).ExecContext(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{"bp", "bq", "br"}
	if got, err := s.Objects().MyReactions(ctx, 5, ids); err != nil || strings.Join(got, ",") != ",," {
		t.Fatalf("before the backfill: %q, %v", got, err)
	}
	if err := backfillMyReactions(ctx, s.sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Objects().MyReactions(ctx, 5, ids); err != nil || strings.Join(got, ",") != "class,,love" {
		t.Fatalf("after the backfill: %q, %v", got, err)
	}
}
