package httpapi

// Serving: the fasthttp server, its limits, graceful shutdown, and the
// answers to requests fasthttp could not read. server.go holds the Config
// and construction, dispatch.go the root handler.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

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
