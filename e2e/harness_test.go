package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/metrics"
)

const secret = "e2e-test-secret-0123456789abcdef"

var feeddBin, feedctlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lenta-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	feeddBin, feedctlBin = filepath.Join(dir, "feedd"), filepath.Join(dir, "feedctl")
	build := exec.Command("go", "build", "-o", dir, "../cmd/feedd", "../cmd/feedctl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build feedd and feedctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// feedd is one running feedd process.
type feedd struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	args []string
	log  *bytes.Buffer
	done chan error
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startFeedd runs feedd with args plus --http on a free port, and waits
// until /healthz answers.
func startFeedd(t *testing.T, args ...string) *feedd {
	t.Helper()
	addr := freePort(t)
	full := append([]string{"--http", addr}, args...)
	cmd := exec.Command(feeddBin, full...)
	cmd.Env = append(os.Environ(), "FEED_AUTH_SECRET="+secret)
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start feedd: %v", err)
	}
	f := &feedd{t: t, cmd: cmd, base: "http://" + addr, args: args, log: &logBuf, done: make(chan error, 1)}
	go func() { f.done <- cmd.Wait() }()
	t.Cleanup(func() { f.stop() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-f.done:
			f.done <- err
			t.Fatalf("feedd exited early: %v\n%s", err, logBuf.String())
		default:
		}
		resp, err := http.Get(f.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return f
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("feedd did not become healthy\n%s", logBuf.String())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (f *feedd) stop() {
	if f.cmd.ProcessState != nil {
		return
	}
	select {
	case err := <-f.done:
		f.done <- err
		return
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-f.done:
		if err != nil {
			f.t.Errorf("feedd exited with %v\n%s", err, f.log.String())
		}
		f.done <- err
	case <-time.After(30 * time.Second):
		_ = f.cmd.Process.Kill()
		f.t.Errorf("feedd did not stop within 30s of SIGTERM\n%s", f.log.String())
	}
}

func token(t *testing.T, user int64, service bool) string {
	t.Helper()
	tk, err := auth.New([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tk.Issue(user, service, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends a request and returns status and body.
func (f *feedd) do(method, path, tok, contentType string, body []byte, hdr ...string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// publish posts events as the service and expects 202.
func (f *feedd) publish(evs ...ev) {
	f.t.Helper()
	body, err := json.Marshal(evs)
	if err != nil {
		f.t.Fatal(err)
	}
	code, resp := f.do("POST", "/v1/events", token(f.t, 1, true), "application/json", body)
	if code != http.StatusAccepted {
		f.t.Fatalf("publish: %d %s", code, resp)
	}
	var out struct{ Accepted int }
	if err := json.Unmarshal(resp, &out); err != nil || out.Accepted != len(evs) {
		f.t.Fatalf("publish: accepted %s, want %d", resp, len(evs))
	}
}

type item struct {
	EventID    string   `json:"event_id"`
	Type       string   `json:"type"`
	Actor      int64    `json:"actor"`
	Object     string   `json:"object"`
	TS         int64    `json:"ts"`
	Owner      int64    `json:"owner"`
	Text       string   `json:"text"`
	Live       bool     `json:"live"`
	ClassCount int64    `json:"class_count"`
	Actors     []int64  `json:"actors"`
	ActorCount int      `json:"actor_count"`
	Media      []string `json:"media"`
}

type page struct {
	Items      []item `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// feedPage reads one page of user's feed, newest first (order=recent: the
// default order is ranked, see ranked_test.go).
func (f *feedd) feedPage(user int64, limit int, cursor string) page {
	f.t.Helper()
	path := "/v1/feed?order=recent&limit=" + strconv.Itoa(limit)
	if cursor != "" {
		path += "&cursor=" + cursor
	}
	code, body := f.do("GET", path, token(f.t, user, false), "", nil)
	if code != 200 {
		f.t.Fatalf("feed of %d: %d %s", user, code, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		f.t.Fatalf("feed of %d: %v: %s", user, err, body)
	}
	return p
}

// feed reads user's whole feed (up to 100 items).
func (f *feedd) feed(user int64) []item {
	return f.feedPage(user, 100, "").Items
}

func ids(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.EventID
	}
	return out
}

// eventually waits until user's feed lists exactly want (event ids, newest
// first); the pipeline is asynchronous.
func (f *feedd) eventually(user int64, want ...string) []item {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []item
	for {
		got = f.feed(user)
		if strings.Join(ids(got), ",") == strings.Join(want, ",") {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("feed of user %d:\n got  %v\n want %v", user, ids(got), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric reads one sample of a Prometheus metric (0 if absent).
func (f *feedd) metric(name string) float64 {
	f.t.Helper()
	code, body := f.do("GET", "/metrics", "", "", nil)
	if code != 200 {
		f.t.Fatalf("metrics: %d", code)
	}
	samples, err := metrics.ParseSamples(body)
	if err != nil {
		f.t.Fatalf("metric %s: %v", name, err)
	}
	return samples[name]
}

// settle waits until the pipeline has consumed (applied, skipped or
// dead-lettered) total events since start.
func (f *feedd) settle(total int) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		n := f.metric("lenta_fanout_events_applied_total") +
			f.metric("lenta_fanout_duplicates_skipped_total") +
			f.metric("lenta_fanout_dead_lettered_total")
		if int(n) >= total {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("pipeline did not consume %d events in time", total)
}
