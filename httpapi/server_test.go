package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/lenta-dev/lenta/timeline"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   format
	}{
		{"", formatJSON},
		{"application/json", formatJSON},
		{"*/*", formatJSON},
		{"text/html", formatJSON},
		{"application/msgpack", formatMsgpack},
		{"Application/MsgPack", formatMsgpack},
		{"application/x-msgpack", formatMsgpack},
		{"application/vnd.msgpack", formatMsgpack},
		{"application/msgpack; q=0.9", formatMsgpack},
		{"application/msgpack, application/json", formatMsgpack},
		{"application/json, application/msgpack", formatJSON},
		{"application/json;q=0.5, application/msgpack", formatMsgpack},
		{"application/msgpack;q=0.5, application/json", formatJSON},
		{"application/msgpack;q=0, */*", formatJSON},
		{"application/msgpack;q=0", formatJSON},
		{"application/msgpack, */*;q=0.1", formatMsgpack},
		{"application/msgpack;q=1.0;v=1", formatMsgpack},
		{"application/msgpack;q=junk", formatJSON},
		{"application/msgpack;q=0.001, application/*;q=0", formatMsgpack},
		{" application/msgpack ,application/json;q=0.9", formatMsgpack},
	}
	for _, tt := range tests {
		if got := negotiate([]byte(tt.accept)); got != tt.want {
			t.Errorf("Accept %q: got %d, want %d", tt.accept, got, tt.want)
		}
	}
}

func TestParseQ(t *testing.T) {
	for in, want := range map[string]int{"1": 1000, "0": 0, "0.5": 500, "0.125": 125, "1.000": 1000, "1.5": 0, "0.1234": 0, "": 0, "x": 0, "0.": 0} {
		if got := parseQ([]byte(in)); got != want {
			t.Errorf("parseQ(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestHealthz(t *testing.T) {
	var healthErr error
	e := newEnv(t, func(c *Config) {
		c.Health = func(context.Context) error { return healthErr }
	})
	r := e.do(t, "GET", PathHealth, nil, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	healthErr = errors.New("store: disk full at /var/lib/lenta")
	r = e.do(t, "GET", PathHealth, nil, nil)
	if r.status != 503 || strings.Contains(string(r.body), "disk") {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if r := e.do(t, "HEAD", PathHealth, nil, nil); r.status != 503 || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
	if r := e.do(t, "POST", PathHealth, nil, nil); r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d", r.status)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}, nil)
	e.do(t, "GET", PathFeed+"?limit=0", map[string]string{"Authorization": bearer(tok)}, nil)
	e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT}, mustJSON(t, post("e1", 7)))
	e.do(t, "GET", "/nope/"+tok, nil, nil)
	r := e.do(t, "GET", PathMetrics, nil, nil) // no auth needed
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d type %q", r.status, r.header.Get("Content-Type"))
	}
	out := string(r.body)
	for _, want := range []string{
		`lenta_http_requests_total{code="200",route="/v1/feed"} 1`,
		`lenta_http_requests_total{code="400",route="/v1/feed"} 1`,
		`lenta_http_requests_total{code="202",route="/v1/events"} 1`,
		`lenta_http_requests_total{code="404",route="other"} 1`,
		`lenta_ingest_events_accepted_total 1`,
		`lenta_http_request_duration_seconds_count{route="/v1/feed"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(out, "nope") {
		t.Error("a raw path became a label")
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/", "/v1/events/", "/v1/feeds", "/V1/FEED", "/v2/feed?x=1"} {
		r := e.do(t, "GET", p, nil, nil)
		if r.status != 404 || r.errBody(t).Code != codeNotFound || r.header.Get("Content-Type") != ContentTypeJSON {
			t.Errorf("%s: status %d: %s", p, r.status, r.body)
		}
	}
	r := e.do(t, "GET", "/nope", map[string]string{"Accept": "application/msgpack"}, nil)
	if r.status != 404 || r.header.Get("Content-Type") != ContentTypeMsgpack || r.errBody(t).Code != codeNotFound {
		t.Fatalf("msgpack 404: %d %q", r.status, r.header.Get("Content-Type"))
	}
}

func TestHeaderTooLarge(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(t, "GET", PathFeed, map[string]string{"X-Junk": strings.Repeat("j", DefaultMaxHeaderBytes)}, nil)
	if r.status != 431 || r.errBody(t).Code != codeHeaderTooLarge {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestOversizeContentLengthRefusedBeforeBody(t *testing.T) {
	e := newServer(t, nil)
	ln := fasthttputil.NewInmemoryListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	for _, expect := range []string{"", "Expect: 100-continue\r\n"} {
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		// Announce 100 MB and send none of it: the answer must come at once.
		fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n", expect)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 413 || resp.Header.Get("Content-Type") != ContentTypeJSON || !strings.Contains(string(b), codeTooLarge) {
			t.Fatalf("expect %q: status %d type %q: %s", expect, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if !resp.Close {
			t.Fatalf("expect %q: connection kept open after refusing the body", expect)
		}
	}
	if len(e.pub.Calls()) != 0 {
		t.Fatal("published")
	}
}

func TestPanicBecomes500(t *testing.T) {
	e := newServer(t, func(c *Config) { c.Feed = panicFeed{} })
	ctx := call(e.srv.Handler(), "GET", PathFeed, map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if ctx.Response.StatusCode() != 500 || !strings.Contains(string(ctx.Response.Body()), `"code":"internal"`) {
		t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if !strings.Contains(e.logs.String(), "handler panic") {
		t.Fatal("panic not logged")
	}
}

type panicFeed struct{}

func (panicFeed) Page(context.Context, int64, timeline.Position, int) (timeline.Page, error) {
	panic("boom")
}

func TestRequestLogNeverHasSecrets(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	cur := e.cursors.Encode(7, timeline.Position{TS: testTS, ID: "secretish"})
	e.do(t, "GET", PathFeed+"?cursor="+cur, map[string]string{"Authorization": bearer(tok)}, nil)
	e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT}, mustJSON(t, post("e1", 7)))
	logs := e.logs.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "route=/v1/feed") {
		t.Fatalf("no debug request line: %s", logs)
	}
	for _, secret := range []string{tok, cur, string(testSecret), `"hi"`} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q", secret)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	e := newServer(t, nil)
	e.feed.block = make(chan struct{})
	ln := fasthttputil.NewInmemoryListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.client = &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}}

	got := make(chan result, 1)
	hdr := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	go func() {
		r, err := e.tryDo("GET", PathFeed, hdr, nil)
		if err != nil {
			r.body = []byte(err.Error())
		}
		got <- r
	}()
	waitFor(t, func() bool { return len(e.feed.Calls()) == 1 })
	cancel() // shutdown starts while the request is in flight
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(e.feed.block)
	if r := <-got; r.status != 200 {
		t.Fatalf("in-flight request: %d %s", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownIsBounded(t *testing.T) {
	e := newServer(t, func(c *Config) { c.ShutdownTimeout = 200 * time.Millisecond })
	e.feed.block = make(chan struct{}) // never released: only the base context ends it
	ln := fasthttputil.NewInmemoryListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.client = &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}}
	got := make(chan result, 1)
	hdr := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	go func() {
		r, err := e.tryDo("GET", PathFeed, hdr, nil)
		if err != nil {
			r.body = []byte(err.Error())
		}
		got <- r
	}()
	waitFor(t, func() bool { return len(e.feed.Calls()) == 1 })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve reported a clean drain")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown not bounded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if r := <-got; r.status != 503 {
		t.Fatalf("cut-off request: %d %s", r.status, r.body)
	}
}

func TestServeWithEndedContext(t *testing.T) {
	e := newServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, fasthttputil.NewInmemoryListener()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve with an ended context did not return")
	}
}

func TestServeTwice(t *testing.T) {
	e := newEnv(t, nil)
	e.do(t, "GET", PathHealth, nil, nil) // the first Serve is running
	if err := e.srv.Serve(context.Background(), fasthttputil.NewInmemoryListener()); err == nil {
		t.Fatal("second Serve accepted")
	}
}

func TestNewChecksConfig(t *testing.T) {
	e := newServer(t, nil)
	base := e.srv.cfg
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no tokens", func(c *Config) { c.Tokens = nil }},
		{"feed without cursors", func(c *Config) { c.Cursors = nil }},
		{"negative body", func(c *Config) { c.MaxBodyBytes = -1 }},
		{"negative header timeout", func(c *Config) { c.ReadHeaderTimeout = -time.Second }},
		{"negative read timeout", func(c *Config) { c.ReadTimeout = -time.Second }},
		{"negative write timeout", func(c *Config) { c.WriteTimeout = -time.Second }},
		{"negative idle timeout", func(c *Config) { c.IdleTimeout = -time.Second }},
		{"negative limiter entries", func(c *Config) { c.LimiterEntries = -1 }},
		{"NaN address rate", func(c *Config) { c.RatePerAddress = math.NaN() }},
		{"infinite token rate", func(c *Config) { c.RatePerToken = math.Inf(1) }},
		{"negative address burst", func(c *Config) { c.BurstPerAddress = -1 }},
		{"negative token burst", func(c *Config) { c.BurstPerToken = -1 }},
	}
	for _, tt := range tests {
		cfg := base
		tt.mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := New(Config{Tokens: e.tokens}); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in time")
}

var _ fasthttp.RequestHandler = (&Server{}).Handler()
