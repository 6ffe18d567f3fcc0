package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/rankcache"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

// ceilingResult is one write ceiling.
type ceilingResult struct {
	what       string
	rows       int
	workers    int
	rowsPerSec float64
}

// homeRows are the home timeline rows the pipeline delivers for ev under
// the generated graph (the author's own rows and merges aside): an item
// goes to the author's friends and followers (nobody when the author is
// above the threshold), a gift also to its recipient, a Class to the
// marker's friends.
func (e *Env) homeRows(ev *schema.Event, dst []timeline.Row) []timeline.Row {
	g := e.Graph
	entry := timeline.Entry{TS: ev.TS, ID: ev.ID, Actor: ev.Actor, Object: ev.Object, Audience: schema.AudiencePublic}
	if entry.Object == "" {
		entry.Object = ev.ID
	}
	var users []int64
	switch ev.Type {
	case schema.Post, schema.Photo, schema.Gift, schema.Live:
		entry.Kind = map[schema.Type]timeline.Kind{schema.Post: timeline.KindPost, schema.Photo: timeline.KindPhoto,
			schema.Gift: timeline.KindGift, schema.Live: timeline.KindLive}[ev.Type]
		entry.Owner, entry.Until = ev.Target, ev.Until
		if int64(g.Audience(ev.Actor)) <= e.threshold {
			users = graph.Union(g.Friends(ev.Actor), g.Followers(ev.Actor))
		}
		if ev.Type == schema.Gift {
			users = graph.Union(users, []int64{ev.Target})
		}
	case schema.Class:
		entry.Kind, entry.Owner, entry.Audience = timeline.KindClass, ev.Target, ""
		users = g.Friends(ev.Actor)
	}
	for _, u := range users {
		if u != ev.Actor {
			dst = append(dst, timeline.Row{NS: timeline.Home, User: u, Entry: entry})
		}
	}
	return dst
}

// ceilingChunks groups the rows of evs per pipeline batch (feedd --batch
// events, 500 by default), at most CeilingRows rows in all.
func (e *Env) ceilingChunks(evs []schema.Event) ([][]timeline.Row, int) {
	per := e.Opts.FeeddBatch
	if per <= 0 {
		per = 500
	}
	var chunks [][]timeline.Row
	total := 0
	for lo := 0; lo < len(evs) && total < e.Opts.CeilingRows; lo += per {
		var rows []timeline.Row
		for i := lo; i < min(lo+per, len(evs)); i++ {
			rows = e.homeRows(&evs[i], rows)
		}
		if len(rows) > e.Opts.CeilingRows-total {
			rows = rows[:e.Opts.CeilingRows-total]
		}
		total += len(rows)
		chunks = append(chunks, rows)
	}
	return chunks, total
}

// partitions is the number of concurrent fan-out batches feedd runs.
func (e *Env) partitions() int {
	switch {
	case e.Opts.Partitions > 0:
		return e.Opts.Partitions
	case e.Opts.Target.Real():
		return 12
	}
	return 4
}

// writeCeiling writes the rows of evs straight into a fresh store of the
// target's kind.
func (e *Env) writeCeiling(ctx context.Context, evs []schema.Event) (ceilingResult, error) {
	chunks, total := e.ceilingChunks(evs)
	if total == 0 {
		return ceilingResult{}, fmt.Errorf("the workload has no timeline rows")
	}
	if e.Opts.Target.Real() {
		return e.cassandraCeiling(ctx, chunks, total)
	}
	dir := filepath.Join(e.Opts.WorkDir, "ceiling-store")
	defer os.RemoveAll(dir)
	st, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		return ceilingResult{}, err
	}
	defer st.Close()
	workers := e.partitions()
	tl := st.Timelines()
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	p := NewProgress(e.Opts.Progress, "ceiling: pebble", int64(len(chunks)))
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) || ctx.Err() != nil {
					return
				}
				if err := tl.Write(ctx, chunks[i]); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	p.Set(int64(len(chunks)))
	p.Done()
	if first != nil {
		return ceilingResult{}, first
	}
	return ceilingResult{what: "the same rows, Timelines().Write straight into Pebble", rows: total, workers: workers,
		rowsPerSec: float64(total) / el.Seconds()}, nil
}

// cassandraCeiling inserts the rows straight through gocql (one INSERT per
// row) into a fresh keyspace, with as many statements in flight as the
// pipeline can have: partitions x the store's MaxInFlight.
func (e *Env) cassandraCeiling(ctx context.Context, chunks [][]timeline.Row, total int) (ceilingResult, error) {
	cfg := cassandrastore.Config{Hosts: strings.Split(e.Opts.Target.Cassandra, ","), Keyspace: e.Opts.Target.Keyspace + "_ceil"}
	if err := cassandrastore.Migrate(ctx, cfg); err != nil {
		return ceilingResult{}, fmt.Errorf("ceiling keyspace: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := cassandrastore.DropKeyspace(dctx, cfg); err != nil {
			e.logf("drop %s: %v", cfg.Keyspace, err)
		}
	}()
	st, err := cassandrastore.Open(ctx, cfg)
	if err != nil {
		return ceilingResult{}, err
	}
	defer st.Close()
	rows := make([]timeline.Row, 0, total)
	for _, c := range chunks {
		rows = append(rows, c...)
	}
	workers := e.partitions() * cassandrastore.DefaultMaxInFlight
	// Warm up: connections, prepared statements.
	if err := st.Timelines().RawInsert(ctx, rows[:min(len(rows), 2000)], workers); err != nil {
		return ceilingResult{}, err
	}
	p := NewProgress(e.Opts.Progress, "ceiling: gocql", 1)
	start := time.Now()
	if err := st.Timelines().RawInsert(ctx, rows, workers); err != nil {
		return ceilingResult{}, err
	}
	el := time.Since(start)
	p.Set(1)
	p.Done()
	return ceilingResult{what: "the same rows, one INSERT each straight through gocql", rows: total, workers: workers,
		rowsPerSec: float64(total) / el.Seconds()}, nil
}

// readStores are in-process readers on the target's store: the ceilings
// of the HTTP read path.
type readStores struct {
	recent timeline.Feed
	ranked ranking.Feed
}

// readStore opens the target's store for in-process reads (embedded: the
// shared feedd's data folder, so feedd must be stopped) and returns the
// readers feedd would serve with (a relations cache, a Class-count cache,
// on the embedded store an object cache and, for the ranked one, an order
// cache, all of feedd's default sizes) and a closer.
func (e *Env) readStore(ctx context.Context) (readStores, func(), error) {
	rels, err := rankcache.NewRelations(rankcache.DefaultRelationsBytes)
	if err != nil {
		return readStores{}, nil, err
	}
	counts, err := rankcache.NewCounts(rankcache.DefaultCountsBytes, timeline.DefaultCountsMaxAge)
	if err != nil {
		rels.Close()
		return readStores{}, nil, err
	}
	closeCaches := func() { rels.Close(); counts.Close() }
	cfg := timeline.ReaderConfig{Policy: timeline.DefaultPolicy, Relations: rels, Counts: counts}
	var (
		tl      *timeline.Reader
		rks     rankingStore
		closeSt func()
	)
	if e.Opts.Target.Real() {
		st, err := cassandrastore.Open(ctx, cassandrastore.Config{Hosts: strings.Split(e.Opts.Target.Cassandra, ","),
			Keyspace: e.Opts.Target.Keyspace})
		if err != nil {
			closeCaches()
			return readStores{}, nil, err
		}
		tl = timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), cfg)
		rks, closeSt = st.Ranking(), func() { st.Close(); closeCaches() }
	} else {
		objs, err := rankcache.NewObjects(rankcache.DefaultObjectsBytes)
		if err != nil {
			closeCaches()
			return readStores{}, nil, err
		}
		st, err := pebblestore.Open(filepath.Join(e.data, "store"), pebblestore.Options{ObjectCache: objs})
		if err != nil {
			objs.Close()
			closeCaches()
			return readStores{}, nil, err
		}
		tl = timeline.NewReader(st.Timelines(), st.Graph(), st.Objects(), cfg)
		rks, closeSt = st.Ranking(), func() { st.Close(); objs.Close(); closeCaches() }
	}
	rk, err := ranking.NewRanker(ranking.Defaults())
	if err != nil {
		closeSt()
		return readStores{}, nil, err
	}
	cache, err := rankcache.New(rankcache.DefaultBytes, time.Duration(rk.Config().SnapshotTTL))
	if err != nil {
		closeSt()
		return readStores{}, nil, err
	}
	rd := ranking.NewReader(tl, rks, rks, ranking.NewCursors([]byte("bench ceiling")), rk, nil,
		ranking.WithOrderCache(cache, ranking.DefaultOrderMaxAge))
	return readStores{recent: tl, ranked: rd}, func() { cache.Close(); closeSt() }, nil
}

// rankingStore is what a ranked reader keeps in the store.
type rankingStore interface {
	ranking.AffinityStore
	ranking.SnapshotStore
}
