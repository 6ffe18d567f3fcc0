package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/schema"
)

func post(id string, actor int64) schema.Event {
	return schema.Event{ID: id, Type: schema.Post, Actor: actor, Text: "hi", TS: testTS}
}

const jsonCT = "application/json"

func TestPostEventsRefusals(t *testing.T) {
	e := newEnv(t, nil)
	user := e.token(t, 7, false)
	otherSecret, _ := auth.New([]byte("another-secret-0123456789"))
	foreign, _ := otherSecret.Issue(7, false, time.Hour)
	past, _ := auth.New(testSecret, auth.WithClock(func() time.Time { return time.Now().Add(-48 * time.Hour) }))
	expired, _ := past.Issue(7, false, time.Hour)

	good := string(mustJSON(t, post("e1", 7)))
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	auth7 := func(ct string) map[string]string { return hdr("Authorization", bearer(user), "Content-Type", ct) }
	batch := func(evs ...schema.Event) []byte { return mustJSON(t, evs) }
	self := post("e9", 7)
	self.Type, self.Text, self.Target = schema.Friend, "", 7
	tooMany := make([]schema.Event, schema.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = post(fmt.Sprintf("e%d", i), 7)
	}
	huge := []byte(`{"id":"e1","type":"post","actor":7,"ts":1,"text":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`)
	msgpackGood := mustMsgpack(t, []schema.Event{post("m1", 7)})

	tests := []struct {
		name    string
		method  string
		hdr     map[string]string
		body    []byte
		status  int
		code    string
		index   int    // -1: no index expected
		msg     string // substring of the error message
		headers map[string]string
	}{
		{"no token", "POST", hdr("Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "missing bearer token",
			map[string]string{"WWW-Authenticate": `Bearer realm="lenta"`}},
		{"basic auth", "POST", hdr("Authorization", "Basic dTpw", "Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "Bearer scheme",
			map[string]string{"WWW-Authenticate": `Bearer realm="lenta"`}},
		{"empty bearer", "POST", hdr("Authorization", "Bearer ", "Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "", nil},
		{"garbage token", "POST", hdr("Authorization", "Bearer abc.def.ghi", "Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "malformed",
			map[string]string{"WWW-Authenticate": `Bearer realm="lenta", error="invalid_token"`}},
		{"wrong secret", "POST", hdr("Authorization", bearer(foreign), "Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "signature", nil},
		{"expired", "POST", hdr("Authorization", bearer(expired), "Content-Type", jsonCT), []byte(good), 401, "unauthorized", -1, "expired", nil},
		{"no content type", "POST", hdr("Authorization", bearer(user)), []byte(good), 415, "unsupported_media_type", -1, "Content-Type", nil},
		{"text/plain", "POST", auth7("text/plain"), []byte(good), 415, "unsupported_media_type", -1, "", nil},
		{"form", "POST", auth7("application/x-www-form-urlencoded"), []byte("id=e1"), 415, "unsupported_media_type", -1, "", nil},
		{"gzip", "POST", hdr("Authorization", bearer(user), "Content-Type", jsonCT, "Content-Encoding", "gzip"), []byte(good), 415, "unsupported_media_type", -1, "compressed", nil},
		{"empty body", "POST", auth7(jsonCT), nil, 400, "malformed", -1, "empty body", nil},
		{"not json", "POST", auth7(jsonCT), []byte("hello"), 400, "malformed", -1, "", nil},
		{"truncated json", "POST", auth7(jsonCT), []byte(good[:len(good)-5]), 400, "malformed", -1, "", nil},
		{"trailing json", "POST", auth7(jsonCT), []byte(good + good), 400, "malformed", -1, "trailing", nil},
		{"json number", "POST", auth7(jsonCT), []byte("42"), 400, "malformed", -1, "", nil},
		{"empty array", "POST", auth7(jsonCT), []byte("[]"), 400, "malformed", -1, "empty array", nil},
		{"array of strings", "POST", auth7(jsonCT), []byte(`["a"]`), 400, "malformed", -1, "not an object", nil},
		{"actor is a string", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"post","actor":"7","text":"x","ts":1699999999000}`), 400, "malformed", -1, "", nil},
		{"ts is a float", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"post","actor":7,"text":"x","ts":1.5}`), 400, "malformed", -1, "", nil},
		{"over batch limit", "POST", auth7(jsonCT), batch(tooMany...), 400, "malformed", -1, "batch limit", nil},
		{"unknown type", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"poke","actor":7,"ts":1699999999000}`), 400, "invalid_event", 0, `unknown type "poke"`, nil},
		{"missing id", "POST", auth7(jsonCT), []byte(`{"type":"post","actor":7,"text":"x","ts":1699999999000}`), 400, "invalid_event", 0, "id: missing", nil},
		{"missing ts", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"post","actor":7,"text":"x"}`), 400, "invalid_event", 0, "ts: missing", nil},
		{"missing actor", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"post","text":"x","ts":1699999999000}`), 400, "invalid_event", 0, "actor: missing", nil},
		{"ts in the future", "POST", auth7(jsonCT), []byte(`{"id":"e1","type":"post","actor":7,"text":"x","ts":1800000000000}`), 400, "invalid_event", 0, "future", nil},
		{"unknown reaction", "POST", auth7(jsonCT), []byte(`{"id":"r1","type":"react","actor":7,"target":8,"object":"p","reaction":"angry","ts":1699999999000}`), 400, "invalid_event", 0,
			`reaction: unknown reaction "angry" (the configured set: class,love,lol,wow,sad)`, nil},
		{"react without a kind", "POST", auth7(jsonCT), []byte(`{"id":"r1","type":"react","actor":7,"target":8,"object":"p","ts":1699999999000}`), 400, "invalid_event", 0, "reaction: missing", nil},
		{"reaction on a class", "POST", auth7(jsonCT), []byte(`{"id":"r1","type":"class","actor":7,"target":8,"object":"p","reaction":"love","ts":1699999999000}`), 400, "invalid_event", 0, "only react takes a reaction", nil},
		{"bad event in batch", "POST", auth7(jsonCT), batch(post("e1", 7), post("e2", 7), post("e3", 7), self), 400, "invalid_event", 3,
			`event 3: invalid event "e9": target: friend with oneself`, nil},
		{"as someone else", "POST", auth7(jsonCT), batch(post("e1", 7), post("e2", 8)), 403, "forbidden", 1,
			"event 1: publishing as user 8 is not allowed for user 7", nil},
		{"duplicate ids", "POST", auth7(jsonCT), batch(post("e1", 7), post("e2", 7), post("e1", 7)), 400, "duplicate_id", 2, `id "e1" repeats event 0`, nil},
		{"huge body", "POST", hdr("Authorization", bearer(user), "Content-Type", jsonCT, "Expect", "100-continue"), huge, 413, "body_too_large", -1, "1048576", nil},
		{"msgpack garbage", "POST", auth7("application/msgpack"), []byte{0xc1}, 400, "malformed", -1, "", nil},
		{"msgpack truncated", "POST", auth7("application/msgpack"), msgpackGood[:len(msgpackGood)-4], 400, "malformed", -1, "", nil},
		{"msgpack wrong types", "POST", auth7("application/msgpack"), mustMsgpack(t, map[string]any{"id": 1, "type": "post", "actor": "x"}), 400, "malformed", -1, "", nil},
		{"msgpack array of ints", "POST", auth7("application/msgpack"), mustMsgpack(t, []int{1, 2}), 400, "malformed", -1, "not a map", nil},
		{"json sent as msgpack", "POST", auth7("application/msgpack"), []byte(good), 400, "malformed", -1, "", nil},
		{"msgpack sent as json", "POST", auth7(jsonCT), msgpackGood, 400, "malformed", -1, "", nil},
		{"msgpack as someone else", "POST", auth7("application/x-msgpack"), mustMsgpack(t, []schema.Event{post("m1", 99)}), 403, "forbidden", 0, "user 99", nil},
		{"GET", "GET", auth7(jsonCT), nil, 405, "method_not_allowed", -1, "GET", map[string]string{"Allow": "POST"}},
		{"PUT", "PUT", auth7(jsonCT), []byte(good), 405, "method_not_allowed", -1, "", map[string]string{"Allow": "POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.pub.Calls())
			r := e.do(t, tt.method, PathEvents, tt.hdr, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			eb := r.errBody(t)
			if eb.Code != tt.code {
				t.Errorf("code %q, want %q (%s)", eb.Code, tt.code, eb.Error)
			}
			if !strings.Contains(eb.Error, tt.msg) {
				t.Errorf("error %q lacks %q", eb.Error, tt.msg)
			}
			switch {
			case tt.index < 0 && eb.Index != nil:
				t.Errorf("unexpected index %d", *eb.Index)
			case tt.index >= 0 && (eb.Index == nil || *eb.Index != tt.index):
				t.Errorf("index %v, want %d", eb.Index, tt.index)
			}
			for k, v := range tt.headers {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := r.header.Get("Content-Type"); got != ContentTypeJSON {
				t.Errorf("content type %q", got)
			}
			if n := len(e.pub.Calls()); n != before {
				t.Fatalf("the publisher received %d calls for a refused request", n-before)
			}
			if strings.Contains(eb.Error, user) {
				t.Fatal("the error echoes the token")
			}
		})
	}
	if n := len(e.pub.Calls()); n != 0 {
		t.Fatalf("publisher got %d calls", n)
	}
	if strings.Contains(e.logs.String(), user) || strings.Contains(e.logs.String(), "Bearer") {
		t.Fatal("a token reached the log")
	}
}

func TestPostEventsAccepted(t *testing.T) {
	e := newEnv(t, nil)
	user := e.token(t, 7, false)
	service := e.token(t, 1, true)
	gift := schema.Event{ID: "g1", Type: schema.Gift, Actor: 8, Target: 7, Object: "rose", TS: testTS}
	tests := []struct {
		name  string
		token string
		ct    string
		body  []byte
		want  []string // ids published
	}{
		{"one json object", user, jsonCT, mustJSON(t, post("a1", 7)), []string{"a1"}},
		{"json array with charset", user, "application/json; charset=utf-8", mustJSON(t, []schema.Event{post("b1", 7), post("b2", 7)}), []string{"b1", "b2"}},
		{"json with unknown keys", user, "Application/JSON", []byte(`{"id":"c1","type":"post","actor":7,"text":"x","ts":1699999999000,"mood":"ok"}`), []string{"c1"}},
		{"msgpack map", user, "application/msgpack", mustMsgpack(t, post("d1", 7)), []string{"d1"}},
		{"x-msgpack array", user, "application/x-msgpack", mustMsgpack(t, []schema.Event{post("e1", 7), post("e2", 7)}), []string{"e1", "e2"}},
		{"service for others", service, jsonCT, mustJSON(t, []schema.Event{post("f1", 7), gift, post("f3", 42)}), []string{"f1", "g1", "f3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.pub.Calls())
			r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(tt.token), "Content-Type": tt.ct}, tt.body)
			if r.status != 202 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var got acceptedBody
			if err := json.Unmarshal(r.body, &got); err != nil || got.Accepted != len(tt.want) {
				t.Fatalf("body %s (%v)", r.body, err)
			}
			calls := e.pub.Calls()[before:]
			if len(calls) != 1 {
				t.Fatalf("published %d times, want once", len(calls))
			}
			if len(calls[0]) != len(tt.want) {
				t.Fatalf("published %d events, want %d", len(calls[0]), len(tt.want))
			}
			for i, ev := range calls[0] {
				if ev.ID != tt.want[i] {
					t.Errorf("event %d is %q, want %q (order kept)", i, ev.ID, tt.want[i])
				}
				if ev.V != schema.Version || (ev.Type.IsItem() && ev.Object == "") {
					t.Errorf("event %d not normalized: %+v", i, ev)
				}
			}
		})
	}
}

func TestPostEventsMsgpackRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(t, 7, false)
	hdr := map[string]string{"Authorization": bearer(tok), "Content-Type": "application/msgpack", "Accept": "application/msgpack"}
	r := e.do(t, "POST", PathEvents, hdr, mustMsgpack(t, []schema.Event{post("m1", 7), post("m2", 7)}))
	if r.status != 202 || r.header.Get("Content-Type") != ContentTypeMsgpack {
		t.Fatalf("status %d, type %q: %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	var got map[string]any
	if err := schema.UnmarshalMsgpackValue(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if n, _ := got["accepted"].(int8); n != 2 {
		t.Fatalf("accepted: %#v", got)
	}
	// Errors are negotiated too.
	r = e.do(t, "POST", PathEvents, hdr, []byte{0xc1})
	if r.status != 400 || r.header.Get("Content-Type") != ContentTypeMsgpack {
		t.Fatalf("status %d, type %q", r.status, r.header.Get("Content-Type"))
	}
	if eb := r.errBody(t); eb.Code != codeMalformed {
		t.Fatalf("code %q", eb.Code)
	}
}

func TestPostEventsPublisherFails(t *testing.T) {
	e := newEnv(t, nil)
	e.pub.err = fmt.Errorf("kafka: broker 10.0.0.7:9092 unreachable")
	r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(e.token(t, 7, false)), "Content-Type": jsonCT},
		mustJSON(t, post("e1", 7)))
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d retry-after %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	eb := r.errBody(t)
	if eb.Code != codeUnavailable || strings.Contains(eb.Error, "10.0.0.7") {
		t.Fatalf("error body %+v", eb)
	}
	if !strings.Contains(e.logs.String(), "10.0.0.7") {
		t.Fatal("the cause was not logged")
	}
}

func TestPostEventsWithoutPublisher(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Publisher = nil })
	r := e.do(t, "POST", PathEvents, map[string]string{"Authorization": bearer(e.token(t, 7, false)), "Content-Type": jsonCT},
		mustJSON(t, post("e1", 7)))
	if r.status != 404 || r.errBody(t).Code != codeNotFound {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
}

func TestBareHandlerEnforcesBodyLimit(t *testing.T) {
	e := newServer(t, func(c *Config) { c.MaxBodyBytes = 100 })
	tok := e.token(t, 7, false)
	ctx := call(e.srv.Handler(), "POST", PathEvents,
		map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT}, []byte(strings.Repeat(" ", 101)))
	if ctx.Response.StatusCode() != 413 {
		t.Fatalf("status %d", ctx.Response.StatusCode())
	}
	if len(e.pub.Calls()) != 0 {
		t.Fatal("published")
	}
}

func TestFirstDuplicate(t *testing.T) {
	mk := func(ids ...string) []schema.Event {
		evs := make([]schema.Event, len(ids))
		for i, id := range ids {
			evs[i].ID = id
		}
		return evs
	}
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprint("e", i)
	}
	dupMany := append(append([]string(nil), many...), "e42")
	tests := []struct {
		ids  []string
		i, j int
	}{
		{nil, -1, -1},
		{[]string{"a"}, -1, -1},
		{[]string{"a", "b", "a"}, 2, 0},
		{[]string{"a", "b", "b", "a"}, 2, 1},
		{many, -1, -1},
		{dupMany, 100, 42},
	}
	for _, tt := range tests {
		if i, j := firstDuplicate(mk(tt.ids...)); i != tt.i || j != tt.j {
			t.Errorf("%d ids: got (%d,%d), want (%d,%d)", len(tt.ids), i, j, tt.i, tt.j)
		}
	}
}
