package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

var _ CommentThreads = (*comments.Reader)(nil)

type threadCall struct {
	Viewer int64
	Object string
	After  objects.CommentPos
	Newest bool
	Limit  int
}

// fakeThreads answers every thread read with page (or err) and records it.
type fakeThreads struct {
	mu    sync.Mutex
	calls []threadCall
	page  comments.Page
	err   error
}

func (f *fakeThreads) Page(_ context.Context, viewer int64, object string, after objects.CommentPos, newest bool, limit int) (comments.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, threadCall{viewer, object, after, newest, limit})
	return f.page, f.err
}

func (f *fakeThreads) Calls() []threadCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]threadCall(nil), f.calls...)
}

func commentsEnv(t *testing.T, th *fakeThreads) (*testEnv, *comments.Cursors) {
	cur := comments.NewCursors(testSecret)
	e := newEnv(t, func(c *Config) { c.Comments, c.CommentCursors = th, cur })
	return e, cur
}

func TestGetComments(t *testing.T) {
	next := objects.CommentPos{TS: testTS - 5, ID: "c1"}
	th := &fakeThreads{page: comments.Page{Items: []comments.Comment{
		{ID: "c2", Author: 8, Text: "привет <b>", TS: testTS, ReplyTo: "c1"},
		{ID: "c1", Author: 9, Text: "hi", TS: testTS - 5},
	}, Next: next}}
	e, cur := commentsEnv(t, th)
	auth7 := map[string]string{"Authorization": bearer(e.token(t, 7, false))}

	r := e.do(t, "GET", "/v1/objects/p-1/comments?limit=2", auth7, nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var body struct {
		Items      []map[string]any `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Items) != 2 || body.Items[0]["id"] != "c2" || body.Items[0]["reply_to"] != "c1" ||
		body.Items[0]["text"] != "привет <b>" || body.Items[0]["author"] != float64(8) {
		t.Fatalf("items %v", body.Items)
	}
	if _, has := body.Items[1]["reply_to"]; has {
		t.Fatalf("a comment without reply_to has the key: %v", body.Items[1])
	}
	if got, err := cur.Decode(7, "p-1", true, body.NextCursor); err != nil || got != next {
		t.Fatalf("next cursor reads %+v, %v", got, err)
	}
	// The cursor goes on, oldest first is its own order.
	r = e.do(t, "GET", "/v1/objects/p-1/comments?cursor="+body.NextCursor, auth7, nil)
	if r.status != 200 {
		t.Fatalf("with cursor: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", "/v1/objects/p-1/comments?order=oldest", auth7, nil)
	if r.status != 200 {
		t.Fatalf("oldest: %d %s", r.status, r.body)
	}
	want := []threadCall{{7, "p-1", objects.CommentPos{}, true, 2}, {7, "p-1", next, true, DefaultPageLimit},
		{7, "p-1", objects.CommentPos{}, false, DefaultPageLimit}}
	if got := th.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls %+v, want %+v", got, want)
	}

	// msgpack, same keys
	r = e.do(t, "GET", "/v1/objects/p-1/comments", map[string]string{"Authorization": auth7["Authorization"],
		"Accept": ContentTypeMsgpack}, nil)
	var mp commentsBody
	if r.status != 200 || schema.UnmarshalMsgpackValue(r.body, &mp) != nil || len(mp.Items) != 2 || mp.Items[0].ReplyTo != "c1" {
		t.Fatalf("msgpack: %d %+v", r.status, mp)
	}
}

func TestGetCommentsEmptyAndLast(t *testing.T) {
	th := &fakeThreads{}
	e, _ := commentsEnv(t, th)
	r := e.do(t, "GET", "/v1/objects/p/comments", map[string]string{"Authorization": bearer(e.token(t, 7, false))}, nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"items":[],"next_cursor":""}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestGetCommentsRefusals(t *testing.T) {
	th := &fakeThreads{}
	e, cur := commentsEnv(t, th)
	auth7 := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	p := objects.CommentPos{TS: testTS, ID: "c"}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		code   string
		msg    string
	}{
		{"no token", "GET", "/v1/objects/p/comments", nil, 401, "unauthorized", "missing bearer"},
		{"bad object id", "GET", "/v1/objects/p%20q/comments", auth7, 400, "bad_request", "object id"},
		{"object id too long", "GET", "/v1/objects/" + strings.Repeat("a", schema.MaxIDLen+1) + "/comments", auth7, 400, "bad_request", "object id"},
		{"limit zero", "GET", "/v1/objects/p/comments?limit=0", auth7, 400, "bad_limit", "from 1 to 100"},
		{"limit over", "GET", "/v1/objects/p/comments?limit=101", auth7, 400, "bad_limit", ""},
		{"bad order", "GET", "/v1/objects/p/comments?order=random", auth7, 400, "bad_request", "newest or oldest"},
		{"cursor garbage", "GET", "/v1/objects/p/comments?cursor=!!!", auth7, 400, "bad_cursor", ""},
		{"cursor of another viewer", "GET", "/v1/objects/p/comments?cursor=" + cur.Encode(8, "p", true, p), auth7, 400, "bad_cursor", ""},
		{"cursor of another object", "GET", "/v1/objects/p/comments?cursor=" + cur.Encode(7, "q", true, p), auth7, 400, "bad_cursor", "another thread"},
		{"cursor of the other order", "GET", "/v1/objects/p/comments?order=oldest&cursor=" + cur.Encode(7, "p", true, p), auth7, 400, "bad_cursor", ""},
		{"feed cursor", "GET", "/v1/objects/p/comments?cursor=" + e.cursors.Encode(7, timeline.Position{TS: testTS, ID: "c"}), auth7, 400, "bad_cursor", ""},
		{"POST", "POST", "/v1/objects/p/comments", auth7, 405, "method_not_allowed", ""},
		{"no id", "GET", "/v1/objects//comments", auth7, 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(th.Calls())
			r := e.do(t, tt.method, tt.path, tt.hdr, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if eb := r.errBody(t); eb.Code != tt.code || !strings.Contains(eb.Error, tt.msg) {
				t.Fatalf("got %+v, want code %q with %q", eb, tt.code, tt.msg)
			}
			if n := len(th.Calls()) - before; n != 0 {
				t.Fatalf("thread read %d times for a refused request", n)
			}
		})
	}
}

func TestGetCommentsNotFoundAndFailures(t *testing.T) {
	th := &fakeThreads{err: comments.ErrNotFound}
	e, _ := commentsEnv(t, th)
	auth7 := map[string]string{"Authorization": bearer(e.token(t, 7, false))}
	r := e.do(t, "GET", "/v1/objects/hidden/comments", auth7, nil)
	if r.status != 404 || r.errBody(t).Code != "not_found" {
		t.Fatalf("hidden object: %d %s", r.status, r.body)
	}
	th.mu.Lock()
	th.err = errors.New("disk on fire")
	th.mu.Unlock()
	r = e.do(t, "GET", "/v1/objects/p/comments", auth7, nil)
	if r.status != 500 || strings.Contains(string(r.body), "fire") {
		t.Fatalf("store failure: %d %s", r.status, r.body)
	}
	// Without a thread reader the route answers 404.
	e2 := newEnv(t, nil)
	r = e2.do(t, "GET", "/v1/objects/p/comments", map[string]string{"Authorization": bearer(e2.token(t, 7, false))}, nil)
	if r.status != 404 {
		t.Fatalf("without comments: %d %s", r.status, r.body)
	}
}

// TestPostCommentBadText: a comment's text is 1..8 KiB; anything else is
// a 400 naming the field, and nothing is published.
func TestPostCommentBadText(t *testing.T) {
	e := newEnv(t, nil)
	hdr := map[string]string{"Authorization": bearer(e.token(t, 7, false)), "Content-Type": jsonCT}
	comment := func(text string) schema.Event {
		return schema.Event{ID: "cm1", Type: schema.Comment, Actor: 7, Object: "p1", Text: text, TS: testTS}
	}
	tests := []struct {
		name   string
		ev     schema.Event
		status int
		msg    string
	}{
		{"empty", comment(""), 400, `text: missing: a comment needs 1..8192 bytes`},
		{"over 8 KiB", comment(strings.Repeat("x", schema.MaxTextLen+1)), 400, "text: 8193 bytes is over the limit of 8192"},
		{"no object", func() schema.Event { ev := comment("hi"); ev.Object = ""; return ev }(), 400, "object: missing"},
		{"reply to itself", func() schema.Event { ev := comment("hi"); ev.ReplyTo = "cm1"; return ev }(), 400, "reply_to"},
		{"delete without comment", schema.Event{ID: "d1", Type: schema.CommentDelete, Actor: 7, Object: "p1", TS: testTS}, 400, "comment: missing"},
		{"exactly 8 KiB", comment(strings.Repeat("я", schema.MaxTextLen/2)), 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.pub.Calls())
			r := e.do(t, "POST", PathEvents, hdr, mustJSON(t, tt.ev))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 202 {
				return
			}
			if eb := r.errBody(t); eb.Code != "invalid_event" || !strings.Contains(eb.Error, tt.msg) {
				t.Fatalf("got %+v, want %q", eb, tt.msg)
			}
			if len(e.pub.Calls()) != before {
				t.Fatal("a refused comment was published")
			}
		})
	}
}

// FuzzGetComments: whatever object id, query and cursor a client sends to
// the thread route, the answer is never a 5xx; a 4xx has an error body and
// read no thread; a 200 read the object the path names, in the order asked.
func FuzzGetComments(f *testing.F) {
	th := &fakeThreads{page: comments.Page{Items: []comments.Comment{{ID: "c1", Author: 8, Text: "hi", TS: testTS}}}}
	cur := comments.NewCursors(testSecret)
	e := newServer(f, func(c *Config) { c.Comments, c.CommentCursors, c.Log = th, cur, nil })
	h := e.srv.Handler()
	tok := bearer(e.token(f, 7, false))
	f.Add("p-1", "limit=2&order=oldest&cursor="+cur.Encode(7, "p-1", false, objects.CommentPos{TS: testTS, ID: "c1"}))
	f.Add("p-1", "cursor="+cur.Encode(8, "p-1", true, objects.CommentPos{TS: testTS, ID: "c1"}))
	f.Add("a%2Fb", "limit=101")
	f.Add("..", "order=")
	f.Add(strings.Repeat("x", 200), "")
	f.Fuzz(func(t *testing.T, object, query string) {
		path := PathObjectsPrefix + object + PathCommentsSuffix
		if query != "" {
			path += "?" + query
		}
		n0 := len(th.Calls())
		ctx := call(h, "GET", path, map[string]string{"Authorization": tok}, nil)
		status := ctx.Response.StatusCode()
		calls := th.Calls()[n0:]
		switch {
		case status >= 500:
			t.Fatalf("GET %q: status %d: %s", path, status, ctx.Response.Body())
		case status >= 400:
			var eb errorBody
			if err := json.Unmarshal(ctx.Response.Body(), &eb); err != nil || eb.Error == "" || eb.Code == "" {
				t.Fatalf("GET %q: status %d with no error body: %q", path, status, ctx.Response.Body())
			}
			if len(calls) != 0 {
				t.Fatalf("GET %q: status %d after a thread read", path, status)
			}
		case status == 200:
			if len(calls) != 1 || !schema.ValidID(calls[0].Object) || calls[0].Viewer != 7 {
				t.Fatalf("GET %q: 200 after reads %+v", path, calls)
			}
		}
	})
}
