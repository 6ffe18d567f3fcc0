package httpapi

// The root handler: routing, the per-address limit, instrumentation, the
// request log line and panic recovery, then dispatch to the route.

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"
)

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
	case routeComments:
		s.getComments(ctx, f)
	}
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
