package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

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

	ReadTimeout  = 10 * time.Second
	WriteTimeout = 10 * time.Second
	IdleTimeout  = 60 * time.Second

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
	Tokens *auth.Tokens
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
	// Now is the clock events are validated against (default time.Now).
	Now func() time.Time
	// Health, if set, is called by GET /healthz; an error makes it 503.
	Health func(ctx context.Context) error
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
	if cfg.MaxBodyBytes < 0 || cfg.MaxHeaderBytes < 0 || cfg.Concurrency < 0 || cfg.ShutdownTimeout < 0 {
		return nil, errors.New("httpapi: negative limit in Config")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	s := &Server{cfg: cfg, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
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
// Serve adds the server limits (timeouts, body and header size); a bare
// Handler still refuses bodies over MaxBodyBytes.
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
		Logger:                       fastLogger{s.log},
		ReadTimeout:                  ReadTimeout,
		WriteTimeout:                 WriteTimeout,
		IdleTimeout:                  IdleTimeout,
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

// fastLogger routes fasthttp's own messages (accept errors, overload) to slog.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), slog.String("component", "fasthttp"))
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
		s.cfg.Metrics.Handler()(ctx)
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
	}
}

// health answers GET /healthz. The cause of a failure is logged, not shown:
// the endpoint is unauthenticated.
func (s *Server) health(ctx *fasthttp.RequestCtx, f format) {
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if s.cfg.Health != nil {
		hctx, cancel := context.WithTimeout(s.base, healthTimeout)
		err := s.cfg.Health(hctx)
		cancel()
		if err != nil {
			s.log.Warn("http: health check failed", slog.Any("err", err))
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
