package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/ranking"
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
	Feed      timeline.Feed
	Cursors   *timeline.Cursors
	// Ranked, if set, serves GET /v1/feed ranked (the default order;
	// order=recent reads Feed). Nil: the feed is newest first only.
	Ranked ranking.Feed
	// Notify, if set, serves notifications, Web Push and the page.
	Notify *NotifyConfig
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

// Serve serves on ln until ctx is cancelled, then stops accepting, drains
// in-flight requests for at most ShutdownTimeout, cancels whatever is still
// running and returns. It returns nil after a clean drain. Serve may be
// called once per Server; ln is closed when it returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("httpapi: Serve called twice")
	}
	srv := s.fastServer()
	// Innermost, so that the per-address refusals linger too.
	linger := newLingerListener(ln, s.cfg.ReadTimeout, 4*int64(s.cfg.MaxBodyBytes)+int64(s.cfg.MaxHeaderBytes))
	defer linger.stopLingering()
	ln = linger
	if s.cfg.MaxConnsPerAddress > 0 {
		ln = newConnLimitListener(ln, s.cfg.MaxConnsPerAddress, s.log)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		s.stop()
		if err != nil {
			return fmt.Errorf("httpapi: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.log.Info("http: shutting down", slog.Duration("drain", s.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.ShutdownWithContext(sctx)
	// If ctx ended before srv.Serve registered ln, Shutdown did not see it:
	// closing it here makes that Serve return too.
	_ = ln.Close()
	s.stop()
	<-errc
	if err != nil {
		return fmt.Errorf("httpapi: graceful shutdown did not finish in %v: %w", s.cfg.ShutdownTimeout, err)
	}
	return nil
}

func (s *Server) fastServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      s.handler,
		ErrorHandler:                 s.protocolError,
		ExpectHandler:                s.expectContinue,
		HeaderReceived:               s.headerReceived,
		Logger:                       fastLogger{s.log},
		ReadTimeout:                  s.cfg.ReadHeaderTimeout, // reset for the body by headerReceived
		WriteTimeout:                 s.cfg.WriteTimeout,
		IdleTimeout:                  s.cfg.IdleTimeout,
		MaxRequestBodySize:           s.cfg.MaxBodyBytes,
		ReadBufferSize:               s.cfg.MaxHeaderBytes, // also the header size limit
		Concurrency:                  s.cfg.Concurrency,
		NoDefaultServerHeader:        true,
		DisablePreParseMultipartForm: true,
		ReduceMemoryUsage:            false,
		StreamRequestBody:            false,
		CloseOnShutdown:              true,
		SecureErrorLogMessage:        true, // never echo request content into logs
	}
}

// headerReceived gives the body its own read deadline once the headers
// are in: fasthttp's ReadTimeout (ReadHeaderTimeout here) has bounded the
// request line and headers.
func (s *Server) headerReceived(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return fasthttp.RequestConfig{ReadTimeout: s.cfg.ReadTimeout}
}

// orOff is a limiter rate as Config shows it after New: -1 when off.
func orOff(r float64) float64 {
	if r == 0 {
		return -1
	}
	return r
}

// fastLogger routes fasthttp's own messages (accept errors, overload,
// connection errors) to slog. fasthttp's connection errors can quote the
// request (a malformed header line, with whatever token is in it, even
// with SecureErrorLogMessage), so only the format, addresses, numbers and
// listener errors get through: a connection error is reduced to its kind,
// and any other argument is dropped.
type fastLogger struct{ log *slog.Logger }

// connErrorFormat is the prefix of fasthttp's message for a connection
// that ended in an error: a client's doing (malformed, too large, too
// slow), answered and counted in the metrics, so logged at debug level
// only; at warn, a client could flood the log.
const connErrorFormat = "error when serving connection"

func (l fastLogger) Printf(format string, args ...any) {
	connErr := strings.HasPrefix(format, connErrorFormat)
	safe := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case error:
			if connErr {
				safe[i] = errorKind(v)
			} else {
				safe[i] = v // the listener's own errors
			}
		case net.Addr:
			safe[i] = v.String()
		case int, int64, uint32, uint64, float64, time.Duration:
			safe[i] = v
		default:
			safe[i] = "(redacted)"
		}
	}
	level := slog.LevelWarn
	if connErr {
		level = slog.LevelDebug
	}
	l.log.LogAttrs(context.Background(), level, fmt.Sprintf(format, safe...), slog.String("component", "fasthttp"))
}

// errorKind names what went wrong with a request fasthttp could not read,
// in words that quote nothing of it.
func errorKind(err error) string {
	var small *fasthttp.ErrSmallBuffer
	var nerr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return "request body too large"
	case errors.As(err, &small):
		return "request headers too large"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection closed"
	}
	return "malformed request"
}

// expectContinue refuses an announced oversize body before the client
// sends it (curl sends Expect: 100-continue for large uploads).
func (s *Server) expectContinue(ctx *fasthttp.RequestCtx) int {
	if ctx.Request.Header.ContentLength() > s.cfg.MaxBodyBytes {
		f := negotiate(ctx.Request.Header.Peek(fasthttp.HeaderAccept))
		s.failTooLarge(ctx, f)
		s.routes[lookup(ctx.Path())].metrics.Count(fasthttp.StatusRequestEntityTooLarge)
		return fasthttp.StatusRequestEntityTooLarge
	}
	return fasthttp.StatusContinue
}

func (s *Server) failTooLarge(ctx *fasthttp.RequestCtx, f format) {
	s.fail(ctx, f, fasthttp.StatusRequestEntityTooLarge, codeTooLarge,
		fmt.Sprintf("request body is over the limit of %d bytes", s.cfg.MaxBodyBytes), -1)
}

// protocolError answers requests fasthttp could not read: too large, too
// slow, or not HTTP. The connection is closed after the answer.
func (s *Server) protocolError(ctx *fasthttp.RequestCtx, err error) {
	f := negotiate(ctx.Request.Header.Peek(fasthttp.HeaderAccept))
	var small *fasthttp.ErrSmallBuffer
	var nerr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.failTooLarge(ctx, f)
	case errors.As(err, &small):
		s.fail(ctx, f, fasthttp.StatusRequestHeaderFieldsTooLarge, codeHeaderTooLarge,
			fmt.Sprintf("request line and headers are over the limit of %d bytes", s.cfg.MaxHeaderBytes), -1)
	case errors.As(err, &nerr) && nerr.Timeout():
		s.fail(ctx, f, fasthttp.StatusRequestTimeout, codeTimeout, "request was not received in time", -1)
	default:
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "request is not valid HTTP/1.1", -1)
	}
	s.routes[lookup(ctx.Path())].metrics.Count(ctx.Response.StatusCode())
}

// handle is the root handler: route, dispatch, instrument, log, and turn a
// panic into a 500 that names nothing.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	r := &s.routes[lookup(ctx.Path())]
	f := negotiate(ctx.Request.Header.Peek(fasthttp.HeaderAccept))
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("http: handler panic", slog.String("route", r.name), slog.Any("panic", p))
			ctx.Response.Reset()
			s.fail(ctx, f, fasthttp.StatusInternalServerError, codeInternal, "internal error", -1)
		}
		d := time.Since(start)
		code := ctx.Response.StatusCode()
		r.metrics.Observe(code, d)
		if s.log.Enabled(s.base, slog.LevelDebug) {
			// Never the query string, headers or body: they carry tokens
			// and user content.
			s.log.LogAttrs(s.base, slog.LevelDebug, "http request",
				slog.String("method", string(ctx.Method())),
				slog.String("route", r.name),
				slog.Int("status", code),
				slog.Duration("took", d),
				slog.Int("in", len(ctx.Request.Body())),
				slog.Int("out", len(ctx.Response.Body())),
				slog.String("remote", ctx.RemoteIP().String()))
		}
	}()
	s.dispatch(ctx, r, f)
}

func (s *Server) dispatch(ctx *fasthttp.RequestCtx, r *route, f format) {
	// Probes and scrapes are exempt, so they never fail under load from
	// the same address (a sidecar, a proxy, the bench). They stay bounded
	// by the connection cap; keep them off the public edge.
	if r.id != routeHealth && r.id != routeMetrics && !s.allowAddress(ctx, f) {
		return
	}
	if r.id == routeNotFound {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "no such endpoint", -1)
		return
	}
	if !r.allows(ctx) {
		ctx.Response.Header.Set(fasthttp.HeaderAllow, r.allow)
		s.fail(ctx, f, fasthttp.StatusMethodNotAllowed, codeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed here; allowed: %s", safeMethod(ctx.Method()), r.allow), -1)
		return
	}
	switch r.id {
	case routeEvents:
		s.postEvents(ctx, f)
	case routeFeed:
		s.getFeed(ctx, f)
	case routeHealth:
		s.health(ctx, f)
	case routeMetrics:
		s.metricsHandler(ctx)
	case routeNotifications:
		s.getNotifications(ctx, f)
	case routeUnread:
		s.getUnread(ctx, f)
	case routeRead:
		s.postRead(ctx, f)
	case routePushKey:
		s.getPushKey(ctx, f)
	case routePushSubs:
		s.pushSubscriptions(ctx, f)
	case routePage:
		s.getPage(ctx, f)
	case routeDeadLetters:
		s.getDeadLetters(ctx, f)
	case routeDeadLettersReplay:
		s.postReplay(ctx, f)
	}
}

// health answers GET /healthz. The cause of a failure is logged, not shown
// (the endpoint is unauthenticated), unless it is a HealthDetail naming the
// process's unhealthy parts.
func (s *Server) health(ctx *fasthttp.RequestCtx, f format) {
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if s.cfg.Health != nil {
		hctx, cancel := context.WithTimeout(s.base, healthTimeout)
		err := s.cfg.Health(hctx)
		cancel()
		if err != nil {
			s.log.Warn("http: health check failed", slog.Any("err", err))
			if s.replyUnhealthy(ctx, f, err) {
				return
			}
			s.reply(ctx, f, fasthttp.StatusServiceUnavailable, &statusBody{Status: "unavailable"})
			return
		}
	}
	s.reply(ctx, f, fasthttp.StatusOK, &statusBody{Status: "ok"})
}

type statusBody struct {
	Status string `json:"status" msgpack:"status"`
}

// safeMethod returns m for the error message if it is a plain token, so a
// junk method cannot inject anything into the response.
func safeMethod(m []byte) string {
	if len(m) > 16 {
		return "(unknown)"
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return "(unknown)"
		}
	}
	return string(m)
}

// unavailable reports whether a store error is one a retry later may fix:
// the request's work was cancelled or timed out, or the store says so.
func (s *Server) unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return s.cfg.Unavailable != nil && s.cfg.Unavailable(err)
}
