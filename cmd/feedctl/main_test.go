package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

const testSecret = "feedctl-test-secret-0123456789"

// fakeAPI mimics feedd's two endpoints closely enough for the client.
type fakeAPI struct {
	t       *testing.T
	tokens  *auth.Tokens
	mu      sync.Mutex
	batches [][]schema.Event
	types   []string
	fail    []int // statuses to answer before accepting, consumed in order
	reject  *int  // answer 400 naming this index
	pages   []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := f.tokens.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]any{"error": err.Error(), "code": "unauthorized"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/v1/events":
		if !p.Service {
			f.t.Errorf("publish without a service token")
		}
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		if len(f.fail) > 0 {
			code := f.fail[0]
			f.fail = f.fail[1:]
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]any{"error": "bus busy", "code": "unavailable"})
			return
		}
		var evs []schema.Event
		ct := r.Header.Get("Content-Type")
		if ct == "application/msgpack" {
			evs, err = schema.DecodeMsgpackBatch(body.Bytes())
		} else {
			evs, err = schema.DecodeJSONBatch(body.Bytes())
		}
		if err != nil {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]any{"error": err.Error(), "code": "malformed"})
			return
		}
		if f.reject != nil {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]any{"error": "event 1: invalid event \"x\": ts: missing", "code": "invalid_event", "index": *f.reject})
			return
		}
		f.batches = append(f.batches, evs)
		f.types = append(f.types, ct)
		w.WriteHeader(202)
		json.NewEncoder(w).Encode(map[string]any{"accepted": len(evs)})
	case "/v1/feed":
		f.pages = append(f.pages, r.URL.RawQuery+" user="+itoa(p.User))
		json.NewEncoder(w).Encode(map[string]any{
			"items": []timeline.Item{
				{EventID: "e2", Type: "post", Actor: 8, Object: "e2", TS: 1_700_000_000_000, Text: "hello\x1b[31m", ClassCount: 3},
				{EventID: "c1", Type: "class", Actor: 9, Object: "p1", Owner: 7, TS: 1_699_999_999_000, ActorCount: 3, ObjectType: "photo"},
			},
			"next_cursor": "CUR",
		})
	default:
		w.WriteHeader(404)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

type harness struct {
	api    *fakeAPI
	srv    *httptest.Server
	stdout bytes.Buffer
	stderr bytes.Buffer
	env    map[string]string
}

func newHarness(t *testing.T) *harness {
	tk, err := auth.New([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{api: &fakeAPI{t: t, tokens: tk}}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	h.env = map[string]string{"FEED_AUTH_SECRET": testSecret, "FEED_ADDR": h.srv.URL}
	retryBase = time.Millisecond
	return h
}

func (h *harness) run(stdin string, args ...string) int {
	h.stdout.Reset()
	h.stderr.Reset()
	return run(context.Background(), &env{
		stdin:  strings.NewReader(stdin),
		stdout: &h.stdout,
		stderr: &h.stderr,
		getenv: func(k string) string { return h.env[k] },
		client: h.srv.Client(),
	}, args)
}

func ev(id string) schema.Event {
	return schema.Event{ID: id, Type: schema.Post, Actor: 7, Text: "hi " + id, TS: 1_700_000_000_000}
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ids(batches [][]schema.Event) [][]string {
	var out [][]string
	for _, b := range batches {
		var s []string
		for _, e := range b {
			s = append(s, e.ID)
		}
		out = append(out, s)
	}
	return out
}

func TestPublishInputs(t *testing.T) {
	five := []schema.Event{ev("a"), ev("b"), ev("c"), ev("d"), ev("e")}
	var ndjson strings.Builder
	for _, e := range five {
		ndjson.WriteString(jsonOf(t, e) + "\n")
	}
	mp, err := schema.MarshalMsgpackValue(five[:3])
	if err != nil {
		t.Fatal(err)
	}
	one, _ := schema.MarshalMsgpack(&five[3])
	mp = append(mp, one...) // an array, then a map
	tests := []struct {
		name  string
		input string
		args  []string
		want  [][]string
		ct    string
	}{
		{"json array", jsonOf(t, five), nil, [][]string{{"a", "b", "c", "d", "e"}}, "application/json"},
		{"json object", jsonOf(t, five[0]), nil, [][]string{{"a"}}, "application/json"},
		{"ndjson in batches of 2", ndjson.String(), []string{"--batch", "2"}, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, "application/json"},
		{"ndjson format flag", "\n\n" + ndjson.String() + "\n", []string{"--format", "ndjson"}, [][]string{{"a", "b", "c", "d", "e"}}, "application/json"},
		{"mixed json values", jsonOf(t, five[:2]) + "\n" + jsonOf(t, five[2]), nil, [][]string{{"a", "b", "c"}}, "application/json"},
		{"msgpack sniffed", string(mp), nil, [][]string{{"a", "b", "c", "d"}}, "application/msgpack"},
		{"msgpack in batches", string(mp), []string{"--format", "msgpack", "--batch", "3"}, [][]string{{"a", "b", "c"}, {"d"}}, "application/msgpack"},
		{"split by bytes", jsonOf(t, five), []string{"--max-bytes", "1024"}, nil, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if code := h.run(tt.input, append([]string{"publish"}, tt.args...)...); code != 0 {
				t.Fatalf("exit %d: %s", code, h.stderr.String())
			}
			got := ids(h.api.batches)
			if tt.want != nil && jsonOf(t, got) != jsonOf(t, tt.want) {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
			n := 0
			for _, b := range got {
				n += len(b)
			}
			if tt.want == nil && n != 5 {
				t.Fatalf("published %d events: %v", n, got)
			}
			for _, ct := range h.api.types {
				if ct != tt.ct {
					t.Fatalf("content type %q", ct)
				}
			}
			if !strings.Contains(h.stdout.String(), "published ") {
				t.Fatalf("stdout %q", h.stdout.String())
			}
		})
	}
}

func TestPublishBigEventsSplitByBytes(t *testing.T) {
	h := newHarness(t)
	var evs []schema.Event
	for _, id := range []string{"a", "b", "c"} {
		e := ev(id)
		e.Text = strings.Repeat("x", 6000)
		evs = append(evs, e)
	}
	if code := h.run(jsonOf(t, evs), "publish", "--max-bytes", "13000"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	if got := ids(h.api.batches); jsonOf(t, got) != `[["a","b"],["c"]]` {
		t.Fatalf("batches %v", got)
	}
}

func TestPublishFromFile(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "events.json")
	if err := os.WriteFile(path, []byte(jsonOf(t, []schema.Event{ev("a")})), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := h.run("", "publish", "--file", path); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	if len(h.api.batches) != 1 {
		t.Fatal("not published")
	}
}

func TestPublishFailures(t *testing.T) {
	two := func(i int) *int { return &i }
	tests := []struct {
		name   string
		input  string
		args   []string
		setup  func(*harness)
		code   int
		stderr []string
	}{
		{"server refuses an event", jsonOf(t, []schema.Event{ev("a"), ev("b"), ev("c")}), []string{"--batch", "2"},
			func(h *harness) { h.api.reject = two(1) }, 1, []string{"events 1-2: input event 2", "400 invalid_event", "ts: missing"}},
		{"503 exhausts retries", jsonOf(t, ev("a")), []string{"--retries", "1"},
			func(h *harness) { h.api.fail = []int{503, 503} }, 1, []string{"503 unavailable: bus busy", "retrying"}},
		{"bad json", `{"id":`, nil, nil, 1, []string{"JSON value 1"}},
		{"not events", `[1,2]`, nil, nil, 1, []string{"element 0 is not an event object"}},
		{"empty input", "", nil, nil, 1, []string{"no events"}},
		{"bad token", jsonOf(t, ev("a")), []string{"--token", "nope"}, nil, 1, []string{"401 unauthorized"}},
		{"no secret", jsonOf(t, ev("a")), nil, func(h *harness) { delete(h.env, "FEED_AUTH_SECRET") }, 1, []string{"FEED_AUTH_SECRET is not set"}},
		{"short secret", jsonOf(t, ev("a")), nil, func(h *harness) { h.env["FEED_AUTH_SECRET"] = "short" }, 1, []string{"at least 16"}},
		{"bad format", "", []string{"--format", "xml"}, nil, 2, []string{"--format"}},
		{"stray argument", "", []string{"file.json"}, nil, 2, []string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			code := h.run(tt.input, append([]string{"publish"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, h.stderr.String())
			}
			for _, s := range tt.stderr {
				if !strings.Contains(h.stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, h.stderr.String())
				}
			}
			if strings.Contains(h.stderr.String(), testSecret) {
				t.Fatal("the secret was printed")
			}
		})
	}
}

func TestPublishRetriesThenSucceeds(t *testing.T) {
	h := newHarness(t)
	h.api.fail = []int{503}
	if code := h.run(jsonOf(t, ev("a")), "publish"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	if len(h.api.batches) != 1 || !strings.Contains(h.stderr.String(), "retrying") {
		t.Fatalf("batches %d, stderr %s", len(h.api.batches), h.stderr.String())
	}
}

func TestToken(t *testing.T) {
	h := newHarness(t)
	if code := h.run("", "token", "--user", "42", "--service", "--ttl", "1h"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	p, err := h.api.tokens.Verify(strings.TrimSpace(h.stdout.String()))
	if err != nil || p != (auth.Principal{User: 42, Service: true}) {
		t.Fatalf("%+v %v", p, err)
	}
	// --secret-file, as an embedded feedd keeps it.
	delete(h.env, "FEED_AUTH_SECRET")
	path := filepath.Join(t.TempDir(), "auth.secret")
	os.WriteFile(path, []byte(testSecret+"\n"), 0o600)
	if code := h.run("", "token", "--user", "3", "--secret-file", path); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	if p, err := h.api.tokens.Verify(strings.TrimSpace(h.stdout.String())); err != nil || p.User != 3 || p.Service {
		t.Fatalf("%+v %v", p, err)
	}
	for _, args := range [][]string{{"token"}, {"token", "--user", "-1"}, {"token", "--user", "1", "--ttl", "-1s"}} {
		if code := h.run("", args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestFeed(t *testing.T) {
	h := newHarness(t)
	if code := h.run("", "feed", "--user", "7", "--limit", "5", "--cursor", "C0"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr.String())
	}
	out := h.stdout.String()
	for _, want := range []string{"feed of user 7: 2 items", "by user 8", `"hello\x1b[31m"`, "3 Class",
		"user 9 and 2 other friend(s) gave Class to photo p1 of user 7", "--cursor CUR"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("raw escape reached the terminal")
	}
	if q := h.api.pages[0]; !strings.Contains(q, "limit=5") || !strings.Contains(q, "cursor=C0") || !strings.HasSuffix(q, "user=7") {
		t.Errorf("query %q", q)
	}
	if code := h.run("", "feed", "--user", "7", "--json"); code != 0 || !strings.Contains(h.stdout.String(), `"next_cursor": "CUR"`) {
		t.Fatalf("--json: exit %d: %s", code, h.stdout.String())
	}
	for _, args := range [][]string{{"feed"}, {"feed", "--user", "7", "--limit", "0"}, {"feed", "--user", "7", "--limit", "101"}} {
		if code := h.run("", args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	if code := h.run("", "help"); code != 0 {
		t.Fatal(code)
	}
	list := h.stdout.String()
	for name := range commands {
		if !strings.Contains(list, "  "+name) {
			t.Errorf("help lacks %s", name)
		}
		if code := h.run("", "help", name); code != 0 || !strings.Contains(h.stdout.String(), "Usage: feedctl "+name) {
			t.Errorf("help %s: %d %s", name, code, h.stdout.String())
		}
	}
	if code := h.run(""); code != 2 {
		t.Errorf("no args: %d", code)
	}
	if code := h.run("", "frobnicate"); code != 2 {
		t.Errorf("unknown: %d", code)
	}
}
