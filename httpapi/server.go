package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/people"
	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/schema"
	"github.com/lenta-dev/lenta/timeline"
)

// Defaults and fixed server limits.
const (
	DefaultMaxBodyBytes    = 1 << 20 // largest POST /v1/events body
	DefaultMaxHeaderBytes  = 8 << 10 // request line plus headers
	DefaultConcurrency     = 32 << 10
	DefaultShutdownTimeout = 10 * time.Second
	DefaultPageLimit       = 20

	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second

	healthTimeout = 2 * time.Second
)

// Config wires a Server. Tokens is required. Publisher and Feed are
// optional so that one binary can run the ingest and reader roles apart: a
// nil one makes its route answer 404 ("not served by this process").
// Cursors is required when Feed is set.
type Config struct {
	Publisher fanout.Publisher
	// Reactions is the configured set of reaction kinds: a react naming
	// another is a 400 (zero: schema.DefaultReactions).
	Reactions schema.ReactionSet
	Feed      timeline.Feed
	Cursors   *timeline.Cursors
	// Ranked, if set, serves GET /v1/feed ranked (the default order;
	// order=recent reads Feed). Nil: the feed is newest first only.
	Ranked ranking.Feed
	// Notify, if set, serves notifications, Web Push and the page.
	Notify *NotifyConfig
	// People, if set, names the people of every feed page and
	// notification (display name and avatar, read when the page is
	// served); nil: items carry ids only.
	People *people.Directory
	// Comments and CommentCursors, if set, serve GET
	// /v1/objects/{id}/comments; nil: it answers 404.
	Comments       CommentThreads
	CommentCursors *comments.Cursors
	// DeadLetters, if set, serves the admin dead-letter routes (service
	// token only); nil: they answer 404.
	DeadLetters DeadLetterAdmin
	Tokens      *auth.Tokens
	// Metrics receives the HTTP and ingest metrics and serves /metrics; a
	// private registry is made when nil.
	Metrics *metrics.Registry
	// Log gets one debug line per request and warnings/errors; discarded
	// when nil.
	Log *slog.Logger
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int
	// MaxHeaderBytes bounds the request line plus headers (default
	// DefaultMaxHeaderBytes); larger requests get 431.
	MaxHeaderBytes int
	// Concurrency bounds concurrent connections (default DefaultConcurrency).
	Concurrency int
	// ShutdownTimeout bounds the graceful drain after Serve's context ends
	// (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration

	// ReadHeaderTimeout bounds reading the request line and headers, from
	// the connection's start (its first request) or the request's first
	// byte (later requests). A client that sends its headers slower than
	// that gets a 408 and is disconnected (default
	// DefaultReadHeaderTimeout).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the body, from the end of the headers
	// (default DefaultReadTimeout); a whole request takes at most
	// ReadHeaderTimeout + ReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request (default DefaultIdleTimeout).
	IdleTimeout time.Duration

	// RatePerAddress is the sustained requests per second one client
	// address (an IPv4 address, or an IPv6 /64) may make, BurstPerAddress
	// how many it may make at once. Over it: 429, code rate_limited, with
	// Retry-After. Rate 0: DefaultRatePerAddress; negative: no limit.
	// Burst 0: twice the rate (at least 1). /healthz and /metrics are
	// exempt. The address is the TCP peer's: behind a proxy it is the
	// proxy's (X-Forwarded-For is not trusted), so limit at the proxy.
	RatePerAddress  float64
	BurstPerAddress int
	// RatePerToken and BurstPerToken limit the requests per verified token
	// subject (user id; a service token of the same id counts apart), on
	// every endpoint that takes a token. Same rules and defaults as the
	// per-address pair, with DefaultRatePerToken.
	RatePerToken  float64
	BurstPerToken int
	// LimiterEntries bounds how many addresses and how many token subjects
	// the rate limiters remember (each; default DefaultLimiterEntries).
	// Idle entries are dropped on access once their bucket would be full
	// again; a full table drops its least recently used entry.
	LimiterEntries int
	// MaxConnsPerAddress caps the open connections from one client address
	// (same address rule as RatePerAddress); over it a new connection gets
	// a 429 and is closed. 0: DefaultMaxConnsPerAddress; negative: no cap.
	// Applies to Serve only.
	MaxConnsPerAddress int
	// MaxFeedReads bounds the feed reads (GET /v1/feed) of each order
	// (ranked, recent) served at once; more wait their turn up to
	// FeedReadWait, then get 503 with Retry-After (see readgate.go). 0:
	// two per core; negative: no bound.
	MaxFeedReads int
	// FeedReadWait is how long a feed read waits for its turn (default
	// DefaultFeedReadWait).
	FeedReadWait time.Duration
	// Now is the clock events are validated against (default time.Now).
	Now func() time.Time
	// Health, if set, is called by GET /healthz; an error makes it 503.
	Health func(ctx context.Context) error
	// Unavailable, if set, reports whether a store error means the store
	// could not be reached or could not answer in time (the Cassandra
	// adapter's IsUnavailable). Reads failing so answer 503 with
	// Retry-After instead of 500.
	Unavailable func(err error) bool
}

// Server is the HTTP API. Make it with New; it is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler fasthttp.RequestHandler

	// base is the context of all work done for requests (Publish, Page,
	// Health). It is cancelled only when a graceful shutdown runs out of
	// time, so in-flight requests finish during the drain.
	base context.Context
	stop context.CancelFunc

	serving atomic.Bool

	// addrLimit and tokenLimit are the rate limiters (nil: off); clock is
	// their time (time.Now; tests replace it).
	addrLimit  *keyedLimiter[netip.Addr]
	tokenLimit *keyedLimiter[tokenKey]
	clock      func() time.Time

	reads readLanes // turns of GET /v1/feed, per order (nil gates: no bound)

	metricsHandler fasthttp.RequestHandler // cfg.Metrics' handler on fasthttp

	routes [numRoutes]route
}

// New checks cfg, fills defaults and makes a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("httpapi: Config.Tokens is required")
	}
	if cfg.Feed != nil && cfg.Cursors == nil {
		return nil, errors.New("httpapi: Config.Cursors is required with a Feed")
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxHeaderBytes < 0 || cfg.Concurrency < 0 || cfg.ShutdownTimeout < 0 ||
		cfg.ReadHeaderTimeout < 0 || cfg.ReadTimeout < 0 || cfg.WriteTimeout < 0 || cfg.IdleTimeout < 0 ||
		cfg.LimiterEntries < 0 || cfg.FeedReadWait < 0 {
		return nil, errors.New("httpapi: negative limit in Config")
	}
	addrRate, err := limitRate(cfg.RatePerAddress, DefaultRatePerAddress)
	if err != nil {
		return nil, fmt.Errorf("httpapi: RatePerAddress: %w", err)
	}
	addrBurst, err := limitBurst(addrRate, cfg.BurstPerAddress)
	if err != nil {
		return nil, fmt.Errorf("httpapi: BurstPerAddress: %w", err)
	}
	tokenRate, err := limitRate(cfg.RatePerToken, DefaultRatePerToken)
	if err != nil {
		return nil, fmt.Errorf("httpapi: RatePerToken: %w", err)
	}
	tokenBurst, err := limitBurst(tokenRate, cfg.BurstPerToken)
	if err != nil {
		return nil, fmt.Errorf("httpapi: BurstPerToken: %w", err)
	}
	cfg.RatePerAddress, cfg.BurstPerAddress = orOff(addrRate), addrBurst
	cfg.RatePerToken, cfg.BurstPerToken = orOff(tokenRate), tokenBurst
	if cfg.LimiterEntries == 0 {
		cfg.LimiterEntries = DefaultLimiterEntries
	}
	switch {
	case cfg.MaxConnsPerAddress == 0:
		cfg.MaxConnsPerAddress = DefaultMaxConnsPerAddress
	case cfg.MaxConnsPerAddress < 0:
		cfg.MaxConnsPerAddress = -1
	}
	// Zero means the default.
	cfg.ReadHeaderTimeout = cmp.Or(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	cfg.ReadTimeout = cmp.Or(cfg.ReadTimeout, DefaultReadTimeout)
	cfg.WriteTimeout = cmp.Or(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	cfg.MaxHeaderBytes = cmp.Or(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, DefaultConcurrency)
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, DefaultShutdownTimeout)
	cfg.FeedReadWait = cmp.Or(cfg.FeedReadWait, DefaultFeedReadWait)
	if cfg.MaxFeedReads == 0 {
		cfg.MaxFeedReads = defaultFeedReads()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	s := &Server{cfg: cfg, log: cfg.Log, clock: time.Now, reads: newReadLanes(cfg.MaxFeedReads)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if addrRate > 0 {
		s.addrLimit = newKeyedLimiter[netip.Addr](addrRate, addrBurst, cfg.LimiterEntries)
	}
	if tokenRate > 0 {
		s.tokenLimit = newKeyedLimiter[tokenKey](tokenRate, tokenBurst, cfg.LimiterEntries)
	}
	// No http.TimeoutHandler around it: it would derive a context from the
	// fasthttp.RequestCtx, whose Done channel fasthttp rewrites during
	// shutdown without a lock (a data race under -race).
	s.metricsHandler = fasthttpadaptor.NewFastHTTPHandler(cfg.Metrics.Handler())
	s.base, s.stop = context.WithCancel(context.Background())
	for id := range s.routes {
		r := &s.routes[id]
		r.id = routeID(id)
		r.name = routeNames[id]
		r.allow = routeAllow[id]
		r.metrics = cfg.Metrics.Route(r.name)
	}
	s.handler = s.handle
	return s, nil
}

// Handler is the request handler with every route, for embedding in
// another fasthttp.Server (tests use fasthttputil.NewInmemoryListener).
// It applies the rate limits (per address and per token) and refuses
// bodies over MaxBodyBytes; Serve adds the server limits (timeouts, header
// size, connections per address).
func (s *Server) Handler() fasthttp.RequestHandler { return s.handler }

// orOff is a limiter rate as Config shows it after New: -1 when off.
func orOff(r float64) float64 {
	if r == 0 {
		return -1
	}
	return r
}

// unavailable reports whether a store error is one a retry later may fix:
// the request's work was cancelled or timed out, or the store says so.
func (s *Server) unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return s.cfg.Unavailable != nil && s.cfg.Unavailable(err)
}
