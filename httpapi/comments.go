package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/comments"
	"github.com/lenta-dev/lenta/objects"
	"github.com/lenta-dev/lenta/schema"
)

// PathComments is the comment thread route, /v1/objects/{id}/comments
// (PathObjectsPrefix + id + PathCommentsSuffix).
const (
	PathComments       = "/v1/objects/{id}/comments"
	PathObjectsPrefix  = "/v1/objects/"
	PathCommentsSuffix = "/comments"
)

// CommentThreads reads comment threads (*comments.Reader satisfies it).
type CommentThreads interface {
	Page(ctx context.Context, viewer int64, object string, after objects.CommentPos, newest bool, limit int) (comments.Page, error)
}

// commentsBody is a thread page on the wire.
type commentsBody struct {
	Items      []comments.Comment `json:"items" msgpack:"items"`
	NextCursor string             `json:"next_cursor" msgpack:"next_cursor"`
}

var noComments = []comments.Comment{}

// isCommentsPath reports whether path is /v1/objects/{id}/comments with a
// non-empty id (not checked further here: the handler does).
func isCommentsPath(path []byte) bool {
	return len(path) > len(PathObjectsPrefix)+len(PathCommentsSuffix) &&
		bytes.HasPrefix(path, []byte(PathObjectsPrefix)) && bytes.HasSuffix(path, []byte(PathCommentsSuffix))
}

// getComments is GET /v1/objects/{id}/comments?limit=N&cursor=C&order=newest|oldest.
// An object the viewer may not see, a deleted one and an unknown one are
// all 404, so the answer never tells that a hidden object exists.
func (s *Server) getComments(ctx *fasthttp.RequestCtx, f format) {
	if s.cfg.Comments == nil || s.cfg.CommentCursors == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "comments are not served by this process", -1)
		return
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return
	}
	path := ctx.Path()
	object := string(path[len(PathObjectsPrefix) : len(path)-len(PathCommentsSuffix)])
	if !schema.ValidID(object) {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest,
			fmt.Sprintf("the object id must be 1..%d characters of [A-Za-z0-9._:@-]", schema.MaxIDLen), -1)
		return
	}
	args := ctx.QueryArgs()
	limit := DefaultPageLimit
	if l := args.Peek("limit"); len(l) > 0 {
		n, err := fasthttp.ParseUint(l)
		if err != nil || n < 1 || n > comments.MaxPageLimit {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadLimit,
				fmt.Sprintf("limit must be an integer from 1 to %d", comments.MaxPageLimit), -1)
			return
		}
		limit = n
	}
	newest := true
	switch o := string(args.Peek("order")); o {
	case "", "newest":
	case "oldest":
		newest = false
	default:
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "order must be newest or oldest", -1)
		return
	}
	after, err := s.cfg.CommentCursors.Decode(p.User, object, newest, string(args.Peek("cursor")))
	if err != nil {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadCursor, err.Error(), -1)
		return
	}
	// A thread page is a read like a recent feed page (a few rows): it
	// waits in the same lane, so reads never starve the fan-out.
	if !s.admitFeedRead(ctx, f, false) {
		return
	}
	defer s.reads.of(false).leave()
	page, err := s.cfg.Comments.Page(s.base, p.User, object, after, newest, limit)
	if errors.Is(err, comments.ErrNotFound) {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "no such object", -1)
		return
	}
	if err != nil {
		s.log.Error("http: comments read failed", slog.Int64("viewer", p.User), slog.Any("err", err))
		s.storeFailed(ctx, f, "comments", err)
		return
	}
	if err := comments.NamePeople(s.base, s.cfg.People, page.Items); err != nil {
		s.log.Error("http: comment authors' names failed", slog.Int64("viewer", p.User), slog.Any("err", err))
		s.storeFailed(ctx, f, "profiles", err)
		return
	}
	body := commentsBody{Items: page.Items, NextCursor: s.cfg.CommentCursors.Encode(p.User, object, newest, page.Next)}
	if body.Items == nil {
		body.Items = noComments
	}
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	s.reply(ctx, f, fasthttp.StatusOK, &body)
}
