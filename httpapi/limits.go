package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"

	"github.com/lenta-dev/lenta/auth"
)

// Rate and connection limit defaults. They are far above what one person or
// one well-behaved client needs, so normal use is never limited; they stop
// a single address or token from taking the whole server.
const (
	DefaultRatePerAddress     = 5000 // requests per second from one address
	DefaultRatePerToken       = 1000 // requests per second with one token subject
	DefaultMaxConnsPerAddress = 1024 // open connections from one address
	DefaultLimiterEntries     = 1 << 16

	// ipv6PrefixBits is how much of an IPv6 address names one client: a
	// host usually holds a whole /64, so limiting single addresses would
	// let it rotate through 2^64 buckets.
	ipv6PrefixBits = 64
	// maxBurst keeps a derived burst inside int on any platform.
	maxBurst = 1 << 30
)

// limitRate turns a Config rate into a limiter rate: 0 is def, a negative
// rate is no limit (0 here).
func limitRate(r, def float64) (float64, error) {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		return 0, fmt.Errorf("rate %v is not a number of requests per second", r)
	case r == 0:
		return def, nil
	case r < 0:
		return 0, nil
	}
	return r, nil
}

// limitBurst is the bucket size for rate r: b, or twice the rate (at least
// 1) when b is 0.
func limitBurst(r float64, b int) (int, error) {
	if b < 0 {
		return 0, fmt.Errorf("negative burst %d", b)
	}
	if b > 0 {
		return b, nil
	}
	return int(math.Min(math.Max(1, math.Ceil(2*r)), maxBurst)), nil
}

// keyedLimiter is a token bucket per key (golang.org/x/time/rate) in a
// bounded table. Entries are kept in least-recently-used order and dropped
// lazily, on access, once they have been unused for the time the bucket
// takes to fill up again (a full bucket is what a new entry gets, so
// dropping it loses nothing), or, when the table holds max entries, the
// least recently used one makes room. No goroutine is involved.
type keyedLimiter[K comparable] struct {
	limit rate.Limit
	burst int
	idle  time.Duration // time to refill an empty bucket
	max   int

	mu   sync.Mutex
	m    map[K]*bucket[K]
	head *bucket[K] // most recently used
	tail *bucket[K] // least recently used
}

type bucket[K comparable] struct {
	key        K
	lim        *rate.Limiter
	seen       time.Time
	prev, next *bucket[K]
}

func newKeyedLimiter[K comparable](perSecond float64, burst, capacity int) *keyedLimiter[K] {
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	if idle <= 0 || idle > time.Hour {
		idle = time.Hour // rounding and absurd configurations: still bounded by max
	}
	return &keyedLimiter[K]{
		limit: rate.Limit(perSecond),
		burst: burst,
		idle:  idle,
		max:   capacity,
		m:     make(map[K]*bucket[K]),
	}
}

// allow takes a token from key's bucket at now. When the bucket is empty it
// returns false and how long until a token is there.
func (k *keyedLimiter[K]) allow(key K, now time.Time) (bool, time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.tail != nil && now.Sub(k.tail.seen) >= k.idle {
		k.drop(k.tail)
	}
	b := k.m[key]
	if b == nil {
		if len(k.m) >= k.max {
			k.drop(k.tail)
		}
		b = &bucket[K]{key: key, lim: rate.NewLimiter(k.limit, k.burst)}
		k.m[key] = b
	} else {
		k.unlink(b)
	}
	b.seen = now
	k.pushFront(b)
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.lim.TokensAt(now)
	return false, time.Duration(missing / float64(k.limit) * float64(time.Second))
}

// len is the number of keys held.
func (k *keyedLimiter[K]) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

func (k *keyedLimiter[K]) drop(b *bucket[K]) {
	k.unlink(b)
	delete(k.m, b.key)
}

func (k *keyedLimiter[K]) unlink(b *bucket[K]) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		k.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		k.tail = b.prev
	}
	b.prev, b.next = nil, nil
}

func (k *keyedLimiter[K]) pushFront(b *bucket[K]) {
	b.next = k.head
	if k.head != nil {
		k.head.prev = b
	}
	k.head = b
	if k.tail == nil {
		k.tail = b
	}
}

// tokenKey names one token subject: a user, and apart from it the service
// scope the same subject may also hold.
type tokenKey struct {
	user    int64
	service bool
}

// addrKey is the rate and connection key of a client address: the IPv4
// address, or the /64 of an IPv6 one. ok is false for no address.
func addrKey(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(ipv6PrefixBits)
		if err != nil {
			return netip.Addr{}, false
		}
		a = p.Addr()
	}
	return a, true
}

// allowAddress applies the per-address limit; on refusal it has written
// the 429.
func (s *Server) allowAddress(ctx *fasthttp.RequestCtx, f format) bool {
	if s.addrLimit == nil {
		return true
	}
	key, _ := addrKey(ctx.RemoteIP()) // no address: the zero key, one shared bucket
	ok, wait := s.addrLimit.allow(key, s.clock())
	if !ok {
		s.rateLimited(ctx, f, "this address", wait)
	}
	return ok
}

// allowToken applies the per-token limit to a verified principal; on
// refusal it has written the 429. Only verified tokens get a bucket, so
// made-up tokens cannot grow the table (they count against their address).
func (s *Server) allowToken(ctx *fasthttp.RequestCtx, f format, p auth.Principal) bool {
	if s.tokenLimit == nil {
		return true
	}
	ok, wait := s.tokenLimit.allow(tokenKey{user: p.User, service: p.Service}, s.clock())
	if !ok {
		s.rateLimited(ctx, f, "this token", wait)
	}
	return ok
}

func (s *Server) rateLimited(ctx *fasthttp.RequestCtx, f format, who string, wait time.Duration) {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, strconv.FormatInt(secs, 10))
	s.fail(ctx, f, fasthttp.StatusTooManyRequests, codeRateLimited,
		fmt.Sprintf("too many requests from %s; retry after %d s", who, secs), -1)
}
