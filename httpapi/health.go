package httpapi

import (
	"context"
	"errors"
	"log/slog"

	"github.com/valyala/fasthttp"
)

// HealthDetail is an error from Config.Health that may be shown: it names
// the unhealthy parts of the process (health.UnhealthyError is one).
// Any other Health error is logged and answered with a bare 503.
type HealthDetail interface {
	error
	HealthParts() any
}

// CodeUnhealthy is the code of a 503 from /healthz that names its parts.
const CodeUnhealthy = "unhealthy"

type unhealthyBody struct {
	Status string `json:"status" msgpack:"status"`
	Code   string `json:"code" msgpack:"code"`
	Error  string `json:"error" msgpack:"error"`
	Parts  any    `json:"parts" msgpack:"parts"`
}

// replyUnhealthy answers a detailed 503 if err says which parts are down.
func (s *Server) replyUnhealthy(ctx *fasthttp.RequestCtx, f format, err error) bool {
	var d HealthDetail
	if !errors.As(err, &d) {
		return false
	}
	s.reply(ctx, f, fasthttp.StatusServiceUnavailable, &unhealthyBody{
		Status: "unavailable", Code: CodeUnhealthy, Error: d.Error(), Parts: d.HealthParts()})
	return true
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
