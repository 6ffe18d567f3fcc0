package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/metrics"
)

const secret = "faults-test-secret-0123456789abcdef"

// client is the HTTP client of the suite: short timeouts, so a request to
// a server that hangs shows as an error rather than stalling the test.
var client = &http.Client{Timeout: 20 * time.Second}

// proc is one feedd process.
type proc struct {
	t    *testing.T
	name string
	args []string
	base string
	cmd  *exec.Cmd
	logf *os.File
	done chan struct{}
	err  error // Wait's result, after done
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
		if !w.exited() {
			out = append(out, w)
		}
	}
	return out
}

func (d *deployment) start(name string, args ...string) *proc {
	d.t.Helper()
	addr := freeAddr(d.t)
	full := append(append([]string{"--http", addr}, d.common...), args...)
	logf, err := os.OpenFile(filepath.Join(d.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	fmt.Fprintf(logf, "----- %s feedd %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(full, " "))
	cmd := exec.Command(feeddBin, full...)
	cmd.Env = append(os.Environ(), "FEED_AUTH_SECRET="+secret)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: d.t, name: name, args: full, base: "http://" + addr, cmd: cmd, logf: logf, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if p.exited() {
			d.t.Fatalf("%s exited during start: %v\n%s", name, p.err, p.logTail())
		}
		resp, err := client.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("%s did not become healthy\n%s", name, p.logTail())
	return nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig and waits up to limit for the exit; it returns how long
// the exit took and the exit error (nil: status 0).
func (p *proc) signal(sig syscall.Signal, limit time.Duration) (time.Duration, error) {
	t0 := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.exited() {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
	select {
	case <-p.done:
		return time.Since(t0), p.err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(t0), fmt.Errorf("%s did not exit within %v of %v", p.name, limit, sig)
	}
}

// logTail is the end of the process's log file.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.logf.Name())
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// log is the process's whole log.
func (p *proc) log() string {
	b, _ := os.ReadFile(p.logf.Name())
	return string(b)
}

func (d *deployment) stopAll() {
	d.mu.Lock()
	ps := append([]*proc{d.api}, d.workers...)
	d.mu.Unlock()
	for _, p := range ps {
		if p != nil && !p.exited() {
			_, _ = p.signal(syscall.SIGTERM, 40*time.Second)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
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
	code, body, err := request(ctx, "GET", p.base+"/metrics", "", "", nil)
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
