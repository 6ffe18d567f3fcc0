package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/web"
)

// NotifyConfig serves notifications, Web Push subscriptions and the page.
// Inbox and Cursors serve /v1/notifications*; Subs, Checker and PublicKey
// serve /v1/push/*. A nil part answers 404.
type NotifyConfig struct {
	Inbox     NotifyInbox
	Cursors   NotifyCursors
	Subs      notify.Subscriptions
	Checker   notify.EndpointChecker
	PublicKey string
	// AllowHTTP accepts http:// push endpoints (tests only).
	AllowHTTP bool
	// Page serves the browser page at "/" (and its assets).
	Page bool
}

// NotifyInbox is what the notification routes ask of the inbox
// (*notify.Inbox satisfies it).
type NotifyInbox interface {
	Page(ctx context.Context, user int64, after notify.Position, limit int) (notify.Page, error)
	Unread(ctx context.Context, user int64) (int, error)
	MarkRead(ctx context.Context, user int64, upTo notify.Position) error
}

// NotifyCursors signs and reads notification page cursors
// (*notify.Cursors satisfies it).
type NotifyCursors interface {
	Encode(user int64, p notify.Position) string
	Decode(user int64, s string) (notify.Position, error)
}

// Notification and push paths.
const (
	PathNotifications = "/v1/notifications"
	PathUnread        = "/v1/notifications/unread_count"
	PathRead          = "/v1/notifications/read"
	PathPushKey       = "/v1/push/key"
	PathPushSubs      = "/v1/push/subscriptions"
)

type notificationsBody struct {
	Items      []notify.Notification `json:"items" msgpack:"items"`
	NextCursor string                `json:"next_cursor" msgpack:"next_cursor"`
}

type unreadBody struct {
	Count int `json:"count" msgpack:"count"`
}

type readRequest struct {
	UpTo string `json:"up_to"`
}

type pushKeyBody struct {
	Key string `json:"key" msgpack:"key"`
}

type subscriptionItem struct {
	ID      string `json:"id" msgpack:"id"`
	Created int64  `json:"created" msgpack:"created"`
	Lang    string `json:"lang,omitempty" msgpack:"lang,omitempty"`
}

type subscriptionsBody struct {
	Items []subscriptionItem `json:"items" msgpack:"items"`
}

type subscribedBody struct {
	ID string `json:"id" msgpack:"id"`
}

var noNotifications = []notify.Notification{}

func (s *Server) inbox(ctx *fasthttp.RequestCtx, f format) (NotifyInbox, int64, bool) {
	n := s.cfg.Notify
	if n == nil || n.Inbox == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "notifications are not served by this process", -1)
		return nil, 0, false
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return nil, 0, false
	}
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	return n.Inbox, p.User, true
}

func (s *Server) storeFailed(ctx *fasthttp.RequestCtx, f format, what string, err error) {
	if s.unavailable(err) {
		s.log.Warn("http: "+what+" unavailable", slog.Any("err", err))
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
		s.fail(ctx, f, fasthttp.StatusServiceUnavailable, codeUnavailable, what+" is unavailable, retry later", -1)
		return
	}
	s.log.Error("http: "+what+" failed", slog.Any("err", err))
	s.fail(ctx, f, fasthttp.StatusInternalServerError, codeInternal, "internal error", -1)
}

// getNotifications is GET /v1/notifications?limit=N&cursor=C.
func (s *Server) getNotifications(ctx *fasthttp.RequestCtx, f format) {
	in, user, ok := s.inbox(ctx, f)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	limit := DefaultPageLimit
	if l := args.Peek("limit"); len(l) > 0 {
		n, err := fasthttp.ParseUint(l)
		if err != nil || n < 1 || n > notify.MaxPageLimit {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadLimit,
				fmt.Sprintf("limit must be an integer from 1 to %d", notify.MaxPageLimit), -1)
			return
		}
		limit = n
	}
	after, err := s.cfg.Notify.Cursors.Decode(user, string(args.Peek("cursor")))
	if err != nil {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadCursor, err.Error(), -1)
		return
	}
	page, err := in.Page(s.base, user, after, limit)
	if err == nil {
		err = notify.NamePeople(s.base, s.cfg.People, page.Items)
	}
	if err != nil {
		s.storeFailed(ctx, f, "notifications read", err)
		return
	}
	body := notificationsBody{Items: page.Items}
	if body.Items == nil {
		body.Items = noNotifications
	}
	if !page.Next.IsTop() {
		body.NextCursor = s.cfg.Notify.Cursors.Encode(user, page.Next)
	}
	s.reply(ctx, f, fasthttp.StatusOK, &body)
}

// getUnread is GET /v1/notifications/unread_count.
func (s *Server) getUnread(ctx *fasthttp.RequestCtx, f format) {
	in, user, ok := s.inbox(ctx, f)
	if !ok {
		return
	}
	n, err := in.Unread(s.base, user)
	if err != nil {
		s.storeFailed(ctx, f, "unread count", err)
		return
	}
	s.reply(ctx, f, fasthttp.StatusOK, &unreadBody{Count: n})
}

// postRead is POST /v1/notifications/read {"up_to": "<id>"}: everything
// at or older than that notification is read; without up_to, everything.
func (s *Server) postRead(ctx *fasthttp.RequestCtx, f format) {
	in, user, ok := s.inbox(ctx, f)
	if !ok {
		return
	}
	var req readRequest
	if b := ctx.PostBody(); len(b) > 0 {
		if !s.jsonBody(ctx, f, maxReadBody) {
			return
		}
		if !isJSONObject(b) || json.Unmarshal(b, &req) != nil {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeMalformed, `body must be {"up_to": "<notification id>"} or empty`, -1)
			return
		}
	}
	var upTo notify.Position
	if req.UpTo != "" {
		p, err := notify.ParseID(req.UpTo)
		if err != nil {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, err.Error(), -1)
			return
		}
		upTo = p
	}
	if err := in.MarkRead(s.base, user, upTo); err != nil {
		s.storeFailed(ctx, f, "mark read", err)
		return
	}
	n, err := in.Unread(s.base, user)
	if err != nil {
		s.storeFailed(ctx, f, "unread count", err)
		return
	}
	s.reply(ctx, f, fasthttp.StatusOK, &unreadBody{Count: n})
}

// getPushKey is GET /v1/push/key: the VAPID public key (no token needed).
func (s *Server) getPushKey(ctx *fasthttp.RequestCtx, f format) {
	n := s.cfg.Notify
	if n == nil || n.PublicKey == "" {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "web push is not configured", -1)
		return
	}
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "public, max-age=300")
	s.reply(ctx, f, fasthttp.StatusOK, &pushKeyBody{Key: n.PublicKey})
}

// pushSubscriptions is GET (the caller's devices), POST (a PushSubscription JSON) and DELETE
// ({"endpoint": ...} or ?id=) /v1/push/subscriptions.
func (s *Server) pushSubscriptions(ctx *fasthttp.RequestCtx, f format) {
	n := s.cfg.Notify
	if n == nil || n.Subs == nil || n.Checker == nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "web push is not configured", -1)
		return
	}
	p, ok := s.authenticate(ctx, f)
	if !ok {
		return
	}
	c, cancel := context.WithTimeout(s.base, 10*time.Second)
	defer cancel()
	if ctx.IsGet() || ctx.IsHead() {
		subs, err := n.Subs.Subscriptions(c, p.User)
		if err != nil {
			s.storeFailed(ctx, f, "list subscriptions", err)
			return
		}
		out := subscriptionsBody{Items: []subscriptionItem{}}
		for _, x := range subs {
			out.Items = append(out.Items, subscriptionItem{ID: x.ID, Created: x.Created, Lang: x.Lang})
		}
		s.reply(ctx, f, fasthttp.StatusOK, &out)
		return
	}
	if ctx.IsDelete() {
		id := string(ctx.QueryArgs().Peek("id"))
		switch b := ctx.PostBody(); {
		case id != "":
			if !isSubscriptionID(id) {
				s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, "id must be a subscription id (32 lowercase hex digits)", -1)
				return
			}
		case len(b) == 0:
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeMalformed, `send ?id= or {"endpoint": "..."}`, -1)
			return
		default:
			if !s.jsonBody(ctx, f, notify.MaxSubscriptionBytes) {
				return
			}
			var req struct {
				Endpoint string `json:"endpoint"`
			}
			if !isJSONObject(b) || json.Unmarshal(b, &req) != nil || req.Endpoint == "" {
				s.fail(ctx, f, fasthttp.StatusBadRequest, codeMalformed, `send ?id= or {"endpoint": "..."}`, -1)
				return
			}
			id = notify.SubscriptionID(req.Endpoint)
		}
		if err := n.Subs.DeleteSubscription(c, p.User, id); err != nil {
			s.storeFailed(ctx, f, "unsubscribe", err)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	if !s.jsonBody(ctx, f, notify.MaxSubscriptionBytes) {
		return
	}
	sub, err := notify.DecodeSubscription(ctx.PostBody(), n.AllowHTTP)
	if err != nil {
		s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, err.Error(), -1)
		return
	}
	if err := notify.Subscribe(c, n.Subs, n.Checker, p.User, sub, s.cfg.Now()); err != nil {
		if errors.Is(err, notify.ErrBadSubscription) {
			s.fail(ctx, f, fasthttp.StatusBadRequest, codeBadRequest, err.Error(), -1)
			return
		}
		s.storeFailed(ctx, f, "subscribe", err)
		return
	}
	s.reply(ctx, f, fasthttp.StatusCreated, &subscribedBody{ID: sub.ID})
}

// maxReadBody bounds a POST /v1/notifications/read body.
const maxReadBody = 1024

// jsonBody checks the framing of a request body that must be JSON of at
// most limit bytes: 415 for another Content-Type or a compressed body, 413
// over limit. It returns false when it has answered.
func (s *Server) jsonBody(ctx *fasthttp.RequestCtx, f format, limit int) bool {
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		s.fail(ctx, f, fasthttp.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"compressed request bodies are not supported; send the body without Content-Encoding", -1)
		return false
	}
	if !isJSON(mediaType(ctx.Request.Header.ContentType())) {
		s.fail(ctx, f, fasthttp.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Type must be application/json", -1)
		return false
	}
	if len(ctx.PostBody()) > limit {
		s.fail(ctx, f, fasthttp.StatusRequestEntityTooLarge, codeTooLarge,
			fmt.Sprintf("request body is over the limit of %d bytes for this endpoint", limit), -1)
		return false
	}
	return true
}

// isJSONObject reports whether b, after leading white space, starts an
// object (json.Unmarshal into a struct would also take null).
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// isSubscriptionID reports whether id has the shape notify.SubscriptionID
// gives: 32 lowercase hex digits.
func isSubscriptionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// pageFiles are the page's assets, loaded once.
var pageFiles, pageErr = web.Files()

// isPagePath reports whether path is one of the page's assets.
func isPagePath(path []byte) bool {
	_, ok := pageFiles[string(path)]
	return ok
}

// getPage serves the browser page and its assets.
func (s *Server) getPage(ctx *fasthttp.RequestCtx, f format) {
	file, ok := pageFiles[string(ctx.Path())]
	if s.cfg.Notify == nil || !s.cfg.Notify.Page || !ok || pageErr != nil {
		s.fail(ctx, f, fasthttp.StatusNotFound, codeNotFound, "no such endpoint", -1)
		return
	}
	h := &ctx.Response.Header
	h.SetContentType(file.ContentType)
	h.Set(fasthttp.HeaderCacheControl, "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'")
	if string(ctx.Path()) == "/sw.js" {
		h.Set("Service-Worker-Allowed", "/")
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	if !ctx.IsHead() {
		ctx.SetBody(file.Body)
	}
}
