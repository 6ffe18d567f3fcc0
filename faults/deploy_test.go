package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/feeddproc"
	"github.com/lenta-dev/lenta/metrics"
)

const secret = "faults-test-secret-0123456789abcdef"

// client is the HTTP client of the suite: short timeouts, so a request to
// a server that hangs shows as an error rather than stalling the test.
var client = &http.Client{Timeout: 20 * time.Second}

// proc is one feedd process of a deployment; its log is
// .artifacts/faults/<case>/<name>.log.
type proc struct {
	*feeddproc.Proc
	name string
}

// deployment is feedd on the suite's servers: one API process (ingest and
// reader) and fan-out workers, each a process of its own so that each can
// be killed alone.
type deployment struct {
	t       *testing.T
	name    string
	common  []string
	logDir  string
	api     *proc
	mu      sync.Mutex
	workers []*proc
	tokens  *auth.Tokens
	// embedded: one feedd on its embedded store (no Kafka to read the log
	// back from: the expected state comes from the accepted events).
	embedded bool
}

// newDeployment makes an empty deployment with its token issuer and a
// fresh log folder, .artifacts/faults/<name>.
func newDeployment(t *testing.T, name string) *deployment {
	t.Helper()
	tokens, err := auth.New([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(root, ".artifacts", "faults", name)
	if err := os.RemoveAll(logDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &deployment{t: t, name: name, logDir: logDir, tokens: tokens}
}

// deploy starts the API process (which creates the keyspace and topics)
// and workers fan-out processes. extra is added to every process's flags.
func deploy(t *testing.T, name, kafka, cassandra string, workers int, extra ...string) *deployment {
	t.Helper()
	stamp := strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	d := newDeployment(t, name)
	d.common = append([]string{"--kafka", kafka, "--cassandra", cassandra,
		"--keyspace", "f_" + name + "_" + stamp, "--topic-prefix", "f." + name + "." + stamp + ".",
		"--partitions", "6", "--log-level", "info"}, extra...)
	d.api = d.start("api", "--role", "ingest,reader")
	for i := range workers {
		d.addWorker(fmt.Sprintf("worker%d", i+1))
	}
	t.Cleanup(d.stopAll)
	return d
}

// deployEmbedded starts one feedd on the embedded default (event log and
// Pebble store in a data folder), every role in one process.
func deployEmbedded(t *testing.T, name string) *deployment {
	t.Helper()
	d := newDeployment(t, name)
	d.embedded = true
	d.common = []string{"--data", t.TempDir(), "--partitions", "4", "--log-level", "info"}
	d.restartEmbedded("feedd")
	t.Cleanup(d.stopAll)
	return d
}

// restartEmbedded starts the embedded feedd (again) on the same data.
func (d *deployment) restartEmbedded(name string) {
	p := d.start(name, "--role", "all")
	d.mu.Lock()
	d.api, d.workers = p, []*proc{p}
	d.mu.Unlock()
}

// addWorker starts one more fan-out process.
func (d *deployment) addWorker(name string) *proc {
	p := d.start(name, "--role", "fanout", "--migrate=false")
	d.mu.Lock()
	d.workers = append(d.workers, p)
	d.mu.Unlock()
	return p
}

// live returns the workers still running.
func (d *deployment) live() []*proc {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*proc
	for _, w := range d.workers {
		if !w.Exited() {
			out = append(out, w)
		}
	}
	return out
}

// start runs one feedd with the deployment's flags and args, waits (up
// to 3 minutes) until it is healthy, and fails the test if it is not.
func (d *deployment) start(name string, args ...string) *proc {
	d.t.Helper()
	p, err := feeddproc.Start(context.Background(), feeddproc.Config{Bin: feeddBin, Name: name,
		Args: append(append([]string(nil), d.common...), args...), Env: []string{"FEED_AUTH_SECRET=" + secret},
		LogPath: filepath.Join(d.logDir, name+".log"), ReadyTimeout: 3 * time.Minute, StopGrace: 40 * time.Second})
	if err != nil {
		d.t.Fatal(err)
	}
	return &proc{Proc: p, name: name}
}

// stopAll stops every process still running (SIGTERM, killed after 40s).
func (d *deployment) stopAll() {
	d.mu.Lock()
	ps := append([]*proc{d.api}, d.workers...)
	d.mu.Unlock()
	for _, p := range ps {
		if p != nil && !p.Exited() {
			_ = p.Stop()
		}
	}
}

// token is a bearer token for user (the service when service is set).
func (d *deployment) token(user int64, service bool) string {
	s, err := d.tokens.Issue(user, service, time.Hour)
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

// request does one HTTP request and returns status and body; a transport
// error is returned as such (status 0).
func request(ctx context.Context, method, url, tok, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// metric reads one unlabelled sample from p's /metrics.
func (p *proc) metric(ctx context.Context, name string) (float64, error) {
	code, body, err := request(ctx, "GET", p.Base()+"/metrics", "", "", nil)
	if err != nil {
		return 0, err
	}
	if code != 200 {
		return 0, fmt.Errorf("metrics of %s: %d", p.name, code)
	}
	samples, err := metrics.ParseSamples(body)
	if err != nil {
		return 0, fmt.Errorf("metrics of %s: %w", p.name, err)
	}
	return samples[name], nil
}

// applied sums the events the live workers have applied since they started.
func (d *deployment) applied(ctx context.Context) float64 {
	var sum float64
	for _, w := range d.live() {
		v, err := w.metric(ctx, "lenta_fanout_events_applied_total")
		if err == nil {
			sum += v
		}
	}
	return sum
}

// waitApplied waits until the live workers have applied at least n events.
func (d *deployment) waitApplied(n float64, limit time.Duration) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for ctx.Err() == nil {
		if d.applied(ctx) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("the workers did not apply %.0f events within %v", n, limit)
}

// drained waits until the consumer group has committed every event on the
// bus (lag 0, as a live worker reports it) and returns how long that took.
func (d *deployment) drained(limit time.Duration) time.Duration {
	d.t.Helper()
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var last float64 = -2
	var lastErr error
	for ctx.Err() == nil {
		for _, w := range d.live() {
			v, err := w.metric(ctx, "lenta_bus_lag_messages")
			if err != nil {
				lastErr = err
				continue
			}
			last = v
			if v == 0 {
				return time.Since(t0)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Fatalf("the pipeline did not drain within %v (last lag %.0f, err %v)", limit, last, lastErr)
	return 0
}
