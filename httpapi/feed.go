package httpapi

import (
	"fmt"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/timeline"
)

// feedBody is a feed page on the wire.
type feedBody struct {
	Items      []timeline.Item `json:"items" msgpack:"items"`
	NextCursor string          `json:"next_cursor" msgpack:"next_cursor"`
}

// noItems makes an empty page encode as [] rather than null.
var noItems = []timeline.Item{}

// getFeed is GET /v1/feed?limit=N&cursor=C[&user=ID][&order=ranked|recent][&explain=1].
func (s *Server) getFeed(ctx *fasthttp.RequestCtx, f format) {
	if s.cfg.Feed == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "the feed is not served by this process", -1)
		return
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	viewer := p.User
	if u := args.Peek("user"); len(u) > 0 {
		id, err := fasthttp.ParseUint(u)
		if err != nil || id <= 0 {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "user must be a positive user id", -1)
			return
		}
		if int64(id) != p.User && !p.Service {
			s.fail(ctx, f, fasthttp.StatusForbidden, codeForbidden,
				fmt.Sprintf("reading the feed of user %d is not allowed for user %d", id, p.User), -1)
			return
		}
		viewer = int64(id)
	}
	limit := DefaultPageLimit
	if l := args.Peek("limit"); len(l) > 0 {
		n, err := fasthttp.ParseUint(l)
		if err != nil || n < 1 || n > timeline.MaxPageLimit {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadLimit,
				fmt.Sprintf("limit must be an integer from 1 to %d", timeline.MaxPageLimit), -1)
			return
		}
		limit = n
	}
	ranked, explain, ok := s.feedOrder(ctx, f)
	if !ok {
		return
	}
	if !s.admitFeedRead(ctx, f, ranked) {
		return
	}
	defer s.reads.of(ranked).leave()
	if ranked {
		s.getRanked(ctx, f, viewer, limit, explain)
		return
	}
	var after timeline.Position
	if c := args.Peek("cursor"); len(c) > 0 {
		pos, err := s.cfg.Cursors.Decode(viewer, string(c))
		if err != nil {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadCursor, err.Error(), -1)
			return
		}
		after = pos
	}
	page, err := s.cfg.Feed.Page(s.base, viewer, after, limit)
	if err == nil {
		err = timeline.NamePeople(s.base, s.cfg.People, page.Items)
	}
	if err != nil {
		if s.unavailable(err) {
			s.log.Warn("http: feed unavailable", slog.Any("err", err))
			ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
			s.fail(ctx, f, fasthttp.StatusServiceUnavailable, codeUnavailable, "the feed is unavailable, retry later", -1)
			return
		}
		s.log.Error("http: feed read failed", slog.Int64("viewer", viewer), slog.Any("err", err))
		s.fail(ctx, f, fasthttp.StatusInternalServerError, codeInternal, "internal error reading the feed", -1)
		return
	}
	body := feedBody{Items: page.Items}
	if body.Items == nil {
		body.Items = noItems
	}
	if !page.Next.IsTop() {
		body.NextCursor = s.cfg.Cursors.Encode(viewer, page.Next)
	}
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if f == formatMsgpack {
		s.reply(ctx, f, fasthttp.StatusOK, (*msgpackFeed)(&body))
		return
	}
	s.reply(ctx, f, fasthttp.StatusOK, (*jsonFeed)(&body))
}
