package webpush

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

func TestPolicyRefuses(t *testing.T) {
	tests := []struct {
		ip       string
		loopback bool
		refused  bool
	}{
		{"8.8.8.8", false, false},
		{"2a00:1450:4001::200e", false, false},
		{"127.0.0.1", false, true},
		{"127.0.0.1", true, false},
		{"::1", false, true},
		{"10.0.0.1", false, true},
		{"172.16.5.4", false, true},
		{"192.168.1.1", false, true},
		{"169.254.169.254", false, true}, // cloud metadata
		{"fe80::1", false, true},
		{"fd00:ec2::254", false, true}, // AWS metadata over IPv6
		{"100.100.100.200", false, true},
		{"0.0.0.0", false, true},
		{"::", false, true},
		{"224.0.0.1", false, true},
		{"::ffff:10.0.0.1", false, true}, // IPv4-mapped
		{"64:ff9b::a00:1", false, true},  // NAT64 of 10.0.0.1
		{"255.255.255.255", false, true},
		// Issue 11: every special-purpose, reserved or deprecated form.
		{"1.1.1.1", false, false},
		{"2606:4700:4700::1111", false, false},
		{"64:ff9b::808:808", false, false},                    // NAT64 of public 8.8.8.8
		{"::127.0.0.1", false, true},                          // IPv4-compatible (deprecated) embedding loopback
		{"::127.0.0.1", true, true},                           // still refused when loopback is allowed: not loopback, deprecated
		{"::8.8.8.8", false, true},                            // IPv4-compatible embedding a public address
		{"::ffff:127.0.0.1", false, true},                     // IPv4-mapped loopback
		{"::ffff:100.64.0.1", false, true},                    // IPv4-mapped CGNAT
		{"::ffff:169.254.169.254", false, true},               // IPv4-mapped metadata
		{"::ffff:8.8.8.8", false, false},                      // IPv4-mapped public
		{"::ffff:0:a00:1", false, true},                       // IPv4-translated (SIIT)
		{"64:ff9b::7f00:1", false, true},                      // NAT64 of loopback
		{"64:ff9b::a9fe:a9fe", false, true},                   // NAT64 of metadata
		{"64:ff9b:1::808:808", false, true},                   // local-use NAT64
		{"2002:7f00:1::1", false, true},                       // 6to4 of 127.0.0.1
		{"2002:808:808::1", false, true},                      // 6to4 (deprecated) even of a public address
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false, true}, // Teredo
		{"2001:2::1", false, true},                            // benchmarking
		{"2001:db8::1", false, true},                          // documentation
		{"3fff::1", false, true},                              // documentation (RFC 9637)
		{"100::1", false, true},                               // discard-only
		{"fc00::1", false, true},                              // unique-local
		{"fec0::1", false, true},                              // site-local (deprecated)
		{"ff02::1", false, true},                              // multicast
		{"ff05::1:3", false, true},                            // site-local multicast
		{"fe80::1%eth0", false, true},                         // zoned link-local
		{"2a00:1450:4001::200e%eth0", false, true},            // any zoned address
		{"5f00::1", false, true},                              // SRv6 SIDs
		{"100.64.0.1", false, true},                           // CGNAT
		{"100.127.255.254", false, true},                      // CGNAT end
		{"100.128.0.1", false, false},                         // just past CGNAT
		{"192.0.0.8", false, true},                            // IETF protocol assignments
		{"192.0.2.1", false, true},                            // TEST-NET-1
		{"198.18.0.1", false, true},                           // benchmarking
		{"198.19.255.255", false, true},                       // benchmarking end
		{"198.51.100.7", false, true},                         // TEST-NET-2
		{"203.0.113.9", false, true},                          // TEST-NET-3
		{"192.88.99.1", false, true},                          // 6to4 relay anycast (deprecated)
		{"192.31.196.1", false, true},                         // AS112
		{"192.175.48.1", false, true},                         // AS112
		{"240.0.0.1", false, true},                            // reserved
		{"0.1.2.3", false, true},                              // "this network"
		{"239.255.255.250", false, true},                      // multicast
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			why := Policy{AllowLoopback: tt.loopback}.Refused(netip.MustParseAddr(tt.ip))
			if (why != "") != tt.refused {
				t.Errorf("Refused(%s) = %q, want refused %v", tt.ip, why, tt.refused)
			}
		})
	}
}

// fakeResolver maps names to addresses; calls counts lookups.
func fakeResolver(m map[string][]string, calls *atomic.Int32) Resolver {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if calls != nil {
			calls.Add(1)
		}
		var out []netip.Addr
		for _, s := range m[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if len(out) == 0 {
			return nil, errors.New("no such host")
		}
		return out, nil
	}
}

func newTestTransport(t *testing.T, p Policy, r Resolver) *Transport {
	t.Helper()
	k, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(Config{Keys: k, Subject: "mailto:test@example.org", Policy: p, Resolve: r, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func TestCheckEndpointAtSubscribe(t *testing.T) {
	tr := newTestTransport(t, Policy{}, fakeResolver(map[string][]string{
		"push.example":     {"93.184.216.34"},
		"internal.example": {"10.1.2.3"},
		"mixed.example":    {"93.184.216.34", "192.168.0.1"},
	}, nil))
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"https://push.example/x", true},
		{"http://push.example/x", false},
		{"https://internal.example/x", false}, // a name that resolves to a private address
		{"https://mixed.example/x", false},
		{"https://10.0.0.1/x", false},
		{"https://[::1]/x", false},
		{"https://[::127.0.0.1]/x", false},
		{"https://[::ffff:127.0.0.1]/x", false},
		{"https://[::ffff:7f00:1]/x", false},
		{"https://[64:ff9b::7f00:1]/x", false},
		{"https://[2002:7f00:1::1]/x", false},
		{"https://[fd00:ec2::254]/x", false},
		{"https://[2606:4700:4700::1111]/x", true},
		{"https://100.64.0.1/x", false},
		{"https://169.254.169.254/x", false},
		{"https://nowhere.example/x", false},
		{"https://user:pw@push.example/x", false},
	}
	for _, tt := range tests {
		err := tr.CheckEndpoint(t.Context(), tt.endpoint)
		if (err == nil) != tt.ok {
			t.Errorf("CheckEndpoint(%s) = %v, want ok %v", tt.endpoint, err, tt.ok)
		}
		if err != nil && !errors.Is(err, notify.ErrBadSubscription) {
			t.Errorf("CheckEndpoint(%s) error %v is not ErrBadSubscription", tt.endpoint, err)
		}
	}
}

func testSub(t *testing.T, endpoint string) *notify.Subscription {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return &notify.Subscription{User: 1, ID: notify.SubscriptionID(endpoint), Endpoint: endpoint,
		P256dh: base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(auth)}
}

// A name that was public when the browser subscribed and resolves to a
// private address when the push is sent (DNS rebinding) is refused at dial
// time, before any packet leaves.
func TestDialTimeRefusesRebinding(t *testing.T) {
	var calls atomic.Int32
	names := map[string][]string{"rebind.example": {"93.184.216.34"}}
	tr := newTestTransport(t, Policy{}, fakeResolver(names, &calls))
	if err := tr.CheckEndpoint(t.Context(), "https://rebind.example/p"); err != nil {
		t.Fatal(err)
	}
	names["rebind.example"] = []string{"10.9.8.7"}
	_, err := tr.Send(t.Context(), testSub(t, "https://rebind.example/p"), &notify.Message{Payload: []byte("{}"), TTL: time.Minute})
	if !errors.Is(err, notify.ErrRefused) {
		t.Fatalf("Send after rebinding = %v, want ErrRefused", err)
	}
	// Loopback is refused at dial time too, whatever the URL says.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(201) }))
	defer srv.Close()
	tr2 := newTestTransport(t, Policy{AllowHTTP: true}, nil)
	_, err = tr2.Send(t.Context(), testSub(t, srv.URL+"/p"), &notify.Message{Payload: []byte("{}"), TTL: time.Minute})
	if !errors.Is(err, notify.ErrRefused) {
		t.Fatalf("Send to loopback = %v, want ErrRefused", err)
	}
}

func TestSendHeadersRedirectsAndBoundedReads(t *testing.T) {
	var hits atomic.Int32
	var got http.Header
	var bodyLen int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		got = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		bodyLen = len(b)
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(strings.Repeat("x", 1<<20))) // a huge answer is not read whole
	}))
	defer srv.Close()
	tr := newTestTransport(t, Policy{AllowHTTP: true, AllowLoopback: true}, nil)
	out, err := tr.Send(t.Context(), testSub(t, srv.URL+"/p"),
		&notify.Message{Payload: []byte(`{"a":1}`), TTL: 90 * time.Second, Urgency: "high", Topic: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != 429 || out.RetryAfter != 7*time.Second {
		t.Errorf("outcome %+v", out)
	}
	if got.Get("TTL") != "90" || got.Get("Urgency") != "high" || got.Get("Topic") != "abc" ||
		!strings.HasPrefix(got.Get("Authorization"), "vapid t=") || bodyLen != RecordSize {
		t.Errorf("headers %v, body %d bytes", got, bodyLen)
	}
	out, err = tr.Send(t.Context(), testSub(t, srv.URL+"/redirect"), &notify.Message{Payload: []byte("{}"), TTL: time.Minute})
	if err != nil || out.Status != http.StatusFound || hits.Load() != 2 {
		t.Errorf("redirect: %+v %v, %d hits (must not follow)", out, err, hits.Load())
	}
}

func TestKeys(t *testing.T) {
	k, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeys(k.Public, k.Private); err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKeys()
	if _, err := ParseKeys(other.Public, k.Private); err == nil {
		t.Error("mismatched pair accepted")
	}
	if _, err := ParseKeys("", "not base64!"); err == nil {
		t.Error("junk private key accepted")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"junk", 0}, {"-3", 0}, {"999999", 24 * time.Hour},
		{"9223372037", 24 * time.Hour}, {"9223372036854775807", 24 * time.Hour},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// BenchmarkSend measures pushes per second to a local receiver: VAPID
// signing, RFC 8291 encryption and one HTTP round trip each, on kept-alive
// connections.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	k, _ := GenerateKeys()
	tr, err := New(Config{Keys: k, Subject: "mailto:bench@example.org", Policy: Policy{AllowHTTP: true, AllowLoopback: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	sub := &notify.Subscription{Endpoint: srv.URL + "/p", P256dh: base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()),
		Auth: base64.RawURLEncoding.EncodeToString(make([]byte, 16))}
	msg := &notify.Message{Payload: []byte(`{"title":"Lenta","body":"Anna and 12 others gave Class! to your photo","url":"/#notifications"}`),
		TTL: time.Hour, Topic: "t"}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := tr.Send(context.Background(), sub, msg)
			if err != nil || out.Status != 201 {
				b.Error(out, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
}

// The dial-time check (Control, with the socket's final address) refuses
// the same forms as subscribe, so a name resolving to one is refused
// before connect(2).
func TestControlRefusesSpecialForms(t *testing.T) {
	g := &guard{policy: Policy{}}
	for _, addr := range []string{
		"[::127.0.0.1]:443", "[::ffff:127.0.0.1]:443", "[64:ff9b::a00:1]:443",
		"[2002:a00:1::1]:443", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]:443",
		"100.64.0.1:443", "[fe80::1%lo]:443", "[fc00::1]:443", "198.18.0.1:443",
	} {
		if err := g.control("tcp", addr, nil); !errors.Is(err, notify.ErrRefused) {
			t.Errorf("control(%s) = %v, want ErrRefused", addr, err)
		}
	}
	for _, addr := range []string{"8.8.8.8:443", "[2606:4700:4700::1111]:443", "[64:ff9b::808:808]:443"} {
		if err := g.control("tcp", addr, nil); err != nil {
			t.Errorf("control(%s) = %v, want nil", addr, err)
		}
	}
	// A name resolving to an IPv4-compatible loopback is refused at dial time.
	tr := newTestTransport(t, Policy{}, fakeResolver(map[string][]string{"sneaky.example": {"::127.0.0.1"}}, nil))
	_, err := tr.Send(t.Context(), testSub(t, "https://sneaky.example/x"), &notify.Message{Payload: []byte("{}"), TTL: time.Minute})
	if !errors.Is(err, notify.ErrRefused) {
		t.Fatalf("Send to ::127.0.0.1 = %v, want ErrRefused", err)
	}
}
