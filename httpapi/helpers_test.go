package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

var (
	testNow    = time.UnixMilli(1_700_000_000_000)
	testTS     = testNow.UnixMilli() - 1000
	testSecret = []byte("httpapi-test-secret-0123456789")
)

// fakePublisher records every Publish call.
type fakePublisher struct {
	mu    sync.Mutex
	calls [][]schema.Event
	err   error
}

func (p *fakePublisher) Publish(_ context.Context, evs []schema.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, append([]schema.Event(nil), evs...))
	return p.err
}

func (p *fakePublisher) Calls() [][]schema.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]schema.Event(nil), p.calls...)
}

type feedCall struct {
	Viewer int64
	After  timeline.Position
	Limit  int
}

// fakeFeed returns a fixed page and records calls. block, if set, is
// waited on before answering.
type fakeFeed struct {
	mu    sync.Mutex
	calls []feedCall
	page  timeline.Page
	err   error
	block chan struct{}
	// noRecord skips recording calls (benchmarks).
	noRecord bool
}

func (f *fakeFeed) Page(ctx context.Context, viewer int64, after timeline.Position, limit int) (timeline.Page, error) {
	f.mu.Lock()
	if !f.noRecord {
		f.calls = append(f.calls, feedCall{viewer, after, limit})
	}
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return timeline.Page{}, ctx.Err()
		}
	}
	return f.page, f.err
}

func (f *fakeFeed) Calls() []feedCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]feedCall(nil), f.calls...)
}

func samplePage() timeline.Page {
	return timeline.Page{
		Items: []timeline.Item{
			{EventID: "e3", Type: "post", Actor: 7, Object: "e3", TS: testTS, Text: "привет", ClassCount: 2},
			{EventID: "e2", Type: "photo", Actor: 8, Object: "p2", TS: testTS - 10, Media: []string{"m1", "m2"}},
			{EventID: "c1", Type: "class", Actor: 9, Object: "p1", Owner: 7, TS: testTS - 20,
				Actors: []int64{9, 10}, ActorCount: 2, ObjectType: "photo"},
		},
		Next: timeline.Position{TS: testTS - 20, ID: "c1"},
	}
}

// testEnv is a Server serving on an in-memory listener, with fakes.
type testEnv struct {
	srv     *Server
	pub     *fakePublisher
	feed    *fakeFeed
	tokens  *auth.Tokens
	cursors *timeline.Cursors
	metrics *metrics.Registry
	client  *http.Client
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newServer(t testing.TB, mod func(*Config)) *testEnv {
	t.Helper()
	tokens, err := auth.New(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{
		pub:     &fakePublisher{},
		feed:    &fakeFeed{page: samplePage()},
		tokens:  tokens,
		cursors: timeline.NewCursors(testSecret),
		metrics: metrics.New(),
		logs:    &syncBuffer{},
	}
	cfg := Config{
		Publisher: e.pub,
		Feed:      e.feed,
		Cursors:   e.cursors,
		Tokens:    tokens,
		Metrics:   e.metrics,
		Log:       slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       func() time.Time { return testNow },
		// Rate limits on but far out of reach, so that loops, fuzzing and
		// benchmarks through one address and token run the limiter without
		// meeting it; limits_test.go sets its own.
		RatePerAddress: 1e9,
		RatePerToken:   1e9,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newEnv starts the server on an in-memory listener for the test's life.
func newEnv(t testing.TB, mod func(*Config)) *testEnv {
	t.Helper()
	e := newServer(t, mod)
	e.serve(t)
	return e
}

// serve starts e's server on an in-memory listener for the test's life
// and returns the listener.
func (e *testEnv) serve(t testing.TB) *fasthttputil.InmemoryListener {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:        func(context.Context, string, string) (net.Conn, error) { return ln.Dial() },
			DisableCompression: true,
			// Wait for the verdict on an Expect: 100-continue request
			// before sending the body.
			ExpectContinueTimeout: 5 * time.Second,
		},
	}
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln
}

func (e *testEnv) token(t testing.TB, user int64, service bool) string {
	t.Helper()
	s, err := e.tokens.Issue(user, service, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type result struct {
	status int
	header http.Header
	body   []byte
}

// errBody decodes a JSON or msgpack error body.
func (r result) errBody(t testing.TB) errorBody {
	t.Helper()
	var eb errorBody
	var err error
	if r.header.Get("Content-Type") == ContentTypeMsgpack {
		err = schema.UnmarshalMsgpackValue(r.body, &eb)
	} else {
		err = json.Unmarshal(r.body, &eb)
	}
	if err != nil || eb.Error == "" || eb.Code == "" {
		t.Fatalf("status %d: not an error body (%v): %q", r.status, err, r.body)
	}
	return eb
}

func (e *testEnv) do(t testing.TB, method, path string, hdr map[string]string, body []byte) result {
	t.Helper()
	r, err := e.tryDo(method, path, hdr, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// tryDo is do for goroutines other than the test's.
func (e *testEnv) tryDo(method, path string, hdr map[string]string, body []byte) (result, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://lenta.test"+path, rd)
	if err != nil {
		return result{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return result{}, err
	}
	return result{resp.StatusCode, resp.Header, b}, nil
}

// call runs the bare handler on a synthetic request (no HTTP parsing).
func call(h fasthttp.RequestHandler, method, path string, hdr map[string]string, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.SetBody(body)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	h(ctx)
	return ctx
}

func bearer(tok string) string { return "Bearer " + tok }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMsgpack(t testing.TB, v any) []byte {
	t.Helper()
	b, err := schema.MarshalMsgpackValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
