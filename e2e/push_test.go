package e2e

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// pushMsg is one push the receiver got, decrypted and checked.
type pushMsg struct {
	Payload map[string]any
	TTL     int
	Urgency string
	Topic   string
	Status  int // what the receiver answered
}

// receiver is an RFC 8030 push service for one subscription: it decrypts
// each message (RFC 8291, aes128gcm) with the subscription's private key,
// checks the VAPID JWT (RFC 8292) and answers with the next scripted
// status (201 when the script is empty).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	ua     *ecdh.PrivateKey
	auth   []byte
	vapid  string // expected VAPID public key (base64url)
	mu     sync.Mutex
	script []int
	down   bool // answer 503 to everything
	got    []pushMsg
	errs   []error
	hits   int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, ua: ua, auth: make([]byte, 16)}
	_, _ = rand.Read(r.auth)
	r.srv = httptest.NewServer(http.HandlerFunc(r.handle))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) endpoint() string { return r.srv.URL + "/push/sub-1" }

// subscription is the browser's PushSubscription.toJSON().
func (r *receiver) subscription(lang string) []byte {
	b, _ := json.Marshal(map[string]any{"endpoint": r.endpoint(), "expirationTime": nil, "lang": lang,
		"keys": map[string]string{"p256dh": base64.RawURLEncoding.EncodeToString(r.ua.PublicKey().Bytes()),
			"auth": base64.RawURLEncoding.EncodeToString(r.auth)}})
	return b
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	m, err := r.check(req, body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	status := http.StatusCreated
	switch {
	case r.down:
		status = http.StatusServiceUnavailable
	case len(r.script) > 0:
		status, r.script = r.script[0], r.script[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if err != nil {
		r.errs = append(r.errs, err)
	} else {
		m.Status = status
		r.got = append(r.got, m)
	}
	w.WriteHeader(status)
}

func (r *receiver) check(req *http.Request, body []byte) (pushMsg, error) {
	var m pushMsg
	if req.Method != http.MethodPost || req.Header.Get("Content-Encoding") != "aes128gcm" {
		return m, fmt.Errorf("want POST with Content-Encoding aes128gcm, got %s %q", req.Method, req.Header.Get("Content-Encoding"))
	}
	if err := r.checkVAPID(req.Header.Get("Authorization")); err != nil {
		return m, err
	}
	plain, err := decrypt(r.ua, r.auth, body)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(plain, &m.Payload); err != nil {
		return m, fmt.Errorf("payload is not JSON: %v", err)
	}
	m.TTL, _ = strconv.Atoi(req.Header.Get("TTL"))
	m.Urgency, m.Topic = req.Header.Get("Urgency"), req.Header.Get("Topic")
	return m, nil
}

// checkVAPID verifies "vapid t=<jwt>, k=<key>" (RFC 8292): the key is the
// service's, the ES256 signature verifies with it, aud is this origin, exp
// is in the future and at most 24 hours away, sub is a mailto: or https:.
func (r *receiver) checkVAPID(h string) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not the vapid scheme", h)
	}
	var tok, key string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			tok = v
		case "k":
			key = v
		}
	}
	if key != r.vapid {
		return fmt.Errorf("VAPID key %q is not the service's %q", key, r.vapid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(raw) != 65 {
		return fmt.Errorf("VAPID key is not a base64url P-256 point")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return fmt.Errorf("VAPID key: %v", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired())
	if err != nil {
		return fmt.Errorf("VAPID JWT: %v", err)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != r.srv.URL {
		return fmt.Errorf("VAPID aud %v, want %s", aud, r.srv.URL)
	}
	exp, _ := claims.GetExpirationTime()
	if d := time.Until(exp.Time); d <= 0 || d > 24*time.Hour {
		return fmt.Errorf("VAPID exp is %v away, want within 24h", d)
	}
	if sub, _ := claims.GetSubject(); !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return fmt.Errorf("VAPID sub %q", sub)
	}
	return nil
}

// decrypt opens an aes128gcm body (RFC 8188) with the RFC 8291 keys.
func decrypt(ua *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body too short")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, errors.New("bad keyid")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, fmt.Errorf("one record of %d bytes is over rs %d", len(ct), rs)
	}
	secret, err := ua.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...), asPub.Bytes()...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	blk, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(blk)
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %v", err)
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}

func (r *receiver) setScript(statuses ...int) {
	r.mu.Lock()
	r.script = statuses
	r.mu.Unlock()
}

// wait returns the messages once there are at least n.
func (r *receiver) wait(n int, within time.Duration) []pushMsg {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got, errs := append([]pushMsg(nil), r.got...), append([]error(nil), r.errs...)
		r.mu.Unlock()
		if len(errs) > 0 {
			r.t.Fatalf("receiver: %v", errs)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("receiver got %d pushes, want %d", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// delivered returns the messages answered with 201.
func (r *receiver) delivered() []pushMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pushMsg
	for _, m := range r.got {
		if m.Status == http.StatusCreated {
			out = append(out, m)
		}
	}
	return out
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// pushArgs let feedd push to this machine's loopback receiver.
var pushArgs = []string{"--push-allow-loopback", "--push-allow-http", "--log-level", "debug"}

// pushFeedd starts a feedd on backend args that may push to this
// machine's loopback receiver.
func pushFeedd(t *testing.T, args []string) (*feedd, *receiver) {
	f := startFeedd(t, append(append([]string(nil), args...), pushArgs...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(grepLog(f.Log(), "push"))
		}
	})
	r := newReceiver(t)
	code, body := f.do("GET", "/v1/push/key", "", "", nil)
	var k struct{ Key string }
	if code != 200 || json.Unmarshal(body, &k) != nil || k.Key == "" {
		t.Fatalf("push key: %d %s", code, body)
	}
	r.vapid = k.Key
	return f, r
}

func (f *feedd) subscribe(user int64, sub []byte) (int, []byte) {
	return f.do("POST", "/v1/push/subscriptions", token(f.t, user, false), "application/json", sub)
}

func (f *feedd) devices(user int64) int {
	f.t.Helper()
	code, body := f.do("GET", "/v1/push/subscriptions", token(f.t, user, false), "", nil)
	var out struct{ Items []json.RawMessage }
	if code != 200 || json.Unmarshal(body, &out) != nil {
		f.t.Fatalf("devices: %d %s", code, body)
	}
	return len(out.Items)
}

func TestPushEndToEnd(t *testing.T) { eachBackend(t, pushEndToEnd) }

func pushEndToEnd(t *testing.T, args []string) {
	f, r := pushFeedd(t, args)
	now := time.Now().UnixMilli()
	f.publish(ev{"id": "f1", "type": "friend", "actor": 1, "target": 2, "ts": now - 5000},
		ev{"id": "p1", "type": "photo", "actor": 1, "media": []string{"m1"}, "ts": now - 4000})
	f.settle(2)
	if code, body := f.subscribe(1, r.subscription("ru-RU")); code != 201 {
		t.Fatalf("subscribe: %d %s", code, body)
	}

	// Class: one push, in Russian, decrypted, with a topic and hours of TTL.
	f.publish(ev{"id": "c1", "type": "class", "actor": 2, "target": 1, "object": "p1", "ts": time.Now().UnixMilli()})
	m := r.wait(1, 15*time.Second)[0]
	if m.Payload["type"] != "class" || !strings.Contains(m.Payload["body"].(string), "Класс") ||
		m.TTL < 3600 || m.TTL > 6*3600 || m.Urgency != "normal" || len(m.Topic) != 32 {
		t.Fatalf("class push: %+v", m)
	}

	// Gift, then a broadcast (urgent, lives until the broadcast ends).
	f.publish(ev{"id": "g1", "type": "gift", "actor": 2, "target": 1, "text": "rose", "ts": time.Now().UnixMilli()})
	r.wait(2, 15*time.Second)
	until := time.Now().Add(time.Hour).UnixMilli()
	f.publish(ev{"id": "l1", "type": "live", "actor": 2, "until": until, "ts": time.Now().UnixMilli()})
	got := r.wait(3, 15*time.Second)
	if got[1].Payload["type"] != "gift" {
		t.Errorf("gift push: %+v", got[1])
	}
	if l := got[2]; l.Payload["type"] != "live" || l.Urgency != "high" || l.TTL > 3600 || l.TTL < 3500 || l.Topic == m.Topic {
		t.Errorf("live push: %+v", l)
	}

	// A burst of 30 Class marks on one photo is one push, not thirty.
	var burst []ev
	for u := int64(10); u < 40; u++ {
		burst = append(burst, ev{"id": fmt.Sprintf("cb%d", u), "type": "class", "actor": u, "target": 1, "object": "p1",
			"ts": time.Now().UnixMilli()})
	}
	f.publish(burst...)
	r.wait(4, 15*time.Second)
	time.Sleep(4 * time.Second) // a second push would have come by now
	got = r.wait(4, time.Second)
	if len(got) > 5 {
		t.Errorf("a burst of 30 marks made %d pushes", len(got)-3)
	}
	if last := got[len(got)-1]; !strings.Contains(last.Payload["body"].(string), "ещё") {
		t.Errorf("burst push does not aggregate: %v", last.Payload)
	}

	// The inbox: grouped, with an unread count, and read up to an id.
	code, body := f.do("GET", "/v1/notifications?limit=10", token(t, 1, false), "", nil)
	var inbox struct {
		Items []struct {
			ID         string
			Type       string
			ActorCount int `json:"actor_count"`
			Read       bool
		}
	}
	if code != 200 || json.Unmarshal(body, &inbox) != nil || len(inbox.Items) != 3 {
		t.Fatalf("inbox: %d %s", code, body)
	}
	if it := inbox.Items[0]; it.Type != "class" || it.ActorCount != 31 {
		t.Errorf("class group: %+v", it)
	}
	unread := func() int {
		_, b := f.do("GET", "/v1/notifications/unread_count", token(t, 1, false), "", nil)
		var u struct{ Count int }
		_ = json.Unmarshal(b, &u)
		return u.Count
	}
	if n := unread(); n != 3 {
		t.Errorf("unread = %d, want 3", n)
	}
	rb, _ := json.Marshal(map[string]string{"up_to": inbox.Items[1].ID})
	if code, body := f.do("POST", "/v1/notifications/read", token(t, 1, false), "application/json", rb); code != 200 {
		t.Fatalf("read: %d %s", code, body)
	}
	if n := unread(); n != 1 {
		t.Errorf("unread after reading up to the second = %d, want 1", n)
	}

	// The push service says the subscription is gone: it is deleted.
	r.setScript(http.StatusGone)
	hits := r.count()
	f.publish(ev{"id": "g2", "type": "gift", "actor": 2, "target": 1, "ts": time.Now().UnixMilli()})
	deadline := time.Now().Add(15 * time.Second)
	for f.devices(1) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription still there after 410")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.count() != hits+1 {
		t.Errorf("receiver hits: %d, want %d", r.count(), hits+1)
	}
	if n := f.metric("lenta_push_subscriptions_removed_total"); n != 1 {
		t.Errorf("lenta_push_subscriptions_removed_total = %v, want 1", n)
	}
	if n := f.metric("lenta_push_sent_total"); n < 4 {
		t.Errorf("lenta_push_sent_total = %v, want at least 4", n)
	}
}

func TestPushRetriesAndStale(t *testing.T) { eachBackend(t, pushRetriesAndStale) }

func pushRetriesAndStale(t *testing.T, args []string) {
	f, r := pushFeedd(t, args)
	if code, body := f.subscribe(5, r.subscription("en")); code != 201 {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	// 429 with Retry-After, then 503: retried, then delivered.
	r.setScript(http.StatusTooManyRequests, http.StatusServiceUnavailable)
	f.publish(ev{"id": "g1", "type": "gift", "actor": 6, "target": 5, "ts": time.Now().UnixMilli()})
	got := r.wait(3, 20*time.Second)
	if got[0].Status != 429 || got[1].Status != 503 || got[2].Status != 201 || got[2].Payload["id"] != got[0].Payload["id"] {
		t.Fatalf("attempts: %+v", got)
	}
	if !strings.Contains(got[2].Payload["body"].(string), "sent you a gift") {
		t.Errorf("english text: %v", got[2].Payload)
	}
	if n := f.metric("lenta_push_retried_total"); n != 2 {
		t.Errorf("lenta_push_retried_total = %v, want 2", n)
	}
	if n := f.metric("lenta_push_send_duration_seconds_count"); n != 3 {
		t.Errorf("lenta_push_send_duration_seconds_count = %v, want 3", n)
	}
	// A notification older than its TTL is kept in the inbox, never pushed.
	f.publish(ev{"id": "c-old", "type": "class", "actor": 6, "target": 5, "object": "x1",
		"ts": time.Now().Add(-7 * time.Hour).UnixMilli()})
	f.settle(2)
	time.Sleep(4 * time.Second)
	if n := r.count(); n != 3 {
		t.Errorf("a stale notification was pushed: %d requests", n)
	}
	_, body := f.do("GET", "/v1/notifications", token(t, 5, false), "", nil)
	if !strings.Contains(string(body), `"class"`) {
		t.Errorf("stale class missing from the inbox: %s", body)
	}
}

func TestPushSubscribeRefusesPrivateEndpoints(t *testing.T) {
	eachBackend(t, pushSubscribeRefusesPrivateEndpoints)
}

func pushSubscribeRefusesPrivateEndpoints(t *testing.T, args []string) {
	f := startFeedd(t, args...) // production policy
	r := newReceiver(t)
	good := func(endpoint string) []byte {
		var m map[string]any
		_ = json.Unmarshal(r.subscription("en"), &m)
		m["endpoint"] = endpoint
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct{ name, endpoint string }{
		{"http", "http://push.example.com/x"},
		{"loopback", "https://127.0.0.1/x"},
		{"loopback receiver", strings.Replace(r.endpoint(), "http:", "https:", 1)},
		{"ipv6 loopback", "https://[::1]/x"},
		{"private 10/8", "https://10.1.2.3/x"},
		{"private 192.168", "https://192.168.0.10/x"},
		{"link-local metadata", "https://169.254.169.254/latest/meta-data"},
		{"name of loopback", "https://localhost:8443/x"},
		{"ipv6 private", "https://[fd00:ec2::254]/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.subscribe(1, good(tc.endpoint))
			if code != 400 {
				t.Errorf("%s: %d %s", tc.endpoint, code, body)
			}
		})
	}
	if n := f.devices(1); n != 0 {
		t.Errorf("%d subscriptions stored", n)
	}
}

// grepLog keeps the log lines that mention what.
func grepLog(log, what string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, what) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
