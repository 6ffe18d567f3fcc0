package httpapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fakeClock is a settable time for the rate limiters.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitedServer is a server with the given limits and a stopped clock.
func limitedServer(t *testing.T, mod func(*Config)) (*testEnv, *fakeClock) {
	t.Helper()
	e := newServer(t, mod)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e.srv.clock = clk.now
	return e, clk
}

// callFrom runs the bare handler on a request from addr.
func callFrom(h fasthttp.RequestHandler, addr, method, path string, hdr map[string]string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(addr), Port: 40000}, nil)
	h(ctx)
	return ctx
}

// checkLimited asserts a 429 with the error body and a Retry-After of want
// seconds.
func checkLimited(t *testing.T, ctx *fasthttp.RequestCtx, want string) {
	t.Helper()
	if ctx.Response.StatusCode() != 429 {
		t.Fatalf("status %d, want 429: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	r := result{status: 429, header: http.Header{"Content-Type": {string(ctx.Response.Header.ContentType())}}, body: ctx.Response.Body()}
	if eb := r.errBody(t); eb.Code != codeRateLimited {
		t.Fatalf("code %q", eb.Code)
	}
	if got := string(ctx.Response.Header.Peek(fasthttp.HeaderRetryAfter)); got != want {
		t.Fatalf("Retry-After %q, want %q", got, want)
	}
}

func TestRateLimitPerToken(t *testing.T) {
	e, clk := limitedServer(t, func(c *Config) {
		c.RatePerAddress = -1
		c.RatePerToken = 0.5 // a token every 2 s
		c.BurstPerToken = 3
	})
	h := e.srv.Handler()
	anna, boris := e.token(t, 7, false), e.token(t, 8, false)
	annaSvc := e.token(t, 7, true)
	auth := func(tok string) map[string]string { return map[string]string{"Authorization": bearer(tok)} }
	const addr = "192.0.2.10"

	steps := []struct {
		name    string
		method  string
		path    string
		tok     string
		accept  string
		advance time.Duration
		status  int
		retry   string
	}{
		{"anna 1", "GET", PathFeed, anna, "", 0, 200, ""},
		{"anna 2", "GET", PathFeed, anna, "", 0, 200, ""},
		{"anna 3, another route", "POST", PathEvents, anna, "", 0, 415, ""}, // counted: the token was verified
		{"anna over the burst", "GET", PathFeed, anna, "", 0, 429, "2"},
		{"anna over, msgpack", "GET", PathFeed, anna, ContentTypeMsgpack, 0, 429, "2"},
		{"boris, same address", "GET", PathFeed, boris, "", 0, 200, ""},
		{"anna's service token counts apart", "GET", PathFeed + "?user=7", annaSvc, "", 0, 200, ""},
		{"a bad token is a 401, not a bucket", "GET", PathFeed, anna + "x", "", 0, 401, ""},
		{"half a token later", "GET", PathFeed, anna, "", time.Second, 429, "1"},
		{"one token later", "GET", PathFeed, anna, "", time.Second, 200, ""},
		{"and empty again", "GET", PathFeed, anna, "", 0, 429, "2"},
	}
	for _, st := range steps {
		clk.add(st.advance)
		hdr := auth(st.tok)
		if st.accept != "" {
			hdr["Accept"] = st.accept
		}
		ctx := callFrom(h, addr, st.method, st.path, hdr)
		if st.status == 429 {
			checkLimited(t, ctx, st.retry)
			if st.accept == ContentTypeMsgpack && string(ctx.Response.Header.ContentType()) != ContentTypeMsgpack {
				t.Fatalf("%s: 429 in %q", st.name, ctx.Response.Header.ContentType())
			}
			continue
		}
		if got := ctx.Response.StatusCode(); got != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, got, st.status, ctx.Response.Body())
		}
	}
	if n := e.srv.tokenLimit.len(); n != 3 {
		t.Fatalf("%d token buckets, want 3 (anna, boris, anna as service)", n)
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	e, clk := limitedServer(t, func(c *Config) {
		c.RatePerAddress = 1
		c.BurstPerAddress = 2
		c.RatePerToken = -1
	})
	h := e.srv.Handler()
	tok := e.token(t, 7, false)
	tests := []struct {
		name  string
		addrs []string // all share one bucket
	}{
		{"IPv4", []string{"192.0.2.1"}},
		{"IPv4-mapped IPv6 is the IPv4 address", []string{"::ffff:192.0.2.2", "192.0.2.2"}},
		{"one IPv6 /64", []string{"2001:db8::1", "2001:db8::ffff:2"}},
		{"the next /64", []string{"2001:db8:0:1::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 {
				a := tt.addrs[i%len(tt.addrs)]
				if ctx := callFrom(h, a, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}); ctx.Response.StatusCode() != 200 {
					t.Fatalf("request %d from %s: %d", i, a, ctx.Response.StatusCode())
				}
			}
			for _, a := range tt.addrs {
				// Limited before anything else: no token, unknown path, wrong method.
				checkLimited(t, callFrom(h, a, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}), "1")
				checkLimited(t, callFrom(h, a, "GET", PathFeed, nil), "1")
				checkLimited(t, callFrom(h, a, "GET", "/nope", nil), "1")
				checkLimited(t, callFrom(h, a, "DELETE", PathEvents, nil), "1")
			}
		})
	}
	if n := e.srv.addrLimit.len(); n != len(tests) {
		t.Fatalf("%d address buckets, want %d", n, len(tests))
	}
	clk.add(time.Second)
	if ctx := callFrom(h, "192.0.2.1", "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}); ctx.Response.StatusCode() != 200 {
		t.Fatalf("after a second: %d", ctx.Response.StatusCode())
	}
}

func TestRateLimitExemptRoutes(t *testing.T) {
	e, _ := limitedServer(t, func(c *Config) {
		c.RatePerAddress, c.BurstPerAddress = 1, 1
		c.RatePerToken, c.BurstPerToken = 1, 1
	})
	h := e.srv.Handler()
	const addr = "192.0.2.3"
	tok := e.token(t, 7, false)
	if ctx := callFrom(h, addr, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}); ctx.Response.StatusCode() != 200 {
		t.Fatalf("first request: %d", ctx.Response.StatusCode())
	}
	checkLimited(t, callFrom(h, addr, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}), "1")
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", PathHealth, 200},
		{"HEAD", PathHealth, 200},
		{"GET", PathMetrics, 200},
		{"POST", PathHealth, 405}, // exempt from the limit, not from the method check
	}
	for _, tt := range tests {
		for i := range 50 {
			hdr := map[string]string{"Authorization": bearer(tok)} // a token does not matter there
			if ctx := callFrom(h, addr, tt.method, tt.path, hdr); ctx.Response.StatusCode() != tt.status {
				t.Fatalf("%s %s #%d: %d", tt.method, tt.path, i, ctx.Response.StatusCode())
			}
		}
	}
	checkLimited(t, callFrom(h, addr, "GET", PathFeed, map[string]string{"Authorization": bearer(tok)}), "1")
}

// TestRateLimitOverHTTP checks the 429 as a client sees it, through Serve,
// per address with a real (in-memory) connection address.
func TestRateLimitOverHTTP(t *testing.T) {
	e := newServer(t, func(c *Config) {
		c.RatePerAddress, c.BurstPerAddress = 0.001, 2
		c.RatePerToken = -1
	})
	ln := e.serve(t)
	client := func(ip string) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(context.Context, string, string) (net.Conn, error) {
				return ln.DialWithLocalAddr(&net.TCPAddr{IP: net.ParseIP(ip), Port: 50000})
			}}}
	}
	a, b := client("198.51.100.1"), client("198.51.100.2")
	defer a.CloseIdleConnections()
	defer b.CloseIdleConnections()
	get := func(c *http.Client, path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get("http://lenta.test" + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for range 2 {
		if r, body := get(a, PathPushKey); r.StatusCode != 404 {
			t.Fatalf("within the burst: %d %s", r.StatusCode, body)
		}
	}
	r, body := get(a, PathPushKey)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "1000" || r.Header.Get("Content-Type") != ContentTypeJSON ||
		!strings.Contains(body, `"code":"rate_limited"`) {
		t.Fatalf("over the limit: %d Retry-After %q: %s", r.StatusCode, r.Header.Get("Retry-After"), body)
	}
	if r, _ := get(a, PathHealth); r.StatusCode != 200 {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
	if r, _ := get(b, PathPushKey); r.StatusCode != 404 {
		t.Fatalf("another address: %d", r.StatusCode)
	}
}

func TestLimiterTableBounded(t *testing.T) {
	const entries = 64
	e, clk := limitedServer(t, func(c *Config) {
		c.RatePerAddress, c.BurstPerAddress = 1, 1
		c.RatePerToken, c.BurstPerToken = 1, 1
		c.LimiterEntries = entries
	})
	h := e.srv.Handler()
	const offender = "203.0.113.1"
	offTok := e.token(t, 1, false)
	callFrom(h, offender, "GET", PathFeed, map[string]string{"Authorization": bearer(offTok)})
	for i := range 5000 {
		// Many addresses, many tokens, one request each; the offender keeps
		// coming back and stays limited: new keys push out the idlest, not
		// the busiest.
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		if i%2 == 1 {
			ip = fmt.Sprintf("2001:db8:%x::1", i) // each its own /64
		}
		ctx := callFrom(h, ip, "GET", PathFeed, map[string]string{"Authorization": bearer(e.token(t, int64(100+i), false))})
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("new address %s: %d", ip, ctx.Response.StatusCode())
		}
		if i%(entries/4) == 0 {
			checkLimited(t, callFrom(h, offender, "GET", PathFeed, nil), "1")
		}
		if a, k := e.srv.addrLimit.len(), e.srv.tokenLimit.len(); a > entries || k > entries {
			t.Fatalf("after %d clients: %d address and %d token entries, cap %d", i+1, a, k, entries)
		}
	}
	// Once every bucket would be full again, the entries go on the next access.
	clk.add(2 * time.Second)
	callFrom(h, offender, "GET", PathFeed, map[string]string{"Authorization": bearer(offTok)})
	if a, k := e.srv.addrLimit.len(), e.srv.tokenLimit.len(); a != 1 || k != 1 {
		t.Fatalf("after the idle time: %d address and %d token entries, want 1 and 1", a, k)
	}
}

func TestKeyedLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		key  string
		at   time.Duration
		ok   bool
		wait time.Duration
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		max   int
		steps []step
		len   int
	}{
		{"burst then rate", 10, 2, 8, []step{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, false, 100 * time.Millisecond},
			{"a", 50 * time.Millisecond, false, 50 * time.Millisecond},
			{"a", 100 * time.Millisecond, true, 0}, {"b", 100 * time.Millisecond, true, 0},
		}, 2},
		{"idle entries are dropped once full again", 1, 2, 8, []step{
			{"a", 0, true, 0}, {"b", time.Second, true, 0}, {"c", 2 * time.Second, true, 0}, // a: idle 2 s = full
		}, 2},
		{"a full table drops the least recently used", 1, 1, 2, []step{
			{"a", 0, true, 0}, {"b", 0, true, 0}, {"a", 0, false, time.Second},
			{"c", 0, true, 0}, // b goes, a was used later
			{"a", 0, false, time.Second}, {"b", 0, true, 0},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeyedLimiter[string](tt.rate, tt.burst, tt.max)
			for i, st := range tt.steps {
				ok, wait := k.allow(st.key, t0.Add(st.at))
				if ok != st.ok || (!ok && (wait-st.wait).Abs() > time.Millisecond) {
					t.Fatalf("step %d (%s at %v): %v %v, want %v %v", i, st.key, st.at, ok, wait, st.ok, st.wait)
				}
			}
			if n := k.len(); n != tt.len {
				t.Fatalf("%d entries, want %d", n, tt.len)
			}
		})
	}
}

func TestLimitDefaults(t *testing.T) {
	e := newServer(t, nil)
	s, err := New(Config{Tokens: e.tokens})
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	if c.RatePerAddress != DefaultRatePerAddress || c.BurstPerAddress != 2*DefaultRatePerAddress ||
		c.RatePerToken != DefaultRatePerToken || c.BurstPerToken != 2*DefaultRatePerToken ||
		c.MaxConnsPerAddress != DefaultMaxConnsPerAddress || c.LimiterEntries != DefaultLimiterEntries ||
		c.ReadHeaderTimeout != DefaultReadHeaderTimeout || c.ReadTimeout != DefaultReadTimeout ||
		c.WriteTimeout != DefaultWriteTimeout || c.IdleTimeout != DefaultIdleTimeout {
		t.Fatalf("defaults: %+v", c)
	}
	if s.addrLimit == nil || s.tokenLimit == nil {
		t.Fatal("a limiter is off by default")
	}
	s, err = New(Config{Tokens: e.tokens, RatePerAddress: -1, RatePerToken: -5, MaxConnsPerAddress: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s.addrLimit != nil || s.tokenLimit != nil || s.cfg.MaxConnsPerAddress != -1 {
		t.Fatal("negative limits are not off")
	}
	if s, err = New(Config{Tokens: e.tokens, RatePerToken: 0.2}); err != nil {
		t.Fatal(err)
	}
	if s.cfg.BurstPerToken != 1 {
		t.Fatalf("burst of a slow rate: %d, want 1", s.cfg.BurstPerToken)
	}
}

func TestMaxConnsPerAddress(t *testing.T) {
	e := newServer(t, func(c *Config) { c.MaxConnsPerAddress = 2 })
	ln := e.serve(t)
	dial := func(ip string) net.Conn {
		t.Helper()
		c, err := ln.DialWithLocalAddr(&net.TCPAddr{IP: net.ParseIP(ip), Port: 50000})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	// roundTrip sends a keep-alive GET /healthz and reads the answer.
	roundTrip := func(c net.Conn, br *bufio.Reader) (*http.Response, string, error) {
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return nil, "", err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, "", err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b), err
	}
	const ip = "192.0.2.50"
	var open []net.Conn
	for i := range 2 {
		c := dial(ip)
		open = append(open, c)
		if resp, body, err := roundTrip(c, bufio.NewReader(c)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v %v %s", i, err, resp, body)
		}
	}
	// The third is answered at once, without reading a request, and closed.
	c := dial(ip)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	c.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Content-Type") != ContentTypeJSON ||
		!strings.Contains(string(body), `"code":"too_many_connections"`) || !resp.Close {
		t.Fatalf("third connection: %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	// Another address is not affected; an IPv6 /64 counts as one address.
	for _, other := range []string{"192.0.2.51", "2001:db8::1", "2001:db8::2"} {
		c := dial(other)
		if resp, _, err := roundTrip(c, bufio.NewReader(c)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", other, err, resp)
		}
		defer c.Close()
	}
	c = dial("2001:db8::3")
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 429 {
		t.Fatalf("third connection of the /64: %v %v", err, resp)
	}
	c.Close()
	// A closed connection frees its slot.
	open[0].Close()
	waitFor(t, func() bool {
		c := dial(ip)
		defer c.Close()
		resp, _, err := roundTrip(c, bufio.NewReader(c))
		return err == nil && resp.StatusCode == 200
	})
	open[1].Close()
}

func TestConnLimitTableBounded(t *testing.T) {
	l := newConnLimitListener(nil, 3, nil)
	var keys []netip.Addr
	for i := range 1000 {
		k := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		for range 3 {
			if !l.acquire(k) {
				t.Fatalf("%s refused under the cap", k)
			}
		}
		if l.acquire(k) {
			t.Fatalf("%s over the cap", k)
		}
		keys = append(keys, k)
	}
	if n := l.addresses(); n != 1000 {
		t.Fatalf("%d addresses", n)
	}
	for _, k := range keys {
		for range 3 {
			l.release(k)
		}
	}
	if n := l.addresses(); n != 0 {
		t.Fatalf("%d addresses left with no connection", n)
	}
}
