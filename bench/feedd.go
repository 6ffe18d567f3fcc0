package bench

import (
	"context"
	"strings"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/feeddproc"
	cassandrastore "github.com/lenta-dev/lenta/store/cassandra"
)

// FeeddConfig says how to run one feedd.
type FeeddConfig struct {
	Bin    string
	Data   string // embedded data folder
	Target Target
	Secret string
	// Args are extra flags (--large-threshold, --partitions, ...).
	Args []string
	// LogPath receives feedd's stdout and stderr (appended, after a header
	// line).
	LogPath string
}

// secondFeedd is the arguments of a feedd started while the shared one
// runs (large, push): LENTA_PPROF names one address, which the shared
// feedd holds, so the second one serves no profiler.
func secondFeedd() []string { return []string{"--pprof", ""} }

// stopSecondFeedd stops a feedd a scenario started beside the shared one,
// reports its peak resident set as label, and drops its keyspace on the
// real target (the second feedd's data is of that scenario alone).
func (e *Env) stopSecondFeedd(ctx context.Context, s *report.Scenario, f *feeddproc.Proc, target Target, label string) {
	if err := f.Stop(); err != nil {
		e.logf("stop feedd: %v", err)
	}
	s.Add(label, float64(f.PeakRSS())/(1<<20), "MiB")
	if target.Real() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		_ = cassandrastore.DropKeyspace(dctx, cassandrastore.Config{Hosts: strings.Split(target.Cassandra, ","), Keyspace: target.Keyspace})
	}
}

// StartFeedd starts feedd and waits (up to 2 minutes) until /healthz
// answers 200; its Stop waits up to 60s after SIGTERM before it kills.
func StartFeedd(ctx context.Context, c FeeddConfig) (*feeddproc.Proc, error) {
	// The bench measures capacity, not policy: feedd's per-address and
	// per-token rate limits and its connection cap (README.md, "Limits")
	// would throttle the one address and service token the load comes
	// from. c.Args come after, so a scenario can set them again.
	args := []string{"--log-level", "warn",
		"--rate-per-ip", "-1", "--rate-per-token", "-1", "--max-conns-per-ip", "-1"}
	if c.Target.Real() {
		args = append(args, "--kafka", c.Target.Kafka, "--cassandra", c.Target.Cassandra,
			"--keyspace", c.Target.Keyspace, "--topic-prefix", c.Target.TopicPrefix,
			"--group", c.Target.TopicPrefix+"fanout")
	} else {
		args = append(args, "--data", c.Data)
	}
	return feeddproc.Start(ctx, feeddproc.Config{Bin: c.Bin, Name: "feedd", Args: append(args, c.Args...),
		Env: []string{"FEED_AUTH_SECRET=" + c.Secret}, LogPath: c.LogPath,
		ReadyTimeout: 2 * time.Minute, StopGrace: 60 * time.Second})
}

// Target is where the pipeline runs: embedded (zero value) or Kafka +
// Cassandra.
type Target struct {
	Kafka, Cassandra string
	Keyspace         string
	TopicPrefix      string
}

// Real reports whether the target is Kafka + Cassandra.
func (t Target) Real() bool { return t.Kafka != "" }

// Name is "embedded" or "kafka+cassandra".
func (t Target) Name() string {
	if t.Real() {
		return "kafka+cassandra"
	}
	return "embedded"
}
