// Command feedbench is Lenta's throughput bench: it runs feedd as a
// subprocess, embedded (default) or on Kafka + Cassandra, loads a generated
// social network through the public API, and measures fan-out, end-to-end
// latency, feed reads, a mixed load, a large author and Web Push delivery,
// each against a ceiling measured in the same run. It prints a summary table and writes
// report.json, report.html and summary.txt. The soak scenario (not in the
// suite) holds a steady load for --soak-duration and exits non-zero when
// feedd's memory or goroutines did not stay flat.
//
//	feedbench [flags] suite|fanout|latency|read|mixed|large|push|soak ...
//
// This file only parses flags and wires: the logic lives in package bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lenta-dev/lenta/bench"
	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/bench/workload"
	"github.com/lenta-dev/lenta/feeddproc"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// defaultSoak is the soak's length when neither --soak-duration nor
// --duration is given.
const defaultSoak = 10 * time.Minute

type config struct {
	opts     bench.Options
	names    []string
	out      string
	keep     bool
	quiet    bool
	mix      string
	runID    string
	ksPrefix string
}

func usage(fs *flag.FlagSet, w io.Writer) func() {
	return func() {
		fmt.Fprintln(w, "usage: feedbench [flags] suite | scenario ...")
		fmt.Fprintln(w, "\nscenarios (suite runs them all, in this order):")
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(w, "  %-8s %s\n", s.Name, s.Help)
		}
		fmt.Fprintln(w, "\nrun only when named:")
		for _, s := range bench.Extras() {
			fmt.Fprintf(w, "  %-8s %s\n", s.Name, s.Help)
		}
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
	}
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	o := &c.opts
	w := &o.Workload
	fs := flag.NewFlagSet("feedbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage(fs, stderr)
	fs.StringVar(&o.Target.Kafka, "kafka", "", "Kafka brokers (with --cassandra: the real target; neither: embedded)")
	fs.StringVar(&o.Target.Cassandra, "cassandra", "", "Cassandra hosts host:port,...")
	fs.StringVar(&c.ksPrefix, "keyspace-prefix", "bench", "real target: keyspace <prefix>_<run id> and topics <prefix>.<run id>.* (fresh per run)")
	fs.IntVar(&w.Users, "users", 10_000, "users in the generated network")
	fs.Float64Var(&w.MeanFriends, "mean-friends", 90, "mean friends per user (power law)")
	fs.IntVar(&w.Communities, "communities", 0, "communities (default users/100)")
	fs.Float64Var(&w.FollowsPerUser, "follows-per-user", 12, "mean communities a user follows")
	fs.IntVar(&w.LargeAuthors, "large-authors", 3, "public profiles above the hybrid threshold")
	fs.Float64Var(&w.LargeFollowFrac, "large-follow-frac", 0.5, "share of users following each large author")
	seed := fs.Uint64("seed", 1, "seed of the network and the events")
	fs.StringVar(&c.mix, "mix", "", "event mix, e.g. post=30,photo=20,class=30,gift=5,live=2,delete=3,graph=10 (default that)")
	fs.IntVar(&o.Events, "events", 20_000, "events the fan-out scenario publishes")
	fs.IntVar(&o.Batch, "batch", 1000, "events per POST /v1/events")
	fs.IntVar(&o.Publishers, "publishers", 2, "concurrent publishing connections")
	fs.IntVar(&o.Partitions, "partitions", 0, "feedd --partitions (0: feedd's default, 4 embedded, 12 on Kafka)")
	fs.IntVar(&o.FeeddBatch, "feedd-batch", 0, "feedd --batch (0: feedd's default 500)")
	fs.Int64Var(&o.LargeThreshold, "large-threshold", 0, "feedd --large-threshold (0: between the biggest community and the smallest large author)")
	fs.StringVar(&o.Order, "order", "ranked", "feed order of the mixed and soak reads, passed as order= (ranked, the API default, or recent); the read scenario reads both, the latency probes read recent (a new item need not rank first)")
	fs.Float64Var(&o.Fraction, "fraction", 0.5, "latency and mixed run at this fraction of peak")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "length of the latency, read and mixed phases (and of the soak when --soak-duration is unset)")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent feed readers")
	fs.IntVar(&o.Limit, "limit", 20, "feed page size")
	fs.Float64Var(&o.ProbeRate, "probe-rate", 20, "latency probes per second")
	fs.IntVar(&o.Followers, "followers", 1_000_000, "followers of the large author")
	fs.IntVar(&o.Sample, "sample", 1000, "random followers checked by the large scenario (plus the last one)")
	fs.IntVar(&o.PushSubs, "push-subs", 1000, "users the push scenario subscribes (one device each)")
	fs.IntVar(&o.Pushes, "pushes", 20_000, "gifts (one push each) the push scenario publishes")
	fs.IntVar(&o.CeilingRows, "ceiling-rows", 2_000_000, "most rows the write ceiling writes")
	fs.DurationVar(&o.Interval, "interval", 250*time.Millisecond, "/metrics sampling interval")
	fs.Float64Var(&o.Rate, "rate", 150, "soak: events/s published, paced (about a third of what mixed writes on 2 cores)")
	fs.Float64Var(&o.ReadRate, "read-rate", 300, "soak: feed reads/s, paced, on --clients workers")
	fs.DurationVar(&o.SoakDuration, "soak-duration", 0, "soak: length of the load (0: --duration if given, else 10m)")
	fs.DurationVar(&o.SoakInterval, "soak-interval", 10*time.Second, "soak: time between samples of feedd's heap, goroutines and RSS")
	fs.DurationVar(&o.SoakRetention, "soak-retention", 0, "soak, embedded: feedd's --ledger-retention and --notify-retention (purge every quarter of it), and a check that the data folder is flat after twice it (0: defaults, no check)")
	fs.Float64Var(&o.SoakGoroutineSlack, "soak-goroutine-slack", 10, "soak: goroutines the end window's median may have above the warm window's max")
	fs.StringVar(&c.out, "out", "", "folder for report.json, report.html, summary.txt and logs (default bench-results/<time>)")
	fs.StringVar(&o.FeeddBin, "feedd", "", "feedd binary (default: go build ./cmd/feedd)")
	fs.BoolVar(&c.keep, "keep", false, "keep data folders and the real target's keyspaces")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bars or phase messages")
	// Flags may come before and after the scenario names
	// (feedbench soak --duration 2m).
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return c, err
		}
		if fs.NArg() == 0 {
			break
		}
		c.names = append(c.names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	w.Seed = *seed
	if o.SoakDuration == 0 {
		o.SoakDuration = defaultSoak
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "duration" {
				o.SoakDuration = o.Duration
			}
		})
	}
	if len(c.names) == 0 {
		fs.Usage()
		return c, errors.New("name a scenario, or suite")
	}
	if (o.Target.Kafka == "") != (o.Target.Cassandra == "") {
		return c, errors.New("--kafka and --cassandra go together")
	}
	mix, err := workload.ParseMix(c.mix)
	if err != nil {
		return c, err
	}
	o.Mix = mix
	if o.Events < 1 || o.Batch < 1 || o.Publishers < 1 || o.Clients < 1 || o.Limit < 1 || o.Limit > 100 ||
		o.Fraction <= 0 || o.Duration <= 0 || o.Followers < 2 || o.Sample < 1 || o.CeilingRows < 1 || o.Interval <= 0 ||
		o.PushSubs < 1 || o.Pushes < 1 || o.Rate <= 0 || o.ReadRate <= 0 || o.SoakDuration <= 0 || o.SoakInterval <= 0 || o.SoakGoroutineSlack <= 0 || o.SoakRetention < 0 {
		return c, errors.New("sizes must be positive (--limit at most 100, --followers at least 2)")
	}
	if o.Order != "ranked" && o.Order != "recent" {
		return c, fmt.Errorf("--order %q: ranked or recent", o.Order)
	}
	var expanded []string
	for _, n := range c.names {
		if n == "suite" {
			for _, s := range bench.Scenarios() {
				expanded = append(expanded, s.Name)
			}
			continue
		}
		if _, ok := bench.Lookup(n); !ok {
			return c, fmt.Errorf("unknown scenario %q (see -h)", n)
		}
		expanded = append(expanded, n)
	}
	c.names = expanded
	c.runID = strconv.FormatInt(time.Now().Unix(), 36)
	w.IDPrefix = "b" + c.runID
	if o.Target.Real() {
		o.Target.Keyspace = c.ksPrefix + "_" + c.runID
		o.Target.TopicPrefix = c.ksPrefix + "." + c.runID + "."
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "feedbench:", err)
		return 2
	}
	if err := execute(ctx, c, args, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "feedbench:", err)
		return 1
	}
	return 0
}

func execute(ctx context.Context, c config, args []string, stdout, stderr io.Writer) error {
	repo, err := feeddproc.RepoRoot()
	if err != nil {
		return err
	}
	if c.out == "" {
		c.out = filepath.Join(repo, "bench-results", time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	o := &c.opts
	o.WorkDir, err = os.MkdirTemp(c.out, "work-")
	if err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	if !c.keep {
		defer os.RemoveAll(o.WorkDir)
	}
	o.LogDir = c.out
	o.Secret = "feedbench-" + c.runID + "-0123456789abcdef"
	if !c.quiet {
		o.Progress, o.Log = stderr, stderr
	}
	if o.FeeddBin == "" {
		if o.Log != nil {
			fmt.Fprintln(o.Log, "building feedd")
		}
		bins, err := feeddproc.Build(ctx, repo, o.WorkDir, "./cmd/feedd")
		if err != nil {
			return err
		}
		o.FeeddBin = bins[0]
	}
	r := &report.Run{Started: time.Now(), Command: "feedbench " + strings.Join(args, " "), Target: o.Target.Name(),
		Machine: report.Describe(ctx, repo)}
	env, err := bench.NewEnv(*o, r)
	if err != nil {
		return err
	}
	r.Workload = env.Graph.Stats()
	settings := map[string]any{"mix": o.Mix.String(), "events": o.Events, "batch": o.Batch, "publishers": o.Publishers,
		"large_threshold": env.Threshold(), "order": o.Order, "fraction": o.Fraction, "duration": o.Duration.String(),
		"clients": o.Clients, "limit": o.Limit, "push_subs": o.PushSubs, "pushes": o.Pushes, "followers": o.Followers, "sample": o.Sample, "seed": o.Workload.Seed,
		"keyspace": o.Target.Keyspace, "topic_prefix": o.Target.TopicPrefix}
	if slices.Contains(c.names, "soak") {
		settings["soak"] = map[string]any{"rate": o.Rate, "read_rate": o.ReadRate,
			"duration": o.SoakDuration.String(), "interval": o.SoakInterval.String()}
	}
	r.Settings = settings
	if o.Log != nil {
		st := env.Graph.Stats()
		fmt.Fprintf(o.Log, "network: %d users (mean %.1f friends, median %d, p99 %d, max %d), %d communities, %d large authors; threshold %d\n",
			st.Users, st.MeanFriends, st.MedianFriend, st.P99Friends, st.MaxFriends, st.Communities, st.LargeAuthors, env.Threshold())
	}
	failed := false
	for _, n := range c.names {
		sc, _ := bench.Lookup(n)
		if s := env.RunScenario(ctx, sc); s.Err != "" {
			failed = true
			fmt.Fprintf(stderr, "feedbench: %s: %s\n", n, s.Err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := env.Close(); err != nil {
		r.Notes = append(r.Notes, "stopping feedd: "+err.Error())
	}
	if o.Target.Real() && !c.keep {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		err := cassandrastore.DropKeyspace(dctx, cassandrastore.Config{Hosts: strings.Split(o.Target.Cassandra, ","), Keyspace: o.Target.Keyspace})
		cancel()
		if err != nil {
			r.Notes = append(r.Notes, "dropping the keyspace: "+err.Error())
		}
		r.Notes = append(r.Notes, "Kafka topics "+o.Target.TopicPrefix+"* are left on the broker")
	}
	r.Seconds = time.Since(r.Started).Seconds()
	if err := r.WriteText(stdout); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(c.out, "summary.txt"))
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	werr := r.WriteText(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	if err := r.WriteJSON(filepath.Join(c.out, "report.json")); err != nil {
		return err
	}
	if err := r.WriteHTML(filepath.Join(c.out, "report.html")); err != nil {
		return err
	}
	files := "summary.txt,report.json,report.html"
	if slices.Contains(c.names, "soak") {
		files += ",soak.json"
	}
	fmt.Fprintf(stdout, "\nreport: %s/{%s}\n", c.out, files)
	if failed {
		return errors.New("some scenarios failed (see above)")
	}
	return nil
}
