package httpapi

import (
	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/metrics"
)

// routeID indexes Server.routes. The route names double as metric labels,
// so they form a fixed set and never contain a raw request path.
type routeID uint8

const (
	routeNotFound routeID = iota // also the label of requests that match nothing
	routeEvents
	routeFeed
	routeHealth
	routeMetrics
	routeNotifications
	routeUnread
	routeRead
	routePushKey
	routePushSubs
	routePage
	routeDeadLetters
	routeDeadLettersReplay
	routeComments
	numRoutes
)

// Route paths.
const (
	PathEvents  = "/v1/events"
	PathFeed    = "/v1/feed"
	PathHealth  = "/healthz"
	PathMetrics = "/metrics"
)

var routeNames = [numRoutes]string{
	routeNotFound:      "other",
	routeEvents:        PathEvents,
	routeFeed:          PathFeed,
	routeHealth:        PathHealth,
	routeMetrics:       PathMetrics,
	routeNotifications: PathNotifications,
	routeUnread:        PathUnread,
	routeRead:          PathRead,
	routePushKey:       PathPushKey,
	routePushSubs:      PathPushSubs,
	routePage:          "page",

	routeDeadLetters:       PathDeadLetters,
	routeDeadLettersReplay: PathDeadLettersReplay,
	routeComments:          PathComments,
}

var routeAllow = [numRoutes]string{
	routeEvents:        fasthttp.MethodPost,
	routeFeed:          "GET, HEAD",
	routeHealth:        "GET, HEAD",
	routeMetrics:       "GET, HEAD",
	routeNotifications: "GET, HEAD",
	routeUnread:        "GET, HEAD",
	routeRead:          fasthttp.MethodPost,
	routePushKey:       "GET, HEAD",
	routePushSubs:      "GET, HEAD, POST, DELETE",
	routePage:          "GET, HEAD",

	routeDeadLetters:       "GET, HEAD",
	routeDeadLettersReplay: fasthttp.MethodPost,
	routeComments:          "GET, HEAD",
}

type route struct {
	id      routeID
	name    string
	allow   string
	metrics *metrics.Route
}

func (r *route) allows(ctx *fasthttp.RequestCtx) bool {
	switch r.id {
	case routeEvents, routeRead, routeDeadLettersReplay:
		return ctx.IsPost()
	case routePushSubs:
		return ctx.IsPost() || ctx.IsDelete() || ctx.IsGet() || ctx.IsHead()
	}
	return ctx.IsGet() || ctx.IsHead()
}

// lookup maps a (fasthttp-normalized) path to its route; the switch on a
// converted []byte does not allocate.
func lookup(path []byte) routeID {
	switch string(path) {
	case PathEvents:
		return routeEvents
	case PathFeed:
		return routeFeed
	case PathHealth:
		return routeHealth
	case PathMetrics:
		return routeMetrics
	case PathNotifications:
		return routeNotifications
	case PathUnread:
		return routeUnread
	case PathRead:
		return routeRead
	case PathPushKey:
		return routePushKey
	case PathPushSubs:
		return routePushSubs
	case PathDeadLetters:
		return routeDeadLetters
	case PathDeadLettersReplay:
		return routeDeadLettersReplay
	}
	if isPagePath(path) {
		return routePage
	}
	if isCommentsPath(path) {
		return routeComments
	}
	return routeNotFound
}
