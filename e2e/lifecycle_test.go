package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFanoutFailureStopsFeedd: a fan-out consumer that fails for good
// makes feedd log which part failed and exit non-zero within seconds,
// instead of serving on with nothing applied.
func TestFanoutFailureStopsFeedd(t *testing.T) {
	f := startFeedd(t, "--data", t.TempDir(), "--test-fanout-fault", "1s")
	var err error
	select {
	case <-f.Done():
		err = f.ExitErr()
	case <-time.After(15 * time.Second):
		t.Fatalf("feedd still running 15s after a permanent fan-out failure\n%s", f.Log())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, f.Log())
	}
	logs := f.Log()
	if !strings.Contains(logs, "part=fanout") || !strings.Contains(logs, "test fault") {
		t.Fatalf("log does not name the failing part and cause:\n%s", logs)
	}
}

// healthz is one /healthz answer.
func healthz(t *testing.T, f *feedd) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(f.Base() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	return resp.StatusCode, m
}

// TestStoreDownMakesHealthz503: with Cassandra reached through a TCP proxy
// that the test cuts, /healthz answers 503 naming the store once it has
// been failing past --unhealthy-after, and 200 again when it returns.
func TestStoreDownMakesHealthz503(t *testing.T) {
	env := newRealEnv(t)
	p := newProxy(t, env.cass)
	f := startFeedd(t, env.args("--cassandra", p.addr, "--unhealthy-after", "2s")...)
	if code, m := healthz(t, f); code != 200 || m["status"] != "ok" || len(m) != 1 {
		t.Fatalf("healthy: %d %v", code, m)
	}
	p.cut()
	cut := time.Now()
	var last map[string]any
	waitFor(t, 40*time.Second, func() bool {
		code, m := healthz(t, f)
		last = m
		return code == 503
	}, "/healthz 503 with the store cut")
	t.Logf("503 %.1fs after the cut: %v", time.Since(cut).Seconds(), last)
	if last["code"] != "unhealthy" || !strings.Contains(last["error"].(string), "store") {
		t.Fatalf("503 body does not name the store: %v", last)
	}
	parts, _ := last["parts"].(map[string]any)
	if st, _ := parts["store"].(map[string]any); st["state"] != "failing" {
		t.Fatalf("parts.store: %v", parts)
	}
	p.restore()
	back := time.Now()
	waitFor(t, 120*time.Second, func() bool {
		code, _ := healthz(t, f)
		return code == 200
	}, "/healthz 200 with the store back")
	t.Logf("200 %.1fs after the store returned", time.Since(back).Seconds())
}

// proxy forwards TCP connections to a target until cut.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close(); c.Close() }()
			go func() { _, _ = io.Copy(c, up); up.Close(); c.Close() }()
		}
	}()
}

// cut closes the listener and every open connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens again on the same address.
func (p *proxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy relisten on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// TestMissingTopicMakesHealthz503: a feedd whose Kafka topics do not exist
// (here: a topic prefix nobody created, --migrate=false) answers /healthz
// 503 naming the bus once that has lasted past --unhealthy-after.
func TestMissingTopicMakesHealthz503(t *testing.T) {
	env := newRealEnv(t)
	// A first run creates the keyspace (and its own topics), then stops.
	startFeedd(t, env.args()...).stop()
	args := env.args("--migrate=false", "--topic-prefix", env.ns+".missing.", "--role", "ingest,reader", "--unhealthy-after", "3s")
	f := startFeedd(t, args...)
	var last map[string]any
	waitFor(t, 30*time.Second, func() bool {
		code, m := healthz(t, f)
		last = m
		return code == 503
	}, "/healthz 503 with the topics missing")
	if last["code"] != "unhealthy" || !strings.HasPrefix(last["error"].(string), "unhealthy: bus: ") {
		t.Fatalf("503 body does not name the bus: %v", last)
	}
	t.Logf("503: %s", last["error"])
}
