package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/feeddproc"
)

// The suite's own servers: a data folder and ports apart from the main
// suite's (scripts/services.sh defaults), so both can be up at once.
const (
	kafkaPort     = 19092
	cassandraPort = 19042
)

var (
	root     string // repository root
	feeddBin string
	enabled  = os.Getenv("LENTA_FAULTS") == "1"
)

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root = filepath.Dir(wd)
	if !enabled {
		os.Exit(m.Run()) // every test skips, saying how to run it
	}
	dir, err := os.MkdirTemp("", "lenta-faults-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := feeddproc.BuildTagged(context.Background(), root, dir, "invariants", "./cmd/feedd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "build feedd:", err)
		os.Exit(1)
	}
	feeddBin = bins[0]
	started := time.Now().Add(-time.Second)
	code := m.Run()
	printSummary(os.Stdout, started)
	if os.Getenv("FAULTS_KEEP") != "1" {
		if out, err := services(0, "stop"); err != nil {
			fmt.Fprintf(os.Stderr, "stop the fault suite's servers: %v\n%s", err, out)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// needFaults skips t unless the suite is enabled.
func needFaults(t *testing.T) {
	t.Helper()
	if !enabled {
		t.Skip("fault suite: set LENTA_FAULTS=1 (scripts/faults.sh, make faults); it starts its own Kafka and Cassandra")
	}
}

// runDir is where the suite's servers keep their data, pids and logs.
func runDir() string {
	if d := os.Getenv("FAULTS_RUN"); d != "" {
		return d
	}
	return filepath.Join(root, ".cache", "faults-run")
}

// services runs scripts/services.sh for the suite's servers; nodes > 0 sets
// the Cassandra node count.
func services(nodes int, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "services.sh")}, args...)...)
	cmd.Env = append(os.Environ(),
		"SERVICES_RUN="+runDir(),
		"KAFKA_PORT="+strconv.Itoa(kafkaPort),
		"KAFKA_CONTROLLER_PORT="+strconv.Itoa(kafkaPort+1),
		"CASSANDRA_PORT="+strconv.Itoa(cassandraPort),
		"CASSANDRA_STORAGE_PORT=17000",
		"CASSANDRA_JMX_PORT=17199",
	)
	if nodes <= 0 {
		nodes = clusterNodes()
	}
	if nodes > 0 {
		cmd.Env = append(cmd.Env, "CASSANDRA_NODES="+strconv.Itoa(nodes))
	}
	if nodes <= 1 {
		// The single node is the only replica: with the default periodic
		// commitlog sync a SIGKILL may take writes it acknowledged in the
		// last 10 s, which no retry can bring back, and the cases that
		// kill it compare the final state exactly. Group sync puts every
		// acknowledged write on disk. The 3-node ring keeps periodic sync:
		// TestRingNodeLost shows such a loss healed by repair.
		cmd.Env = append(cmd.Env, "CASSANDRA_COMMITLOG_SYNC=group")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// svc is services for a test: it fails t on error and logs what it did.
func svc(t *testing.T, args ...string) time.Duration {
	t.Helper()
	t0 := time.Now()
	out, err := services(0, args...)
	d := time.Since(t0)
	if err != nil {
		t.Fatalf("services.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("services.sh %s (%.1fs): %s", strings.Join(args, " "), d.Seconds(), lastLine(out))
	return d
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// clusterNodes is the node count of the suite's Cassandra data (0: none).
func clusterNodes() int {
	b, err := os.ReadFile(filepath.Join(runDir(), "cassandra.nodes"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// cluster makes sure Kafka and an n-node Cassandra of the suite are up;
// a Cassandra of another size is wiped first. It returns the contact
// points for feedd.
func cluster(t *testing.T, n int) (kafka, cassandra string) {
	t.Helper()
	if have := clusterNodes(); have != 0 && have != n {
		if out, err := services(have, "wipe", "cassandra"); err != nil {
			t.Fatalf("wipe the %d-node cassandra: %v\n%s", have, err, out)
		}
	}
	for _, what := range []string{"kafka", "cassandra"} {
		t0 := time.Now()
		out, err := services(n, "start", what)
		if err != nil {
			t.Fatalf("start %s: %v\n%s", what, err, out)
		}
		t.Logf("%s up (%.1fs)", what, time.Since(t0).Seconds())
	}
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("127.0.0.%d:%d", i+1, cassandraPort)
	}
	return fmt.Sprintf("127.0.0.1:%d", kafkaPort), strings.Join(hosts, ",")
}

// printSummary prints the results of the cases that ran as a Markdown
// table (docs/reliability.md quotes it).
func printSummary(out io.Writer, since time.Time) {
	dir := filepath.Join(root, ".artifacts", "faults", "results")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		return
	}
	fmt.Fprintln(out, "\n| case | fault | events | timings (s) | exact-state comparison | result |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var r result
		if json.Unmarshal(b, &r) != nil {
			continue
		}
		if when, err := time.Parse(time.RFC3339, r.When); err != nil || when.Before(since.Truncate(time.Second)) {
			continue // an earlier run's
		}
		var ts []string
		for _, k := range slices.Sorted(maps.Keys(r.Seconds)) {
			ts = append(ts, fmt.Sprintf("%s %.1f", k, r.Seconds[k]))
		}
		verdict := "FAIL"
		if r.Passed {
			verdict = "pass"
		}
		fmt.Fprintf(out, "| %s | %s | %d | %s | %s | %s |\n", r.Case, r.Fault, r.Events, strings.Join(ts, "; "), r.Comparison, verdict)
	}
}
