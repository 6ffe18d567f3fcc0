package httpapi

import (
	"errors"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/ranking"
	"github.com/lenta-dev/lenta/timeline"
)

// codeCursorExpired: a ranked cursor outlived its snapshot; reload from the top.
const codeCursorExpired = "cursor_expired"

// feedOrder reads order= and explain=: ranked is the default when a
// ranked feed is configured. ok is false when it answered an error.
func (s *Server) feedOrder(ctx *fasthttp.RequestCtx, f format) (ranked, explain, ok bool) {
	args := ctx.QueryArgs()
	switch o := string(args.Peek("order")); o {
	case "":
		ranked = s.cfg.Ranked != nil
	case "recent":
	case "ranked":
		if s.cfg.Ranked == nil {
			s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "the ranked feed is not served by this process", -1)
			return false, false, false
		}
		ranked = true
	default:
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "order must be ranked or recent", -1)
		return false, false, false
	}
	switch e := string(args.Peek("explain")); e {
	case "", "0", "false":
	case "1", "true":
		explain = true
	default:
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "explain must be 1 or 0", -1)
		return false, false, false
	}
	return ranked, explain, true
}

// getRanked serves one ranked page.
func (s *Server) getRanked(ctx *fasthttp.RequestCtx, f format, viewer int64, limit int, explain bool) {
	page, err := s.cfg.Ranked.Ranked(s.base, viewer, string(ctx.QueryArgs().Peek("cursor")), limit, explain)
	if err == nil {
		err = timeline.NamePeople(s.base, s.cfg.People, page.Items)
	}
	if err != nil {
		switch {
		case errors.Is(err, timeline.ErrBadCursor):
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadCursor, err.Error(), -1)
		case errors.Is(err, ranking.ErrExpired):
			s.fail(ctx, f, fasthttp.StatusGone, codeCursorExpired, err.Error(), -1)
		case s.unavailable(err):
			s.log.Warn("http: ranked feed unavailable", slog.Any("err", err))
			ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
			s.fail(ctx, f, fasthttp.StatusServiceUnavailable, codeUnavailable, "the feed is unavailable, retry later", -1)
		default:
			s.log.Error("http: ranked feed read failed", slog.Int64("viewer", viewer), slog.Any("err", err))
			s.fail(ctx, f, fasthttp.StatusInternalServerError, codeInternal, "internal error reading the feed", -1)
		}
		return
	}
	body := feedBody{Items: page.Items, NextCursor: page.Next}
	if body.Items == nil {
		body.Items = noItems
	}
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if f == formatMsgpack {
		s.reply(ctx, f, fasthttp.StatusOK, (*msgpackFeed)(&body))
		return
	}
	s.reply(ctx, f, fasthttp.StatusOK, (*jsonFeed)(&body))
}
