// Command feedd is the Lenta service: ingest, fan-out, feed reader (and,
// later, push) in one binary. With no flags it runs embedded: an event log
// and a Pebble store in ./lenta-data, HTTP on 127.0.0.1:8080. With --kafka
// and --cassandra it runs on real clusters, and --role picks which parts
// this process runs, so each part scales out as more processes.
//
// This file only wires: the logic lives in the domain packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/httpapi"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/rankcache"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	pebblestore "github.com/lenta-dev/lenta/store/pebble"
	"github.com/lenta-dev/lenta/timeline"
)

type options struct {
	httpAddr       string
	data           string
	role           string
	kafka          string
	cassandra      string
	keyspace       string
	topicPrefix    string
	consistency    string
	replication    int
	kafkaRepl      int
	partitions     int
	group          string
	largeThreshold int64
	timelineCap    int
	maxAge         time.Duration
	batchMax       int
	demo           bool
	migrate        bool
	logLevel       string
	pprofAddr      string
	rankingConfig  string
	push           pushOptions
	limits         httpLimits
	life           lifecycleOptions
	minFreeDisk    byteSize
	purge          purgeOptions
	rankCache      rankCacheOptions
	storeCache     byteSize
	objectCache    byteSize
	reactions      schema.ReactionSet
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("feedd", flag.ContinueOnError)
	fs.StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&o.data, "data", "lenta-data", "data folder of the embedded store")
	fs.StringVar(&o.role, "role", "all", "parts to run: all, or a comma list of ingest, fanout, reader, push")
	fs.StringVar(&o.kafka, "kafka", "", "Kafka brokers host:port,... (with --cassandra: real deployment)")
	fs.StringVar(&o.cassandra, "cassandra", "", "Cassandra hosts host:port,...")
	fs.StringVar(&o.keyspace, "keyspace", "lenta", "Cassandra keyspace")
	fs.StringVar(&o.topicPrefix, "topic-prefix", "lenta.", "Kafka topic name prefix")
	fs.StringVar(&o.consistency, "consistency", "LOCAL_QUORUM", "Cassandra consistency: LOCAL_QUORUM, QUORUM or ONE")
	fs.IntVar(&o.replication, "replication", 1, "Cassandra replication factor when feedd creates the keyspace")
	fs.IntVar(&o.kafkaRepl, "kafka-replication", 1, "Kafka topic replication factor when feedd creates the topics (3 or more also sets min.insync.replicas=2)")
	fs.IntVar(&o.partitions, "partitions", 0, "event partitions (default: 4 embedded, 12 on Kafka)")
	fs.StringVar(&o.group, "group", "lenta-fanout", "Kafka consumer group of the fan-out workers")
	fs.Int64Var(&o.largeThreshold, "large-threshold", fanout.DefaultLargeThreshold, "authors with more friends+followers are merged at read time")
	fs.IntVar(&o.timelineCap, "timeline-cap", timeline.DefaultPolicy.Cap, "entries kept per timeline")
	fs.DurationVar(&o.maxAge, "timeline-max-age", timeline.DefaultPolicy.MaxAge, "oldest entry kept in a timeline")
	fs.IntVar(&o.batchMax, "batch", 500, "most events the fan-out applies in one batch")
	fs.BoolVar(&o.demo, "demo", false, "seed a small demo network (idempotent)")
	fs.BoolVar(&o.migrate, "migrate", true, "on Kafka + Cassandra: create the topics and apply the CQL migrations at start (idempotent)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.pprofAddr, "pprof", os.Getenv("LENTA_PPROF"), "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (default $LENTA_PPROF); off when empty")
	fs.StringVar(&o.rankingConfig, "ranking-config", "", "JSON file of ranking weights (docs/ranking.md); unset: the defaults")
	addPushFlags(fs, &o.push)
	addLimitFlags(fs, &o.limits)
	addLifecycleFlags(fs, &o.life)
	addDiskFlags(fs, &o.minFreeDisk)
	addPurgeFlags(fs, &o.purge)
	addRankCacheFlags(fs, &o.rankCache)
	fs.Func("reactions", "comma list of the reaction kinds a react may name; must include class (default "+
		schema.ReactionSet{}.String()+")", func(v string) error {
		set, err := schema.ParseReactions(v)
		o.reactions = set
		return err
	})
	o.storeCache = pebblestore.DefaultCacheSize
	fs.Var(&o.storeCache, "store-cache", "embedded store: Pebble's block cache (feed reads are point lookups all over the store; what it misses costs a pread)")
	o.objectCache = rankcache.DefaultObjectsBytes
	fs.Var(&o.objectCache, "object-cache-bytes", "embedded store: memory for decoded objects (a few hundred bytes each), so a page's items are read without a seek through the store; exact, since this process writes every object (0: off)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (o.kafka == "") != (o.cassandra == "") {
		return o, errors.New("--kafka and --cassandra go together (neither means embedded)")
	}
	if o.largeThreshold < 1 || o.timelineCap < 1 || o.maxAge <= 0 || o.batchMax < 1 || o.partitions < 0 {
		return o, errors.New("--large-threshold, --timeline-cap, --timeline-max-age and --batch must be positive")
	}
	if o.kafkaRepl < 1 || o.kafkaRepl > 32767 {
		return o, errors.New("--kafka-replication must be 1..32767")
	}
	if _, err := parseRoles(o.role); err != nil {
		return o, err
	}
	if err := o.limits.check(); err != nil {
		return o, err
	}
	if err := o.purge.check(); err != nil {
		return o, err
	}
	if err := o.rankCache.check(); err != nil {
		return o, err
	}
	if o.storeCache < 8<<20 {
		return o, errors.New("--store-cache must be at least 8MiB")
	}
	if o.objectCache != 0 && o.objectCache < rankcache.MinBytes {
		return o, errors.New("--object-cache-bytes must be 0 (off) or at least 1MiB")
	}
	return o, nil
}

type roles struct{ ingest, fanout, reader, push bool }

func parseRoles(s string) (roles, error) {
	var r roles
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "all":
			r = roles{true, true, true, true}
		case "ingest":
			r.ingest = true
		case "fanout":
			r.fanout = true
		case "reader":
			r.reader = true
		case "push":
			r.push = true
		default:
			return r, fmt.Errorf("unknown role %q (all, ingest, fanout, reader, push)", p)
		}
	}
	return r, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "feedd:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level(o.logLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		log.Error("feedd stopped", "err", err)
		os.Exit(1)
	}
}

func level(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// backend is one way of storing and moving events: embedded or real.
type backend struct {
	name      string
	stores    stores
	publisher fanout.Publisher
	dead      fanout.DeadLetters
	// deadStore serves the admin dead-letter routes (nil: not served).
	deadStore deadletter.Store
	// consume runs the fan-out workers until ctx ends.
	consume func(ctx context.Context, process func(ctx context.Context, msgs [][]byte) error) error
	health  func(ctx context.Context) error
	// busHealth, if set, checks the bus (its topics) for the "bus" part.
	busHealth func(ctx context.Context) error
	// diskHealth, if set, checks the data folder's free space for the
	// "disk" part (embedded).
	diskHealth func(ctx context.Context) error
	// unavailable classifies store errors a retry may fix (nil: none).
	unavailable func(error) bool
	close       func() error
	lag         atomic.Pointer[func() float64]
	pebble      *pebblestore.Store // the embedded store (nil on Cassandra), for its purger
	objCache    *rankcache.Objects // the embedded store's object cache (nil: off or Cassandra)
	// overlap is how many independent store calls the fan-out may wait
	// for at once (fanout.Config.Overlap): worth it where a call is a
	// network round trip.
	overlap int
}

// setLag names how to read the bus lag (set once the consumer exists).
func (b *backend) setLag(f func() float64) { b.lag.Store(&f) }

// lagValue is the bus lag for the metrics; 0 before a lag source is set.
func (b *backend) lagValue() float64 {
	if f := b.lag.Load(); f != nil {
		return (*f)()
	}
	return 0
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	rl, _ := parseRoles(o.role)
	secret, err := authSecret(o, log)
	if err != nil {
		return err
	}
	var tokenOpts []auth.Option
	if o.rankCache.tokens > 0 {
		tc, err := rankcache.NewTokens(o.rankCache.tokens)
		if err != nil {
			return err
		}
		defer tc.Close()
		tokenOpts = append(tokenOpts, auth.WithVerifiedCache(tc))
	}
	tokens, err := auth.New(secret, tokenOpts...)
	if err != nil {
		return fmt.Errorf("FEED_AUTH_SECRET: %w", err)
	}
	if o.pprofAddr != "" {
		stopPprof, err := servePprof(ctx, o.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	policy := timeline.Policy{Cap: o.timelineCap, MaxAge: o.maxAge}
	var b *backend
	if o.kafka != "" {
		b, err = openReal(ctx, o, policy, rl, log)
	} else {
		b, err = openEmbedded(o, log)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err := b.close(); err != nil {
			log.Error("close backend", "err", err)
		}
	}()
	reg := metrics.New()
	if o.rankCache.tokens > 0 {
		reg.TokenCache(tokens.CacheStats)
	}
	reg.SetLagFunc(b.lagValue)
	if b.pebble != nil {
		reg.BlockCache(func() metrics.BlockCacheStats {
			s := b.pebble.CacheStats()
			return metrics.BlockCacheStats{Hits: s.Hits, Misses: s.Misses, Bytes: s.Bytes, MaxBytes: s.Max}
		})
		reg.ObjectCache(func() metrics.ByteCacheStats {
			s := b.pebble.ObjectCacheStats()
			out := metrics.ByteCacheStats{Hits: s.Hits, Misses: s.Misses, MaxBytes: uint64(o.objectCache)}
			if b.objCache != nil {
				out.Bytes, out.Entries = b.objCache.Bytes(), b.objCache.Len()
			}
			return out
		})
	}
	ranker, err := loadRanker(o.rankingConfig)
	if err != nil {
		return err
	}
	nt, err := setupNotify(ctx, o, b, secret, reg, log)
	if err != nil {
		return err
	}
	defer nt.close()
	engine := fanout.NewEngine(b.stores.graph, b.stores.objects, b.stores.timelines, b.stores.ledger, fanout.Config{
		LargeThreshold: o.largeThreshold, Policy: policy, Overlap: b.overlap, Profiles: b.stores.profiles,
		Comments: b.stores.comments, Reactions: o.reactions,
		Hooks: []fanout.Hook{&ranking.Hook{Store: b.stores.ranking, Ranker: ranker}, nt.hook}})
	lc := newLifecycle(o.life, log)
	purger, err := newPurger(o.purge, b, reg)
	if err != nil {
		return err
	}
	proc := &fanout.Processor{Engine: engine, Dead: b.dead, Observer: healthObserver{reg, lc.health.Part("fanout")}, Log: log}
	reader, closeReader, err := newFeedReader(o.rankCache, timeline.ReaderConfig{Policy: policy, Comments: b.stores.comments},
		b.stores.timelines, b.stores.graph, b.stores.objects, reg)
	if err != nil {
		return err
	}
	defer closeReader()
	ranked, closeRanked, err := newRankedReader(o.rankCache, reader, b.stores.ranking, ranking.NewCursors(secret), ranker, reg)
	if err != nil {
		return err
	}
	defer closeRanked()

	if o.demo && !rl.ingest {
		return errors.New("--demo needs the ingest role")
	}
	httpCfg := httpapi.Config{
		Publisher:   publisherFor(rl, b.publisher),
		Reactions:   o.reactions,
		Feed:        feedFor(rl, reader),
		Cursors:     timeline.NewCursors(secret),
		Ranked:      rankedFor(rl, ranked),
		Tokens:      tokens,
		Metrics:     reg,
		Log:         log,
		Health:      lc.health.Check,
		Unavailable: b.unavailable,
		Notify:      nt.http,
		People:      people.NewDirectory(b.stores.profiles),
		DeadLetters: deadLetterAdmin(b),
	}
	if rl.reader {
		httpCfg.Comments = comments.NewReader(b.stores.objects, b.stores.comments, b.stores.graph, nil)
		httpCfg.CommentCursors = comments.NewCursors(secret)
	}
	o.limits.apply(&httpCfg)
	srv, err := httpapi.New(httpCfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.httpAddr, err)
	}
	log.Info("feedd listening", "http", "http://"+ln.Addr().String(), "backend", b.name, "role", o.role)
	// Stopped in this order: HTTP drains first (no new events), then the
	// fan-out finishes its batch, then push, then the probes.
	lc.group.Add("http", func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	if rl.fanout {
		consume := withFault(b.consume, o.life.fanoutFault)
		lc.group.Add("fanout", func(ctx context.Context) error { return consume(ctx, proc.Process) })
	}
	if rl.push {
		lc.group.Add("push", nt.sender.Run)
	}
	if purger != nil {
		lc.group.Add("purge", purger.Run)
	}
	if o.demo {
		// Seeded once the fan-out runs (it waits for the graph to be
		// applied), then idle until feedd stops: a part that returns is
		// dead.
		lc.group.Add("demo", func(ctx context.Context) error {
			if err := seedDemo(ctx, b.publisher, b.stores.ledger, log); err != nil {
				return err
			}
			<-ctx.Done()
			return nil
		})
	}
	lc.probe("store", b.health)
	if b.busHealth != nil {
		lc.probe("bus", b.busHealth)
	}
	if b.diskHealth != nil {
		lc.probeDown("disk", b.diskHealth)
	}
	if err := lc.group.Run(ctx); err != nil {
		return err
	}
	log.Info("feedd stopped cleanly")
	return nil
}
