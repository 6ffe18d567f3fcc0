package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tiny are sizes that run every scenario in seconds: the smoke test keeps
// the bench from rotting, it measures nothing. The soak runs 5 s with a
// sample a second (enough for one sample in each of its windows).
var tiny = []string{"--users", "200", "--events", "1000", "--duration", "1s", "--followers", "300",
	"--sample", "20", "--clients", "4", "--probe-rate", "10", "--ceiling-rows", "20000", "--push-subs", "20", "--pushes", "200",
	"--soak-duration", "5s", "--soak-interval", "1s", "--rate", "50", "--read-rate", "50", "--quiet"}

func smoke(t *testing.T, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := t.TempDir()
	args := append(append(append([]string{}, tiny...), extra...), "--out", out, "suite", "soak")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("feedbench %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Scenarios []struct {
			Name    string
			Error   string
			Figures []struct{ Name string }
		}
		Machine struct{ CPUs int }
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Scenarios {
		names = append(names, s.Name)
		if s.Error != "" || len(s.Figures) == 0 {
			t.Errorf("scenario %s: error %q, %d figures", s.Name, s.Error, len(s.Figures))
		}
	}
	if got := strings.Join(names, ","); got != "fanout,latency,read,mixed,large,push,soak" || r.Machine.CPUs == 0 {
		t.Errorf("scenarios %s, cpus %d", got, r.Machine.CPUs)
	}
	for _, f := range []string{"report.html", "summary.txt"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !bytes.Contains(html, []byte("<svg")) || !bytes.Contains(html, []byte("feedd goroutines")) {
		t.Error("report.html has no plots, or not the soak's")
	}
	b, err = os.ReadFile(filepath.Join(out, "soak.json"))
	if err != nil {
		t.Fatal(err)
	}
	var soak struct {
		Verdict string
		Samples []struct {
			Goroutines float64 `json:"goroutines"`
			Heap       float64 `json:"heap_inuse_bytes"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(b, &soak); err != nil {
		t.Fatal(err)
	}
	if soak.Verdict != "PASS" || len(soak.Samples) < 5 {
		t.Errorf("soak: verdict %q, %d samples", soak.Verdict, len(soak.Samples))
	} else if first := soak.Samples[0]; first.Heap <= 0 || first.Goroutines <= 0 {
		t.Errorf("soak: first sample %+v", first)
	}
}

// TestSmokeEmbedded runs the whole suite and a few seconds of soak at tiny
// sizes, embedded.
func TestSmokeEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs feedd")
	}
	smoke(t)
}

// TestSmokeReal runs it on Kafka + Cassandra when LENTA_TEST_KAFKA and
// LENTA_TEST_CASSANDRA name them (fresh keyspaces and topics; dropped
// keyspaces after).
func TestSmokeReal(t *testing.T) {
	k, c := os.Getenv("LENTA_TEST_KAFKA"), os.Getenv("LENTA_TEST_CASSANDRA")
	if k == "" || c == "" {
		t.Skip("LENTA_TEST_KAFKA and LENTA_TEST_CASSANDRA not set: real smoke run skipped")
	}
	// On Kafka + Cassandra feedd's goroutines swing by tens from one
	// second to the next (driver and client connections, in-flight
	// statements); five 1-second samples cannot tell that from a leak, so
	// the smoke does not judge flatness here (the verdict has its own table
	// tests and the 10-minute soak judges it). It still needs zero failed
	// requests and the lag back at 0.
	smoke(t, "--kafka", k, "--cassandra", c, "--keyspace-prefix", "benchsmoke", "--soak-goroutine-slack", "100000")
}

func TestParse(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parse([]string{"nope"}, &stderr); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := parse([]string{"--kafka", "x", "fanout"}, &stderr); err == nil {
		t.Error("--kafka without --cassandra accepted")
	}
	c, err := parse([]string{"--mix", "post=1,graph=0", "suite"}, &stderr)
	if err != nil || len(c.names) != 6 || c.opts.Mix.Post != 1 || c.opts.SoakDuration != 10*time.Minute {
		t.Errorf("suite: %v %v %v", c.names, c.opts.SoakDuration, err)
	}
	// The soak runs --soak-duration, else --duration when given, else 10m.
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{[]string{"soak"}, 10 * time.Minute},
		{[]string{"--duration", "2m", "soak"}, 2 * time.Minute},
		{[]string{"--duration", "2m", "--soak-duration", "30s", "soak"}, 30 * time.Second},
		{[]string{"soak", "--duration", "2m"}, 2 * time.Minute}, // flags after the name
	} {
		c, err := parse(tc.args, &stderr)
		if err != nil || c.opts.SoakDuration != tc.want || c.names[0] != "soak" {
			t.Errorf("%v: soak %v, %v", tc.args, c.opts.SoakDuration, err)
		}
	}
	if c, _ := parse([]string{"suite"}, &stderr); slices.Contains(c.names, "soak") {
		t.Error("suite runs the soak")
	}
}
