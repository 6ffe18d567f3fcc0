package httpapi

// Bad input over every route: one table of refusals (TestBadInput), one of
// input the contract accepts although it looks odd (unknown fields,
// TestBadInputUnknownFieldsIgnored), and a fuzz target over all routes
// (FuzzBadInput).
//
// TestPostEventsRefusals (events_test.go) and TestGetFeedRefusals
// (feed_test.go) already hold the first refusal cases of POST /v1/events
// and of the newest-first feed; they are not repeated here (the token
// cases they hold are skipped below, see coveredElsewhere), so the three
// tables together are the complete list.

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/graph"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// The notify domain's types satisfy the interfaces the routes take
// (checked when the tests compile; feedd's wiring passes them).
var (
	_ NotifyInbox   = (*notify.Inbox)(nil)
	_ NotifyCursors = (*notify.Cursors)(nil)
)

// biEffects counts what the fakes behind a badEnv were asked to do.
type biEffects struct {
	writes atomic.Int64 // anything stored, changed or deleted
	reads  atomic.Int64 // anything read, or an endpoint checked
}

// biInbox is a notify.Store that holds nothing and counts calls.
type biInbox struct{ fx *biEffects }

func (s biInbox) PutActivities(context.Context, []notify.Activity, bool) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biInbox) DeleteActivity(context.Context, int64, string, int64) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biInbox) Groups(_ context.Context, _ int64, groups []string) ([][]notify.Activity, error) {
	s.fx.reads.Add(1)
	return make([][]notify.Activity, len(groups)), nil
}

func (s biInbox) Head(context.Context, int64, string, int64) (notify.GroupHead, error) {
	s.fx.reads.Add(1)
	return notify.GroupHead{}, nil
}

func (s biInbox) Index(context.Context, int64, notify.Position, int) ([]notify.Position, error) {
	s.fx.reads.Add(1)
	return nil, nil
}

func (s biInbox) DropIndex(context.Context, int64, []notify.Position) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biInbox) ReadMark(context.Context, int64) (notify.Position, error) {
	s.fx.reads.Add(1)
	return notify.Position{}, nil
}

func (s biInbox) SetReadMark(context.Context, int64, notify.Position) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biInbox) DeleteGroups(context.Context, []notify.GroupAt) error {
	s.fx.writes.Add(1)
	return nil
}

// biSubs is a notify.Subscriptions that holds nothing and counts calls.
type biSubs struct{ fx *biEffects }

func (s biSubs) PutSubscription(context.Context, notify.Subscription) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biSubs) DeleteSubscription(context.Context, int64, string) error {
	s.fx.writes.Add(1)
	return nil
}

func (s biSubs) Subscriptions(context.Context, int64) ([]notify.Subscription, error) {
	s.fx.reads.Add(1)
	return nil, nil
}

// biChecker resolves every host to a public address but internal.example,
// as push/webpush does for a name of a private address.
type biChecker struct{ fx *biEffects }

func (c biChecker) CheckEndpoint(_ context.Context, endpoint string) error {
	c.fx.reads.Add(1)
	if strings.Contains(endpoint, "internal.example") {
		return fmt.Errorf("%w: endpoint host resolves to a private address", notify.ErrBadSubscription)
	}
	return nil
}

// biWindow is the ranked reader's timeline: a fixed window, counted.
type biWindow struct {
	fx    *biEffects
	items []timeline.Item
}

func (w biWindow) Head(context.Context, int64) (timeline.Head, error) {
	return timeline.Head{Version: 1}, nil
}

func (w biWindow) HydrateWith(ctx context.Context, viewer int64, _ *graph.Relations, entries []timeline.Entry) ([]timeline.Item, error) {
	return w.Hydrate(ctx, viewer, entries)
}

func (w biWindow) Candidates(context.Context, int64, *graph.Relations, int) ([]timeline.Item, timeline.Position, error) {
	w.fx.reads.Add(1)
	return append([]timeline.Item(nil), w.items...), timeline.Position{}, nil
}

func (w biWindow) Hydrate(_ context.Context, _ int64, entries []timeline.Entry) ([]timeline.Item, error) {
	w.fx.reads.Add(1)
	var out []timeline.Item
	for _, e := range entries {
		for _, it := range w.items {
			if it.EventID == e.ID {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

func (w biWindow) Page(context.Context, int64, timeline.Position, int) (timeline.Page, error) {
	w.fx.reads.Add(1)
	return timeline.Page{}, nil
}

// biSnaps counts the ranked reader's snapshot writes and reads.
type biSnaps struct {
	fx *biEffects
	m  *ranking.MemoryStore
}

func (s biSnaps) PutSnapshot(ctx context.Context, viewer int64, id uint64, data []byte, expires int64) error {
	s.fx.writes.Add(1)
	return s.m.PutSnapshot(ctx, viewer, id, data, expires)
}

func (s biSnaps) Snapshot(ctx context.Context, viewer int64, id uint64, now int64, dst []byte) ([]byte, bool, error) {
	s.fx.reads.Add(1)
	return s.m.Snapshot(ctx, viewer, id, now, dst)
}

// badEnv is a server with every route served: ingest, the feed in both
// orders (a real ranking.Reader), notifications and Web Push, over fakes
// that record what reaches them.
type badEnv struct {
	*testEnv
	fx              *biEffects
	rankCursors     *ranking.Cursors
	inboxCursors    *notify.Cursors
	snapshot        uint64 // a ranked snapshot stored for viewer 7, with 2 entries
	p256dh, authKey string // a valid PushSubscription's keys
}

// badConfig wires the ranked feed and the notify routes to recording fakes.
func badConfig(t testing.TB, b *badEnv) func(*Config) {
	t.Helper()
	b.fx = &biEffects{}
	b.rankCursors = ranking.NewCursors(testSecret)
	b.inboxCursors = notify.NewCursors(testSecret)
	rk, err := ranking.NewRanker(ranking.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	ranked := ranking.NewReader(biWindow{fx: b.fx, items: samplePage().Items}, ranking.NewMemoryStore(),
		biSnaps{fx: b.fx, m: ranking.NewMemoryStore()}, b.rankCursors, rk, func() time.Time { return testNow })
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b.p256dh = base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
	b.authKey = base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef"))
	return func(c *Config) {
		c.Ranked = ranked
		c.Notify = &NotifyConfig{
			Inbox:     notify.NewInbox(biInbox{b.fx}),
			Cursors:   b.inboxCursors,
			Subs:      biSubs{b.fx},
			Checker:   biChecker{b.fx},
			PublicKey: "BPublicKeyForTests",
		}
	}
}

func newBadEnv(t *testing.T) *badEnv {
	t.Helper()
	b := &badEnv{}
	b.testEnv = newEnv(t, badConfig(t, b))
	// A first ranked page of one item stores a snapshot of the other two:
	// the cursors below point into it, past it, or at one that is gone.
	r := b.do(t, "GET", PathFeed+"?order=ranked&limit=1", map[string]string{"Authorization": bearer(b.token(t, 7, false))}, nil)
	var page feedBody
	if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
		t.Fatalf("first ranked page: %d %s", r.status, r.body)
	}
	c, err := b.rankCursors.Decode(7, page.NextCursor)
	if err != nil || c.Snapshot == 0 {
		t.Fatalf("first ranked page's cursor %q: %+v %v", page.NextCursor, c, err)
	}
	b.snapshot = c.Snapshot
	return b
}

// counts is what reached the backends so far: writes (events published,
// anything stored) and reads.
func (b *badEnv) counts() (writes, reads int64) {
	return int64(len(b.pub.Calls())) + b.fx.writes.Load(), int64(len(b.feed.Calls())) + b.fx.reads.Load()
}

// subJSON is a PushSubscription body; extra is spliced in before the
// closing brace.
func (b *badEnv) subJSON(endpoint, extra string) []byte {
	return []byte(`{"endpoint":"` + endpoint + `","expirationTime":null,"keys":{"p256dh":"` + b.p256dh +
		`","auth":"` + b.authKey + `"}` + extra + `}`)
}

// biSignHS256 signs header.claims with secret as a JWT.
func biSignHS256(secret []byte, header, claims string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(s))
	return s + "." + enc.EncodeToString(m.Sum(nil))
}

// biRaw is msgpack inserted as is by biMsgpackMap.
type biRaw []byte

// biMsgpackMap encodes key/value pairs, in order, as a msgpack map.
func biMsgpackMap(t testing.TB, kv ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	w := schema.NewMsgpackWriter(&b) // writes straight into b: no buffering
	w.MapLen(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		w.String(kv[i].(string))
		if raw, ok := kv[i+1].(biRaw); ok {
			b.Write(raw)
		} else {
			w.Value(kv[i+1])
		}
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// biEvent is a valid post by actor 7 as key/value pairs, then more.
func biEvent(id string, more ...any) []any {
	return append([]any{"id", id, "type", "post", "actor", 7, "text", "x", "ts", testTS}, more...)
}

// biJSONEvent is biEvent's pairs as a JSON object; a later key replaces an
// earlier one, a json.RawMessage value is inserted as is.
func biJSONEvent(t testing.TB, kv ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	var keys []string
	vals := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = kv[i+1]
	}
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(t, k))
		b.WriteByte(':')
		if raw, ok := vals[k].(json.RawMessage); ok {
			b.Write(raw)
		} else {
			b.Write(mustJSON(t, vals[k]))
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// biOverride is biEvent with key k set to v (in place, so the map has no
// duplicate key).
func biOverride(id, k string, v any) []any {
	kv := biEvent(id)
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == k {
			kv[i+1] = v
			return kv
		}
	}
	return append(kv, k, v)
}

// biNest is n nested msgpack arrays (0x91) or maps (0x81 with key ""),
// around nil.
func biNest(n int, maps bool) biRaw {
	unit := []byte{0x91}
	if maps {
		unit = []byte{0x81, 0xa0}
	}
	return biRaw(append(bytes.Repeat(unit, n), 0xc0))
}

// biNestJSON is n nested JSON arrays or objects around null.
func biNestJSON(n int, objects bool) json.RawMessage {
	if objects {
		return json.RawMessage(strings.Repeat(`{"a":`, n) + "null" + strings.Repeat("}", n))
	}
	return json.RawMessage(strings.Repeat("[", n) + "null" + strings.Repeat("]", n))
}

type badCase struct {
	name   string
	method string
	path   string
	hdr    map[string]string
	body   []byte
	status int
	code   string
	msg    string // a substring of the error message
	reads  bool   // the refusal comes after a read (an expired snapshot, an endpoint check)
}

// Allow of each route, as documented.
var biAllow = map[string]string{
	PathEvents:        "POST",
	PathFeed:          "GET, HEAD",
	PathNotifications: "GET, HEAD",
	PathUnread:        "GET, HEAD",
	PathRead:          "POST",
	PathPushKey:       "GET, HEAD",
	PathPushSubs:      "GET, HEAD, POST, DELETE",
}

// coveredElsewhere are (route, token case) pairs TestPostEventsRefusals and
// TestGetFeedRefusals already hold.
var coveredElsewhere = map[string]string{
	"events/token missing":       "TestPostEventsRefusals/no_token",
	"events/token basic scheme":  "TestPostEventsRefusals/basic_auth",
	"events/token empty bearer":  "TestPostEventsRefusals/empty_bearer",
	"events/token malformed":     "TestPostEventsRefusals/garbage_token",
	"events/token wrong secret":  "TestPostEventsRefusals/wrong_secret",
	"events/token expired":       "TestPostEventsRefusals/expired",
	"feed recent/token missing":  "TestGetFeedRefusals/no_token",
	"feed recent/token one word": "TestGetFeedRefusals/bad_token",
}

func (b *badEnv) cases(t *testing.T) []badCase {
	t.Helper()
	tok := b.token(t, 7, false)
	svc := b.token(t, 1, true)
	h := func(kv ...string) map[string]string {
		m := map[string]string{"Authorization": bearer(tok)}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	js := func(kv ...string) map[string]string { return h(append([]string{"Content-Type", jsonCT}, kv...)...) }
	mp := func(kv ...string) map[string]string {
		return h(append([]string{"Content-Type", ContentTypeMsgpack}, kv...)...)
	}
	var cs []badCase
	add := func(name, method, path string, hdr map[string]string, body []byte, status int, code, msg string) {
		cs = append(cs, badCase{name: name, method: method, path: path, hdr: hdr, body: body, status: status, code: code, msg: msg})
	}

	// Tokens, on every route that needs one.
	now := time.Now()
	claims := func(extra string) string {
		return fmt.Sprintf(`{"iss":"lenta","sub":"7","iat":%d,"exp":%d%s}`, now.Unix(), now.Add(time.Hour).Unix(), extra)
	}
	hs256 := `{"alg":"HS256","typ":"JWT"}`
	parts := strings.Split(tok, ".")
	enc := base64.RawURLEncoding.EncodeToString
	other, _ := auth.New([]byte("another-deployment-secret-0123"))
	foreign, _ := other.Issue(7, false, time.Hour)
	past, _ := auth.New(testSecret, auth.WithClock(func() time.Time { return now.Add(-48 * time.Hour) }))
	expired, _ := past.Issue(7, false, time.Hour)
	tokens := []struct{ name, authz, msg string }{
		{"missing", "", "missing bearer token"},
		{"basic scheme", "Basic dTpw", "Bearer scheme"},
		{"empty bearer", "Bearer ", ""},
		{"one word", "Bearer x", "malformed"},
		{"malformed", "Bearer abc.def.ghi", "malformed"},
		{"lowercase scheme, bad token", "bearer " + parts[0], "malformed"},
		{"tampered payload", "Bearer " + parts[0] + "." + enc([]byte(claims(`,"scope":"service"`))) + "." + parts[2], "signature is invalid"},
		{"tampered signature", "Bearer " + parts[0] + "." + parts[1] + "." + flip(parts[2]), "signature is invalid"},
		{"expired", "Bearer " + expired, "expired"},
		{"wrong secret", "Bearer " + foreign, "signature is invalid"},
		{"alg none", "Bearer " + enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", "not allowed"},
		{"no expiry", "Bearer " + biSignHS256(testSecret, hs256, fmt.Sprintf(`{"iss":"lenta","sub":"7","iat":%d}`, now.Unix())), "no expiry"},
		{"subject not a user id", "Bearer " + biSignHS256(testSecret, hs256, strings.Replace(claims(""), `"sub":"7"`, `"sub":"anna"`, 1)), "subject"},
		{"unknown scope", "Bearer " + biSignHS256(testSecret, hs256, claims(`,"scope":"admin"`)), "unknown scope"},
		{"too long", "Bearer " + strings.Repeat("a", 5000), "longer than"},
	}
	subID := notify.SubscriptionID("https://push.example/a")
	routes := []struct {
		name, method, path string
		hdr                map[string]string
		body               []byte
	}{
		{"events", "POST", PathEvents, js(), mustJSON(t, post("tk1", 7))},
		{"feed recent", "GET", PathFeed + "?order=recent", h(), nil},
		{"feed ranked", "GET", PathFeed + "?order=ranked", h(), nil},
		{"notifications", "GET", PathNotifications, h(), nil},
		{"unread", "GET", PathUnread, h(), nil},
		{"read", "POST", PathRead, js(), []byte(`{}`)},
		{"subscriptions list", "GET", PathPushSubs, h(), nil},
		{"subscribe", "POST", PathPushSubs, js(), b.subJSON("https://push.example/a", "")},
		{"unsubscribe", "DELETE", PathPushSubs + "?id=" + subID, h(), nil},
	}
	for _, r := range routes {
		for _, tc := range tokens {
			name := r.name + "/token " + tc.name
			if _, ok := coveredElsewhere[name]; ok {
				continue
			}
			hdr := map[string]string{}
			for k, v := range r.hdr {
				hdr[k] = v
			}
			delete(hdr, "Authorization")
			if tc.authz != "" {
				hdr["Authorization"] = tc.authz
			}
			add(name, r.method, r.path, hdr, r.body, 401, codeUnauthorized, tc.msg)
		}
	}

	// Wrong methods: 405 with Allow, before anything else is looked at.
	for _, m := range []struct{ path, method string }{
		{PathEvents, "DELETE"}, {PathEvents, "PATCH"}, {PathEvents, "FOO"},
		{PathFeed, "PUT"}, {PathFeed, "PATCH"},
		{PathNotifications, "POST"}, {PathNotifications, "DELETE"},
		{PathUnread, "POST"}, {PathUnread, "PUT"},
		{PathRead, "GET"}, {PathRead, "DELETE"},
		{PathPushKey, "POST"}, {PathPushKey, "DELETE"},
		{PathPushSubs, "PUT"}, {PathPushSubs, "PATCH"},
	} {
		add(strings.TrimPrefix(m.path, "/")+"/method "+m.method, m.method, m.path, js(), []byte(`{}`), 405, codeMethodNotAllowed, "not allowed here")
	}

	// POST /v1/events. Content types beyond TestPostEventsRefusals'.
	good := mustJSON(t, post("ok1", 7))
	add("events/content type xml", "POST", PathEvents, h("Content-Type", "application/xml"), good, 415, codeUnsupportedMedia, "Content-Type")
	add("events/content type json suffix", "POST", PathEvents, h("Content-Type", "application/vnd.api+json"), good, 415, codeUnsupportedMedia, "")
	add("events/content encoding br", "POST", PathEvents, js("Content-Encoding", "br"), good, 415, codeUnsupportedMedia, "compressed")
	// Malformed and truncated.
	add("events/json null", "POST", PathEvents, js(), []byte("null"), 400, codeMalformed, "")
	add("events/json true", "POST", PathEvents, js(), []byte("true"), 400, codeMalformed, "")
	add("events/json string", "POST", PathEvents, js(), []byte(`"post"`), 400, codeMalformed, "")
	add("events/json array of null", "POST", PathEvents, js(), []byte(`[null]`), 400, codeMalformed, "not an object")
	add("events/json byte order mark", "POST", PathEvents, js(), append([]byte("\xef\xbb\xbf"), good...), 400, codeMalformed, "")
	add("events/json truncated array", "POST", PathEvents, js(), []byte(`[`+string(good)+`,{"id":"e2"`), 400, codeMalformed, "")
	add("events/json cut in a string", "POST", PathEvents, js(), []byte(`{"id":"e1","type":"po`), 400, codeMalformed, "")
	add("events/json single quotes", "POST", PathEvents, js(), []byte(`{'id':'e1'}`), 400, codeMalformed, "")
	add("events/json comment", "POST", PathEvents, js(), []byte(`{"id":"e1" /* x */}`), 400, codeMalformed, "")
	add("events/json white space only", "POST", PathEvents, js(), []byte(" \n\t "), 400, codeMalformed, "empty body")
	mpGood := mustMsgpack(t, post("m1", 7))
	mpBatch := mustMsgpack(t, []schema.Event{post("m1", 7), post("m2", 7)})
	add("events/msgpack truncated batch", "POST", PathEvents, mp(), mpBatch[:len(mpBatch)/2], 400, codeMalformed, "")
	add("events/msgpack map header only", "POST", PathEvents, mp(), []byte{0x85}, 400, codeMalformed, "")
	add("events/msgpack trailing bytes", "POST", PathEvents, mp(), append(append([]byte(nil), mpGood...), 0xc0), 400, codeMalformed, "trailing")
	add("events/msgpack two maps", "POST", PathEvents, mp(), append(append([]byte(nil), mpGood...), mpGood...), 400, codeMalformed, "trailing")
	add("events/msgpack string", "POST", PathEvents, mp(), mustMsgpack(t, "post"), 400, codeMalformed, "")
	add("events/msgpack nil", "POST", PathEvents, mp(), []byte{0xc0}, 400, codeMalformed, "")
	add("events/msgpack int", "POST", PathEvents, mp(), []byte{0x07}, 400, codeMalformed, "")
	add("events/msgpack empty array", "POST", PathEvents, mp(), []byte{0x90}, 400, codeMalformed, "empty array")
	add("events/msgpack array of nil", "POST", PathEvents, mp(), []byte{0x91, 0xc0}, 400, codeMalformed, "not a map")
	add("events/msgpack int key", "POST", PathEvents, mp(), []byte{0x81, 0x01, 0xa1, 'x'}, 400, codeMalformed, "")
	add("events/msgpack empty body", "POST", PathEvents, mp(), nil, 400, codeMalformed, "empty body")
	// Wrong types, field by field, in both encodings (JSON actor as a
	// string and ts as a float are in TestPostEventsRefusals).
	wrong := []struct {
		field string
		vals  []any
	}{
		{"v", []any{"1", 1.5, []any{1}}},
		{"id", []any{1, []any{"e1"}, map[string]any{"a": 1}, true}},
		{"type", []any{1, []any{"post"}}},
		{"actor", []any{"7", 7.5, true, []any{7}, map[string]any{"a": 7}}},
		{"target", []any{"8", 8.5}},
		{"object", []any{1, []any{"o"}}},
		{"audience", []any{1, []any{"public"}}},
		{"text", []any{1, []any{"x"}, map[string]any{"t": "x"}}},
		{"media", []any{"m1", []any{1}, []any{[]any{"m1"}}, map[string]any{"0": "m1"}}},
		{"until", []any{"soon", 1.5}},
		{"ts", []any{"now", true, 1.5, []any{1}}},
	}
	for _, w := range wrong {
		for _, v := range w.vals {
			jname := fmt.Sprintf("events/json %s is %T %v", w.field, v, v)
			if !(w.field == "actor" && v == "7") && !(w.field == "ts" && v == 1.5) {
				add(jname, "POST", PathEvents, js(), biJSONEvent(t, biOverride("w1", w.field, v)...), 400, codeMalformed, "")
			}
			add(fmt.Sprintf("events/msgpack %s is %T %v", w.field, v, v), "POST", PathEvents, mp(),
				biMsgpackMap(t, biOverride("w1", w.field, v)...), 400, codeMalformed, "")
		}
	}
	add("events/json actor over int64", "POST", PathEvents, js(), biJSONEvent(t, biOverride("w1", "actor", json.RawMessage("9223372036854775808"))...), 400, codeMalformed, "")
	add("events/json ts exponent", "POST", PathEvents, js(), biJSONEvent(t, biOverride("w1", "ts", json.RawMessage("1.7e12"))...), 400, codeMalformed, "")
	add("events/msgpack actor uint64 over int64", "POST", PathEvents, mp(), biMsgpackMap(t, biOverride("w1", "actor", uint64(1<<63))...), 400, codeInvalidEvent, "actor")
	add("events/msgpack ts as timestamp ext", "POST", PathEvents, mp(), biMsgpackMap(t, biOverride("w1", "ts", testNow)...), 400, codeMalformed, "")
	// Over the limits.
	add("events/text over 8 KiB", "POST", PathEvents, js(), biJSONEvent(t, biOverride("h1", "text", strings.Repeat("x", schema.MaxTextLen+1))...), 400, codeInvalidEvent, "text: 8193 bytes")
	add("events/text of 1,000,000 bytes", "POST", PathEvents, js(), biJSONEvent(t, biOverride("h1", "text", strings.Repeat("я", 500_000))...), 400, codeInvalidEvent, "text")
	add("events/msgpack text over 8 KiB", "POST", PathEvents, mp(), biMsgpackMap(t, biOverride("h1", "text", strings.Repeat("x", schema.MaxTextLen+1))...), 400, codeInvalidEvent, "text")
	media11 := make([]string, schema.MaxMedia+1)
	for i := range media11 {
		media11[i] = fmt.Sprint("m", i)
	}
	add("events/11 media", "POST", PathEvents, js(), biJSONEvent(t, biEvent("h2", "media", media11)...), 400, codeInvalidEvent, "media: 11 references")
	add("events/msgpack 11 media", "POST", PathEvents, mp(), biMsgpackMap(t, biEvent("h2", "media", media11)...), 400, codeInvalidEvent, "media")
	add("events/media reference over 1 KiB", "POST", PathEvents, js(), biJSONEvent(t, biEvent("h3", "media", []string{strings.Repeat("m", schema.MaxMediaLen+1)})...), 400, codeInvalidEvent, "media: reference 0")
	add("events/empty media reference", "POST", PathEvents, js(), biJSONEvent(t, biEvent("h3", "media", []string{""})...), 400, codeInvalidEvent, "media")
	tooMany := make([]schema.Event, schema.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = post(fmt.Sprintf("b%d", i), 7)
	}
	add("events/msgpack batch over 1000", "POST", PathEvents, mp(), mustMsgpack(t, tooMany), 400, codeMalformed, "batch limit")
	add("events/msgpack array32 of 4 billion", "POST", PathEvents, mp(), []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, 400, codeMalformed, "")
	add("events/msgpack text str32 claims 4 GB", "POST", PathEvents, mp(), biMsgpackMap(t, "id", "s1", "text", biRaw{0xdb, 0xff, 0xff, 0xff, 0xf0, 'x'}), 400, codeMalformed, "truncated")
	add("events/msgpack media array32 claims 1M", "POST", PathEvents, mp(), biMsgpackMap(t, "id", "s1", "media", biRaw{0xdd, 0x00, 0x0f, 0x42, 0x40, 0xa1, 'x'}), 400, codeMalformed, "truncated")
	add("events/msgpack unknown bin32 claims 4 GB", "POST", PathEvents, mp(), biMsgpackMap(t, "id", "s1", "zz", biRaw{0xc6, 0xff, 0xff, 0xff, 0xff}), 400, codeMalformed, "truncated")
	huge := biJSONEvent(t, biOverride("h4", "text", strings.Repeat("x", DefaultMaxBodyBytes))...)
	add("events/json body over 1 MiB", "POST", PathEvents, js("Expect", "100-continue"), huge, 413, codeTooLarge, "1048576")
	add("events/msgpack body over 1 MiB", "POST", PathEvents, mp("Expect", "100-continue"),
		biMsgpackMap(t, biOverride("h4", "text", strings.Repeat("x", DefaultMaxBodyBytes))...), 413, codeTooLarge, "1048576")
	// Deeply nested: a 4xx at once, whatever the nesting is in.
	add("events/json 100k nested arrays", "POST", PathEvents, js(), []byte(biNestJSON(100_000, false)), 400, codeMalformed, "nested")
	add("events/json 100k nested objects", "POST", PathEvents, js(), []byte(biNestJSON(100_000, true)), 400, codeMalformed, "nested")
	add("events/json 100k nested in an unknown key", "POST", PathEvents, js(), biJSONEvent(t, biEvent("n1", "deep", biNestJSON(100_000, false))...), 400, codeMalformed, "nested")
	add("events/json 100k nested in media", "POST", PathEvents, js(), biJSONEvent(t, biEvent("n1", "media", biNestJSON(100_000, false))...), 400, codeMalformed, "nested")
	add("events/json 33 nested in an unknown key", "POST", PathEvents, js(), biJSONEvent(t, biEvent("n1", "deep", biNestJSON(schema.MaxDepth, false))...), 400, codeMalformed, "nested deeper than 32")
	add("events/msgpack 100k nested arrays", "POST", PathEvents, mp(), biNest(100_000, false), 400, codeMalformed, "nested")
	add("events/msgpack 100k nested maps", "POST", PathEvents, mp(), []byte(biNest(100_000, true)), 400, codeMalformed, "nested")
	add("events/msgpack 100k nested in an unknown key", "POST", PathEvents, mp(), biMsgpackMap(t, biEvent("n1", "deep", biNest(100_000, false))...), 400, codeMalformed, "nested")
	add("events/msgpack 100k nested maps in an unknown key", "POST", PathEvents, mp(), biMsgpackMap(t, biEvent("n1", "deep", biNest(100_000, true))...), 400, codeMalformed, "nested")
	add("events/msgpack 300k nested in an unknown key", "POST", PathEvents, mp(), biMsgpackMap(t, biEvent("n1", "deep", biNest(300_000, false))...), 400, codeMalformed, "nested")
	add("events/msgpack 33 nested in an unknown key", "POST", PathEvents, mp(), biMsgpackMap(t, biEvent("n1", "deep", biNest(schema.MaxDepth, false))...), 400, codeMalformed, "nested deeper than 32")
	// Ids and users of the wrong shape.
	for _, id := range []string{"a b", "e/1", "é1", "e1\x00", strings.Repeat("i", schema.MaxIDLen+1)} {
		add(fmt.Sprintf("events/id %q", truncateName(id)), "POST", PathEvents, js(), biJSONEvent(t, biOverride(id, "id", id)...), 400, codeInvalidEvent, "id: must be")
	}
	add("events/object with a slash", "POST", PathEvents, js(), biJSONEvent(t, biEvent("o1", "object", "a/b")...), 400, codeInvalidEvent, "object")
	add("events/audience group of a bad id", "POST", PathEvents, js(), biJSONEvent(t, biEvent("o1", "audience", "group:a b")...), 400, codeInvalidEvent, "audience")
	add("events/actor negative", "POST", PathEvents, js(), biJSONEvent(t, biOverride("o1", "actor", -7)...), 400, codeInvalidEvent, "actor: must be a positive")
	add("events/target negative", "POST", PathEvents, js(), biJSONEvent(t, biEvent("o1", "target", -8)...), 400, codeInvalidEvent, "target")
	add("events/contract version 2", "POST", PathEvents, js(), biJSONEvent(t, biEvent("o1", "v", 2)...), 400, codeInvalidEvent, "contract version 2")
	add("events/ts in seconds", "POST", PathEvents, js(), biJSONEvent(t, biOverride("o1", "ts", testTS/1000)...), 400, codeInvalidEvent, "unix milliseconds")
	add("events/text not UTF-8 (msgpack)", "POST", PathEvents, mp(), biMsgpackMap(t, biOverride("o1", "text", "\xff\xfe")...), 400, codeMalformed, `invalid UTF-8 in field "text"`)
	add("events/text not UTF-8 (json)", "POST", PathEvents, js(), []byte("{\"id\":\"o1\",\"type\":\"post\",\"actor\":7,\"ts\":1699999999000,\"text\":\"\xff\xfe\"}"), 400, codeMalformed, `invalid UTF-8 in field "text"`)
	add("events/msgpack as someone else", "POST", PathEvents, mp(),
		biMsgpackMap(t, biOverride("o1", "actor", 8)...), 403, codeForbidden, "user 8")
	add("events/msgpack error body when asked for msgpack", "POST", PathEvents, mp("Accept", ContentTypeMsgpack), []byte{0x90}, 400, codeMalformed, "empty array")

	// GET /v1/feed, newest first (order=recent; TestGetFeedRefusals holds
	// limit 0, -1, 101, a word, 10^23 and the feed cursors).
	rec := PathFeed + "?order=recent&"
	add("feed recent/limit 10^9", "GET", rec+"limit=1000000000", h(), nil, 400, codeBadLimit, "from 1 to 100")
	add("feed recent/limit float", "GET", rec+"limit=1.5", h(), nil, 400, codeBadLimit, "")
	add("feed recent/limit hex", "GET", rec+"limit=0x10", h(), nil, 400, codeBadLimit, "")
	add("feed recent/ranked cursor", "GET", rec+"cursor="+b.rankCursors.Encode(7, ranking.Cursor{Snapshot: b.snapshot}), h(), nil, 400, codeBadCursor, "")
	add("feed recent/notifications cursor", "GET", rec+"cursor="+b.inboxCursors.Encode(7, notify.Position{TS: testTS, Group: "gift:g"}), h(), nil, 400, codeBadCursor, "")
	add("feed recent/cursor over the header limit", "GET", rec+"cursor="+strings.Repeat("A", 2*DefaultMaxHeaderBytes), h(), nil, 431, codeHeaderTooLarge, "")
	add("feed recent/user negative (service)", "GET", rec+"user=-1", h("Authorization", bearer(svc)), nil, 400, codeBadRequest, "positive user id")
	add("feed recent/user float (service)", "GET", rec+"user=1.5", h("Authorization", bearer(svc)), nil, 400, codeBadRequest, "")
	add("feed recent/user hex (service)", "GET", rec+"user=0x10", h("Authorization", bearer(svc)), nil, 400, codeBadRequest, "")
	add("feed recent/user over int64 (service)", "GET", rec+"user=99999999999999999999", h("Authorization", bearer(svc)), nil, 400, codeBadRequest, "")
	add("feed/order unknown", "GET", PathFeed+"?order=RANKED", h(), nil, 400, codeBadRequest, "order")
	add("feed/explain unknown", "GET", PathFeed+"?explain=2", h(), nil, 400, codeBadRequest, "explain")
	add("feed/body over 1 MiB", "GET", PathFeed, h("Expect", "100-continue", "Content-Type", jsonCT), huge, 413, codeTooLarge, "")

	// GET /v1/feed ranked.
	rk := PathFeed + "?order=ranked&"
	for _, l := range []string{"0", "-1", "101", "1000000000", "ten", "1e2", "0x10", "99999999999999999999999"} {
		add("feed ranked/limit "+l, "GET", rk+"limit="+l, h(), nil, 400, codeBadLimit, "")
	}
	good7 := b.rankCursors.Encode(7, ranking.Cursor{Snapshot: b.snapshot, Offset: 1})
	for _, c := range []struct{ name, cursor, msg string }{
		{"garbage", "!!!", "bad cursor"},
		{"empty after decoding", "AA", ""},
		{"recent cursor", b.cursors.Encode(7, timeline.Position{TS: testTS, ID: "x"}), "signature"},
		{"notifications cursor", b.inboxCursors.Encode(7, notify.Position{TS: testTS, Group: "gift:g"}), "signature"},
		{"of another viewer", b.rankCursors.Encode(8, ranking.Cursor{Snapshot: b.snapshot, Offset: 1}), "signature"},
		{"of another deployment", ranking.NewCursors([]byte("another-deployment-secret-0123")).Encode(7, ranking.Cursor{Snapshot: b.snapshot}), "signature"},
		{"tampered", flip(good7), ""},
		{"truncated", good7[:len(good7)-2], ""},
		{"too long", strings.Repeat("A", 600), "too long"},
		{"offset too large", b.rankCursors.Encode(7, ranking.Cursor{Snapshot: b.snapshot, Offset: 1 << 30}), ""},
	} {
		add("feed ranked/cursor "+c.name, "GET", rk+"cursor="+c.cursor, h(), nil, 400, codeBadCursor, c.msg)
	}
	cs = append(cs,
		badCase{name: "feed ranked/cursor past its snapshot", method: "GET", path: rk + "cursor=" + b.rankCursors.Encode(7, ranking.Cursor{Snapshot: b.snapshot, Offset: 50}),
			hdr: h(), status: 400, code: codeBadCursor, msg: "past the snapshot", reads: true},
		badCase{name: "feed ranked/cursor expired", method: "GET", path: rk + "cursor=" + b.rankCursors.Encode(7, ranking.Cursor{Snapshot: b.snapshot + 2, Offset: 1}),
			hdr: h(), status: 410, code: codeCursorExpired, msg: "reload", reads: true},
	)

	// GET /v1/notifications and unread_count.
	for _, l := range []string{"0", "-1", "101", "1000000000", "ten", "99999999999999999999999"} {
		add("notifications/limit "+l, "GET", PathNotifications+"?limit="+l, h(), nil, 400, codeBadLimit, "from 1 to 100")
	}
	goodN := b.inboxCursors.Encode(7, notify.Position{TS: testTS, Group: "class:7:p1"})
	for _, c := range []struct{ name, cursor string }{
		{"garbage", "!!!"},
		{"feed cursor", b.cursors.Encode(7, timeline.Position{TS: testTS, ID: "x"})},
		{"ranked cursor", good7},
		{"of another user", b.inboxCursors.Encode(8, notify.Position{TS: testTS, Group: "class:7:p1"})},
		{"of another deployment", notify.NewCursors([]byte("another-deployment-secret-0123")).Encode(7, notify.Position{TS: testTS, Group: "g"})},
		{"tampered", flip(goodN)},
		{"too long", strings.Repeat("A", 600)},
	} {
		add("notifications/cursor "+c.name, "GET", PathNotifications+"?cursor="+c.cursor, h(), nil, 400, codeBadCursor, "notifications cursor")
	}
	add("notifications/error body when asked for msgpack", "GET", PathNotifications+"?limit=0", h("Accept", ContentTypeMsgpack), nil, 400, codeBadLimit, "")

	// POST /v1/notifications/read.
	for _, ct := range []string{"text/plain", ContentTypeMsgpack, "application/x-www-form-urlencoded"} {
		add("read/content type "+ct, "POST", PathRead, h("Content-Type", ct), []byte(`{"up_to":"1-g"}`), 415, codeUnsupportedMedia, "application/json")
	}
	add("read/no content type", "POST", PathRead, h(), []byte(`{"up_to":"1-g"}`), 415, codeUnsupportedMedia, "application/json")
	add("read/gzip", "POST", PathRead, js("Content-Encoding", "gzip"), []byte(`{}`), 415, codeUnsupportedMedia, "compressed")
	add("read/body over 1 KiB", "POST", PathRead, js(), []byte(`{"up_to":"1-`+strings.Repeat("g", 1100)+`"}`), 413, codeTooLarge, "1024")
	add("read/body over 1 MiB", "POST", PathRead, js("Expect", "100-continue"), huge, 413, codeTooLarge, "")
	for _, body := range []string{`not json`, `{"up_to":`, `{"up_to":"1-g"`, `null`, `[]`, `"1-g"`, `{"up_to":1}`, `{"up_to":["1-g"]}`, `{"up_to":"1-g"} x`, ` `} {
		add(fmt.Sprintf("read/body %q", body), "POST", PathRead, js(), []byte(body), 400, codeMalformed, "up_to")
	}
	add("read/100k nested", "POST", PathRead, js(), []byte(biNestJSON(100_000, false)), 413, codeTooLarge, "")
	add("read/100 nested in up_to", "POST", PathRead, js(), []byte(`{"up_to":`+string(biNestJSON(100, false))+`}`), 400, codeMalformed, "")
	for _, id := range []string{"abc", "0-g", "-g", "12", "x-g", "1-", "-1-g", "99999999999999999999-g", "1-" + strings.Repeat("g", 300)} {
		add(fmt.Sprintf("read/up_to %q", truncateName(id)), "POST", PathRead, js(), mustJSON(t, map[string]string{"up_to": id}), 400, codeBadRequest, "notification id")
	}

	// GET, POST and DELETE /v1/push/subscriptions.
	sub := b.subJSON("https://push.example/a", "")
	for _, ct := range []string{"text/plain", ContentTypeMsgpack} {
		add("subscribe/content type "+ct, "POST", PathPushSubs, h("Content-Type", ct), sub, 415, codeUnsupportedMedia, "application/json")
	}
	add("subscribe/no content type", "POST", PathPushSubs, h(), sub, 415, codeUnsupportedMedia, "")
	add("subscribe/gzip", "POST", PathPushSubs, js("Content-Encoding", "gzip"), sub, 415, codeUnsupportedMedia, "compressed")
	add("subscribe/body over 4 KiB", "POST", PathPushSubs, js(), b.subJSON("https://push.example/"+strings.Repeat("a", 5000), ""), 413, codeTooLarge, "4096")
	add("subscribe/body over 1 MiB", "POST", PathPushSubs, js("Expect", "100-continue"), huge, 413, codeTooLarge, "")
	add("subscribe/100k nested", "POST", PathPushSubs, js(), []byte(biNestJSON(100_000, true)), 413, codeTooLarge, "")
	add("subscribe/1000 nested", "POST", PathPushSubs, js(), []byte(`{"keys":`+string(biNestJSON(1000, false))+`}`), 400, codeBadRequest, "json")
	for _, c := range []struct{ name, body, msg string }{
		{"empty", ``, "json"},
		{"not json", `hello`, "json"},
		{"truncated", string(sub[:len(sub)-10]), "json"},
		{"array", `[]`, "json"},
		{"trailing", string(sub) + ` {}`, "trailing"},
		{"endpoint a number", `{"endpoint":1}`, "json"},
		{"keys a string", `{"endpoint":"https://push.example/a","keys":"k"}`, "json"},
		{"expirationTime a string", `{"endpoint":"https://push.example/a","expirationTime":"soon"}`, "json"},
		{"lang a number", string(b.subJSON("https://push.example/a", `,"lang":5`)), "json"},
		{"no endpoint", string(b.subJSON("", "")), "endpoint"},
		{"endpoint over 2 KiB", string(b.subJSON("https://push.example/"+strings.Repeat("a", 2100), "")), "endpoint"},
		{"endpoint http", string(b.subJSON("http://push.example/a", "")), "https"},
		{"endpoint relative", string(b.subJSON("/a", "")), "absolute"},
		{"endpoint with user info", string(b.subJSON("https://u:p@push.example/a", "")), "user info"},
		{"no keys", `{"endpoint":"https://push.example/a"}`, "p256dh"},
		{"short auth", `{"endpoint":"https://push.example/a","keys":{"p256dh":"` + b.p256dh + `","auth":"AAAA"}}`, "auth"},
		{"lang with markup", string(b.subJSON("https://push.example/a", `,"lang":"<b>"`)), "lang"},
		{"lang over 35", string(b.subJSON("https://push.example/a", `,"lang":"`+strings.Repeat("a", 40)+`"`)), "lang"},
	} {
		add("subscribe/"+c.name, "POST", PathPushSubs, js(), []byte(c.body), 400, codeBadRequest, c.msg)
	}
	cs = append(cs, badCase{name: "subscribe/endpoint of a private address", method: "POST", path: PathPushSubs, hdr: js(),
		body: b.subJSON("https://internal.example/a", ""), status: 400, code: codeBadRequest, msg: "private address", reads: true})
	for _, id := range []string{"x", "../../etc/passwd", strings.ToUpper(subID), subID[:31], subID + "0", strings.Repeat("g", 32), strings.Repeat("a", 1000)} {
		add(fmt.Sprintf("unsubscribe/id %q", truncateName(id)), "DELETE", PathPushSubs+"?id="+id, h(), nil, 400, codeBadRequest, "subscription id")
	}
	add("unsubscribe/no id, no body", "DELETE", PathPushSubs, h(), nil, 400, codeMalformed, "?id=")
	add("unsubscribe/body text/plain", "DELETE", PathPushSubs, h("Content-Type", "text/plain"), []byte(`{"endpoint":"https://push.example/a"}`), 415, codeUnsupportedMedia, "")
	add("unsubscribe/body over 4 KiB", "DELETE", PathPushSubs, js(), mustJSON(t, map[string]string{"endpoint": "https://push.example/" + strings.Repeat("a", 5000)}), 413, codeTooLarge, "")
	add("unsubscribe/100k nested", "DELETE", PathPushSubs, js(), []byte(biNestJSON(100_000, false)), 413, codeTooLarge, "")
	for _, body := range []string{`null`, `[]`, `{}`, `{"endpoint":1}`, `{"endpoint":""}`, `{"endpoint":`, `"https://push.example/a"`} {
		add(fmt.Sprintf("unsubscribe/body %q", body), "DELETE", PathPushSubs, js(), []byte(body), 400, codeMalformed, "?id=")
	}
	return cs
}

// truncateName keeps subtest names short.
func truncateName(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%s…(%d bytes)", s[:24], len(s))
	}
	return s
}

// TestBadInput sends every refusal case to a server serving every route.
// Each must be a 4xx (never a 5xx) with a JSON (or negotiated msgpack)
// error body that has error and code, answer fast, and leave nothing
// behind: nothing published, nothing stored, and, unless the refusal
// depends on stored state, nothing even read.
func TestBadInput(t *testing.T) {
	e := newBadEnv(t)
	cases := e.cases(t)
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("two cases are named %q", tc.name)
		}
		names[tc.name] = true
	}
	counts := map[int]int{}
	for _, tc := range cases {
		counts[tc.status]++
		t.Run(tc.name, func(t *testing.T) {
			w0, r0 := e.counts()
			start := time.Now()
			r := e.do(t, tc.method, tc.path, tc.hdr, tc.body)
			took := time.Since(start)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if r.status < 400 || r.status > 499 {
				t.Fatalf("status %d is not a 4xx", r.status)
			}
			eb := r.errBody(t)
			if eb.Code != tc.code {
				t.Errorf("code %q, want %q (%s)", eb.Code, tc.code, eb.Error)
			}
			if !strings.Contains(eb.Error, tc.msg) {
				t.Errorf("error %q lacks %q", eb.Error, tc.msg)
			}
			want := ContentTypeJSON
			if tc.hdr["Accept"] == ContentTypeMsgpack {
				want = ContentTypeMsgpack
			}
			if ct := r.header.Get("Content-Type"); ct != want {
				t.Errorf("Content-Type %q, want %q", ct, want)
			}
			if r.status == 405 {
				if got, want := r.header.Get("Allow"), biAllow[strings.SplitN(tc.path, "?", 2)[0]]; got != want {
					t.Errorf("Allow %q, want %q", got, want)
				}
			}
			if r.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="lenta"`) {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if a := tc.hdr["Authorization"]; len(a) > 20 && strings.Contains(eb.Error, a[7:]) {
				t.Error("the error echoes the token")
			}
			w1, r1 := e.counts()
			if w1 != w0 {
				t.Fatalf("a refused request published or stored something (%d writes)", w1-w0)
			}
			if !tc.reads && r1 != r0 {
				t.Errorf("refused only after %d reads of the stores", r1-r0)
			}
			if took > 2*time.Second {
				t.Errorf("took %v to refuse", took)
			}
		})
	}
	if n := len(e.pub.Calls()); n != 0 {
		t.Fatalf("the publisher got %d calls", n)
	}
	t.Logf("%d cases: %v by status", len(cases), counts)
}

// TestBadInputUnknownFieldsIgnored: keys the contract does not know are
// accepted and ignored (a later version may add them), in both encodings
// and on every route with a body; and nesting up to schema.MaxDepth is
// fine.
func TestBadInputUnknownFieldsIgnored(t *testing.T) {
	e := newBadEnv(t)
	tok := e.token(t, 7, false)
	js := map[string]string{"Authorization": bearer(tok), "Content-Type": jsonCT}
	mp := map[string]string{"Authorization": bearer(tok), "Content-Type": ContentTypeMsgpack}
	inner := biNestJSON(schema.MaxDepth-2, true) // inside the event map and the unknown key's own object
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   []byte
		status int
		events []string // ids published
		writes int64    // other things stored
	}{
		{"events/json unknown scalar", "POST", PathEvents, js, biJSONEvent(t, biEvent("u1", "mood", "ok")...), 202, []string{"u1"}, 0},
		{"events/json unknown object and array", "POST", PathEvents, js,
			biJSONEvent(t, biEvent("u2", "geo", map[string]any{"lat": 55.7, "tags": []any{"a", 1, nil}}, "reactions", []any{map[string]any{"x": 1}})...), 202, []string{"u2"}, 0},
		{"events/json unknown key nested to the limit", "POST", PathEvents, js,
			biJSONEvent(t, biEvent("u3", "deep", json.RawMessage(`{"a":`+string(inner)+`}`))...), 202, []string{"u3"}, 0},
		{"events/json unknown keys in a batch", "POST", PathEvents, js,
			[]byte(`[` + string(biJSONEvent(t, biEvent("u4", "x", 1)...)) + `,` + string(biJSONEvent(t, biEvent("u5", "y", []int{1})...)) + `]`), 202, []string{"u4", "u5"}, 0},
		{"events/msgpack unknown scalar", "POST", PathEvents, mp, biMsgpackMap(t, biEvent("u6", "mood", "ok")...), 202, []string{"u6"}, 0},
		{"events/msgpack unknown bin, ext and map", "POST", PathEvents, mp,
			biMsgpackMap(t, biEvent("u7", "blob", []byte{0, 1, 2}, "when", testNow, "geo", map[string]any{"lat": 55.7, "tags": []any{"a", nil}})...), 202, []string{"u7"}, 0},
		{"events/msgpack unknown key nested to the limit", "POST", PathEvents, mp,
			biMsgpackMap(t, biEvent("u8", "deep", biNest(schema.MaxDepth-1, true))...), 202, []string{"u8"}, 0},
		{"events/msgpack unknown keys in a batch", "POST", PathEvents, mp,
			append([]byte{0x92}, append(biMsgpackMap(t, biEvent("u9", "x", 1)...), biMsgpackMap(t, biEvent("u10", "y", []int{1})...)...)...), 202, []string{"u9", "u10"}, 0},
		{"read/unknown keys", "POST", PathRead, js, []byte(`{"up_to":"1699999999000-class:3:p1","later":{"x":[1,2]}}`), 200, nil, 1},
		{"subscribe/unknown keys", "POST", PathPushSubs, js,
			[]byte(`{"endpoint":"https://push.example/u","expirationTime":null,"keys":{"p256dh":"` + e.p256dh + `","auth":"` + e.authKey +
				`","extra":"k"},"lang":"ru-RU","contentEncoding":"aes128gcm","later":[{"a":1}]}`), 201, nil, 1},
		{"unsubscribe/unknown keys", "DELETE", PathPushSubs, js, []byte(`{"endpoint":"https://push.example/u","reason":{"why":"user"}}`), 204, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.pub.Calls())
			w0 := e.fx.writes.Load()
			r := e.do(t, tc.method, tc.path, tc.hdr, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if w := e.fx.writes.Load() - w0; w != tc.writes {
				t.Errorf("%d writes to the stores, want %d", w, tc.writes)
			}
			calls := e.pub.Calls()[before:]
			if len(tc.events) == 0 {
				if len(calls) != 0 {
					t.Fatalf("published %d times", len(calls))
				}
				return
			}
			if len(calls) != 1 || len(calls[0]) != len(tc.events) {
				t.Fatalf("published %v, want once %v", calls, tc.events)
			}
			for i, ev := range calls[0] {
				id := tc.events[i]
				if ev.ID != id || ev.Type != schema.Post || ev.Actor != 7 || ev.Text != "x" || ev.TS != testTS || ev.Object != id || ev.V != schema.Version {
					t.Errorf("published %+v, want only the known fields of event %s", ev, id)
				}
			}
		})
	}
}

// FuzzBadInput sends arbitrary requests (route, method, query, content
// type, token, body) to the bare handler with every route served. No
// answer is a 5xx or a panic; every error has a JSON error body with error
// and code; a refused request publishes and stores nothing.
func FuzzBadInput(f *testing.F) {
	b := &badEnv{}
	pub := &lastPublisher{}
	mod := badConfig(f, b)
	b.testEnv = newServer(f, func(c *Config) {
		mod(c)
		c.Publisher = pub
		c.Log = nil
	})
	h := b.srv.Handler()
	tokens := []string{b.token(f, 7, false), b.token(f, 1, true), "", "x.y.z"}
	paths := []string{PathEvents, PathFeed, PathNotifications, PathUnread, PathRead, PathPushKey, PathPushSubs, PathHealth, "/nope"}
	methods := []string{"GET", "POST", "DELETE", "PUT", "HEAD"}
	types := []string{jsonCT, ContentTypeMsgpack, "text/plain", ""}

	f.Add(uint8(0), uint8(1), "", uint8(0), uint8(0), mustJSONf(post("f1", 7)))
	f.Add(uint8(0), uint8(1), "", uint8(1), uint8(0), mustMsgpackf([]schema.Event{post("f1", 7), post("f2", 7)}))
	f.Add(uint8(1), uint8(0), "order=ranked&limit=1&explain=1", uint8(0), uint8(0), []byte(nil))
	f.Add(uint8(1), uint8(0), "order=recent&limit=5&cursor="+b.cursors.Encode(7, timeline.Position{TS: testTS, ID: "x"}), uint8(0), uint8(1), []byte(nil))
	f.Add(uint8(1), uint8(0), "user=8&limit=0", uint8(0), uint8(1), []byte(nil))
	f.Add(uint8(2), uint8(0), "limit=3&cursor="+b.inboxCursors.Encode(7, notify.Position{TS: testTS, Group: "g"}), uint8(0), uint8(0), []byte(nil))
	f.Add(uint8(3), uint8(0), "", uint8(0), uint8(0), []byte(nil))
	f.Add(uint8(4), uint8(1), "", uint8(0), uint8(0), []byte(`{"up_to":"1699999999000-class:3:p1"}`))
	f.Add(uint8(4), uint8(1), "", uint8(3), uint8(0), []byte(nil))
	f.Add(uint8(6), uint8(1), "", uint8(0), uint8(0), []byte(`{"endpoint":"https://push.example/a","keys":{"p256dh":"`+b.p256dh+`","auth":"`+b.authKey+`"}}`))
	f.Add(uint8(6), uint8(2), "id="+notify.SubscriptionID("https://push.example/a"), uint8(3), uint8(0), []byte(nil))
	f.Add(uint8(6), uint8(2), "", uint8(0), uint8(0), []byte(`{"endpoint":"https://push.example/a"}`))
	f.Add(uint8(0), uint8(1), "", uint8(1), uint8(0), []byte(biMsgpackMap(f, biEvent("f3", "deep", biNest(40, false))...)))
	f.Add(uint8(0), uint8(1), "", uint8(0), uint8(2), []byte(biNestJSON(40, true)))

	f.Fuzz(func(t *testing.T, route, method uint8, query string, ct, tok uint8, body []byte) {
		path := paths[int(route)%len(paths)]
		if query != "" {
			path += "?" + query
		}
		hdr := map[string]string{}
		if c := types[int(ct)%len(types)]; c != "" {
			hdr["Content-Type"] = c
		}
		if s := tokens[int(tok)%len(tokens)]; s != "" {
			hdr["Authorization"] = bearer(s)
		}
		pub.mu.Lock()
		calls0 := pub.calls
		pub.mu.Unlock()
		w0 := b.fx.writes.Load()
		m := methods[int(method)%len(methods)]
		ctx := call(h, m, path, hdr, body)
		status := ctx.Response.StatusCode()
		pub.mu.Lock()
		published := pub.calls - calls0
		pub.mu.Unlock()
		writes := b.fx.writes.Load() - w0 + int64(published)
		if status >= 500 {
			t.Fatalf("%s %s: status %d: %s", m, path, status, ctx.Response.Body())
		}
		if status < 400 {
			return
		}
		if writes != 0 {
			t.Fatalf("%s %s: status %d after %d writes", m, path, status, writes)
		}
		if m == "HEAD" {
			return
		}
		var eb errorBody
		if err := json.Unmarshal(ctx.Response.Body(), &eb); err != nil || eb.Error == "" || eb.Code == "" {
			t.Fatalf("%s %s: status %d with no error body: %q", m, path, status, ctx.Response.Body())
		}
	})
}
