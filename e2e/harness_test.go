package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/feeddproc"
	"github.com/lenta-dev/lenta/metrics"
)

const secret = "e2e-test-secret-0123456789abcdef"

var feeddBin, feedctlBin string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests builds feedd and feedctl once for every test, and removes them
// after.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lenta-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	repo, err := feeddproc.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bins, err := feeddproc.BuildTagged(context.Background(), repo, dir, "invariants", "./cmd/feedd", "./cmd/feedctl")
	if err != nil {
		fmt.Fprintln(os.Stderr, "build feedd and feedctl:", err)
		return 1
	}
	feeddBin, feedctlBin = bins[0], bins[1]
	return m.Run()
}

// feedd is one running feedd process; its output is kept in memory (Log).
type feedd struct {
	*feeddproc.Proc
	t    *testing.T
	args []string // as given to startFeedd (without --http)
}

// startFeedd runs feedd with args plus --http on a free port, waits (up
// to 60s) until /healthz answers, and stops it when the test ends.
func startFeedd(t *testing.T, args ...string) *feedd {
	t.Helper()
	p, err := feeddproc.Start(context.Background(), feeddproc.Config{Bin: feeddBin, Name: "feedd", Args: args,
		Env: []string{"FEED_AUTH_SECRET=" + secret}, ReadyTimeout: 60 * time.Second, StopGrace: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &feedd{Proc: p, t: t, args: args}
	t.Cleanup(f.stop)
	return f
}

// stop sends SIGTERM and waits (up to 30s) for a clean exit; an exit
// before (a crash, or one the test caused) is for the test to judge.
func (f *feedd) stop() {
	if err := f.Stop(); err != nil && !errors.Is(err, feeddproc.ErrExited) {
		f.t.Errorf("%v\n%s", err, f.Log())
	}
}

// restart stops feedd cleanly and starts it again with the same flags, on
// a fresh port, stopped in turn when the test ends.
func (f *feedd) restart() *feedd {
	f.t.Helper()
	p, err := f.Restart(context.Background())
	if err != nil {
		f.t.Fatalf("%v\n%s", err, f.Log())
	}
	g := &feedd{Proc: p, t: f.t, args: f.args}
	f.t.Cleanup(g.stop)
	return g
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
	req, err := http.NewRequest(method, f.Base()+path, bytes.NewReader(body))
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
	EventID    string `json:"event_id"`
	Type       string `json:"type"`
	Actor      int64  `json:"actor"`
	Object     string `json:"object"`
	TS         int64  `json:"ts"`
	Owner      int64  `json:"owner"`
	Text       string `json:"text"`
	Live       bool   `json:"live"`
	ClassCount int64  `json:"class_count"`
	// CommentCount is the item's comment count (comments_test.go).
	CommentCount int64    `json:"comment_count"`
	Actors       []int64  `json:"actors"`
	ActorCount   int      `json:"actor_count"`
	Media        []string `json:"media"`
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
