package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

func TestGetFeed(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	at := timeline.Position{TS: testTS - 5, ID: "e5"}
	r := e.do(t, "GET", PathFeed+"?limit=3&cursor="+e.cursors.Encode(7, at), map[string]string{"Authorization": bearer(tok)}, nil)
	if r.status != 200 || r.header.Get("Content-Type") != ContentTypeJSON {
		t.Fatalf("status %d type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if got := e.feed.Calls(); len(got) != 1 || got[0] != (feedCall{7, at, 3}) {
		t.Fatalf("feed calls %+v", got)
	}
	var body struct {
		Items      []timeline.Item `json:"items"`
		NextCursor string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(body.Items, samplePage().Items) {
		t.Fatalf("items %+v", body.Items)
	}
	next, err := e.cursors.Decode(7, body.NextCursor)
	if err != nil || next != samplePage().Next {
		t.Fatalf("next cursor decodes to %+v, %v", next, err)
	}
	// The next cursor is bound to viewer 7.
	if _, err := e.cursors.Decode(8, body.NextCursor); err == nil {
		t.Fatal("cursor valid for another viewer")
	}
}

func TestGetFeedDefaultsAndLastPage(t *testing.T) {
	e := newEnv(t, nil)
	e.feed.page = timeline.Page{}
	r := e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := strings.TrimSpace(string(r.body)); got != `{"items":[],"next_cursor":""}` {
		t.Fatalf("body %s", got)
	}
	if c := e.feed.Calls(); len(c) != 1 || c[0] != (feedCall{7, timeline.Position{}, DefaultPageLimit}) {
		t.Fatalf("calls %+v", c)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("feed page cacheable")
	}
}

func TestGetFeedRefusals(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	auth7 := map[string]string{"Authorization": bearer(tok)}
	foreign := e.cursors.Encode(8, timeline.Position{TS: testTS, ID: "x"})
	other := timeline.NewCursors([]byte("some-other-secret-0123456789")).Encode(7, timeline.Position{TS: testTS, ID: "x"})
	tests := []struct {
		name   string
		method string
		query  string
		hdr    map[string]string
		status int
		code   string
		msg    string
	}{
		{"no token", "GET", "", nil, 401, "unauthorized", "missing bearer"},
		{"bad token", "GET", "", map[string]string{"Authorization": "Bearer x"}, 401, "unauthorized", "malformed"},
		{"limit zero", "GET", "?limit=0", auth7, 400, "bad_limit", "from 1 to 100"},
		{"limit over max", "GET", fmt.Sprintf("?limit=%d", timeline.MaxPageLimit+1), auth7, 400, "bad_limit", ""},
		{"limit negative", "GET", "?limit=-1", auth7, 400, "bad_limit", ""},
		{"limit word", "GET", "?limit=ten", auth7, 400, "bad_limit", ""},
		{"limit huge", "GET", "?limit=99999999999999999999999", auth7, 400, "bad_limit", ""},
		{"cursor garbage", "GET", "?cursor=!!!", auth7, 400, "bad_cursor", "bad cursor"},
		{"cursor of another viewer", "GET", "?cursor=" + foreign, auth7, 400, "bad_cursor", "signature"},
		{"cursor of another deployment", "GET", "?cursor=" + other, auth7, 400, "bad_cursor", ""},
		{"cursor tampered", "GET", "?cursor=" + flip(e.cursors.Encode(7, timeline.Position{TS: testTS, ID: "x"})), auth7, 400, "bad_cursor", ""},
		{"cursor too long", "GET", "?cursor=" + strings.Repeat("A", 600), auth7, 400, "bad_cursor", ""},
		{"other user's feed", "GET", "?user=8", auth7, 403, "forbidden", "user 8 is not allowed for user 7"},
		{"user zero", "GET", "?user=0", auth7, 400, "bad_request", "positive"},
		{"user word", "GET", "?user=me", auth7, 400, "bad_request", ""},
		{"POST", "POST", "", auth7, 405, "method_not_allowed", ""},
		{"DELETE", "DELETE", "", auth7, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.feed.Calls())
			r := e.do(t, tt.method, PathFeed+tt.query, tt.hdr, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			eb := r.errBody(t)
			if eb.Code != tt.code || !strings.Contains(eb.Error, tt.msg) {
				t.Fatalf("got %+v, want code %q with %q", eb, tt.code, tt.msg)
			}
			if tt.status == 405 && r.header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
			if n := len(e.feed.Calls()) - before; n != 0 {
				t.Fatalf("feed read %d times for a refused request", n)
			}
		})
	}
}

// flip changes one character of a cursor in its middle.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestGetFeedServiceReadsForUser(t *testing.T) {
	e := newEnv(t, nil)
	svc := e.token(t, 1, true)
	r := e.do(t, "GET", PathFeed+"?user=42&limit=2", map[string]string{"Authorization": bearer(svc)}, nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if c := e.feed.Calls(); len(c) != 1 || c[0].Viewer != 42 || c[0].Limit != 2 {
		t.Fatalf("calls %+v", c)
	}
	// The cursor handed out is for user 42 and works with user=42.
	var body feedBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, "GET", PathFeed+"?user=42&cursor="+body.NextCursor, map[string]string{"Authorization": bearer(svc)}, nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	// A user naming itself is fine.
	r = e.do(t, "GET", PathFeed+"?user=7", map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if r.status != 200 {
		t.Fatalf("self: status %d: %s", r.status, r.body)
	}
}

func TestGetFeedMsgpack(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	for _, accept := range []string{"application/msgpack", "application/x-msgpack", "application/json;q=0.5, application/msgpack"} {
		r := e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(tok), "Accept": accept}, nil)
		if r.status != 200 || r.header.Get("Content-Type") != ContentTypeMsgpack {
			t.Fatalf("%s: status %d type %q", accept, r.status, r.header.Get("Content-Type"))
		}
		var body feedBody
		if err := schema.UnmarshalMsgpackValue(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(body.Items, samplePage().Items) || body.NextCursor == "" {
			t.Fatalf("%s: %+v", accept, body)
		}
		// Same keys as JSON.
		var keys map[string]any
		if err := schema.UnmarshalMsgpackValue(r.body, &keys); err != nil {
			t.Fatal(err)
		}
		if _, ok := keys["next_cursor"]; !ok {
			t.Fatalf("keys %v", keys)
		}
		item := keys["items"].([]any)[0].(map[string]any)
		for _, k := range []string{"event_id", "type", "actor", "object", "ts", "text", "class_count"} {
			if _, ok := item[k]; !ok {
				t.Errorf("item lacks key %q: %v", k, item)
			}
		}
	}
	r := e.do(t, "GET", PathFeed+"?limit=0", map[string]string{"Authorization": bearer(tok), "Accept": "application/msgpack"}, nil)
	if r.status != 400 || r.errBody(t).Code != codeBadLimit {
		t.Fatalf("status %d", r.status)
	}
}

func TestGetFeedErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.feed.err = errors.New("pebble: corrupt sstable 000042.sst")
	r := e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if r.status != 500 {
		t.Fatalf("status %d", r.status)
	}
	eb := r.errBody(t)
	if eb.Code != codeInternal || strings.Contains(eb.Error, "sstable") {
		t.Fatalf("error body leaks or is wrong: %+v", eb)
	}
	if !strings.Contains(e.logs.String(), "000042.sst") {
		t.Fatal("detail not logged")
	}
}

// TestGetFeedStoreUnavailable: a store that cannot be reached (as the
// Config.Unavailable classifier says) is a 503 with Retry-After, not a 500;
// other errors stay 500.
func TestGetFeedStoreUnavailable(t *testing.T) {
	errDown := errors.New("gocql: no hosts available in the pool")
	e := newEnv(t, func(c *Config) { c.Unavailable = func(err error) bool { return errors.Is(err, errDown) } })
	auth := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("relations of 7: %w", errDown), 503, codeUnavailable},
		{errors.New("corrupt"), 500, codeInternal},
	} {
		e.feed.mu.Lock()
		e.feed.err = tc.err
		e.feed.mu.Unlock()
		r := e.do(t, "GET", PathFeed+"?order=recent", auth, nil)
		if r.status != tc.status || r.errBody(t).Code != tc.code {
			t.Fatalf("%v: status %d %s, want %d %s", tc.err, r.status, r.body, tc.status, tc.code)
		}
		if tc.status == 503 && r.header.Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After")
		}
	}
}

func TestGetFeedWithoutFeed(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Feed, c.Cursors = nil, nil })
	r := e.do(t, "GET", PathFeed, map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if r.status != 404 {
		t.Fatalf("status %d", r.status)
	}
}

// BenchmarkFeedPage measures the handler alone (auth, query parsing,
// cursor, encoding) on a 20-item page, with a reused request context as
// fasthttp does.
func BenchmarkFeedPage(b *testing.B) {
	for _, accept := range []string{"application/json", "application/msgpack"} {
		b.Run(accept[len("application/"):], func(b *testing.B) {
			e := newServer(b, func(c *Config) { c.Log = slog.New(slog.DiscardHandler) })
			page := timeline.Page{Next: timeline.Position{TS: testTS - 100, ID: "x"}}
			for i := range 20 {
				page.Items = append(page.Items, timeline.Item{EventID: fmt.Sprint("e", i), Type: "post", Actor: int64(i + 1),
					Object: fmt.Sprint("e", i), TS: testTS - int64(i), Text: "a post of moderate length for the benchmark", ClassCount: 3})
			}
			e.feed.page = page
			e.feed.noRecord = true
			h := e.srv.Handler()
			var req fasthttp.Request
			req.Header.SetMethod("GET")
			req.SetRequestURI(PathFeed + "?limit=20")
			req.Header.Set("Authorization", bearer(e.token(b, 7, false)))
			req.Header.Set("Accept", accept)
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, nil, nil)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Reset()
				h(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatal(ctx.Response.StatusCode())
				}
			}
			b.SetBytes(int64(len(ctx.Response.Body())))
		})
	}
}
