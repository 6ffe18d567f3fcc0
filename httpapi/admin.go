package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
)

// Admin route paths: operator tools, service token only.
const (
	PathDeadLetters       = "/v1/admin/deadletters"
	PathDeadLettersReplay = "/v1/admin/deadletters/replay"
)

// DeadLetterAdmin lists and replays dead letters (deadletter.Service).
type DeadLetterAdmin interface {
	List(ctx context.Context, f deadletter.Filter) ([]fanout.DeadLetter, error)
	Replay(ctx context.Context, f deadletter.Filter) (deadletter.Report, error)
}

// maxReplayBody bounds a POST /v1/admin/deadletters/replay body.
const maxReplayBody = 64 << 10

// deadLetterBody is one letter as an operator sees it (the raw message is
// not shown: it is user content).
type deadLetterBody struct {
	Reason   string `json:"reason" msgpack:"reason"` // the reason code
	EventID  string `json:"event_id" msgpack:"event_id"`
	Source   string `json:"source" msgpack:"source"`
	TS       int64  `json:"ts" msgpack:"ts"`
	Detail   string `json:"detail" msgpack:"detail"`
	Replayed bool   `json:"replayed" msgpack:"replayed"`
}

type deadLettersBody struct {
	Letters []deadLetterBody `json:"letters" msgpack:"letters"`
}

type replayRequest struct {
	IDs    []string `json:"ids"`
	Reason string   `json:"reason"`
}

// admin authenticates an operator: a valid token with the service scope.
func (s *Server) admin(ctx *fasthttp.RequestCtx, f format) bool {
	if s.cfg.DeadLetters == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "dead letters are not served by this process", -1)
		return false
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return false
	}
	if !p.Service {
		s.fail(ctx, f, fasthttp.StatusForbidden, codeForbidden, "admin routes need a token with scope "+auth.ScopeService, -1)
		return false
	}
	return true
}

// getDeadLetters is GET /v1/admin/deadletters?reason=&id=&limit=: letters
// newest first.
func (s *Server) getDeadLetters(ctx *fasthttp.RequestCtx, f format) {
	if !s.admin(ctx, f) {
		return
	}
	args := ctx.QueryArgs()
	flt := deadletter.Filter{Reason: string(args.Peek("reason"))}
	for _, id := range args.PeekMulti("id") {
		flt.IDs = append(flt.IDs, string(id))
	}
	if l := args.Peek("limit"); len(l) > 0 {
		n, err := strconv.Atoi(string(l))
		if err != nil || n < 0 {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadLimit, "limit must be a non-negative integer", -1)
			return
		}
		flt.Limit = n
	}
	letters, err := s.cfg.DeadLetters.List(s.base, flt)
	if err != nil {
		s.deadLetterFailed(ctx, f, "list dead letters", err)
		return
	}
	body := deadLettersBody{Letters: make([]deadLetterBody, len(letters))}
	for i := range letters {
		l := &letters[i]
		body.Letters[i] = deadLetterBody{Reason: deadletter.Code(l), EventID: l.EventID, Source: l.Source,
			TS: l.TS, Detail: l.Reason, Replayed: l.Replayed}
	}
	s.reply(ctx, f, fasthttp.StatusOK, &body)
}

// postReplay is POST /v1/admin/deadletters/replay {"ids": [...], "reason":
// "..."}: the selected letters go back onto the event log.
func (s *Server) postReplay(ctx *fasthttp.RequestCtx, f format) {
	if !s.admin(ctx, f) || !s.jsonBody(ctx, f, maxReplayBody) {
		return
	}
	var req replayRequest
	if b := ctx.PostBody(); !isJSONObject(b) || json.Unmarshal(b, &req) != nil {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeMalformed, `body must be {"ids": ["<event id>", ...], "reason": "<code>"}`, -1)
		return
	}
	rep, err := s.cfg.DeadLetters.Replay(s.base, deadletter.Filter{IDs: req.IDs, Reason: req.Reason})
	if err != nil {
		s.deadLetterFailed(ctx, f, "replay dead letters", err)
		return
	}
	s.reply(ctx, f, fasthttp.StatusOK, &rep)
}

func (s *Server) deadLetterFailed(ctx *fasthttp.RequestCtx, f format, what string, err error) {
	if errors.Is(err, deadletter.ErrNoSelection) || errors.Is(err, deadletter.ErrUnknownReason) {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, strings.TrimPrefix(err.Error(), "deadletter: "), -1)
		return
	}
	s.storeFailed(ctx, f, what, err)
}
