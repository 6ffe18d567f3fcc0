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
	routeNotFound: "other",
	routeEvents:   PathEvents,
	routeFeed:     PathFeed,
	routeHealth:   PathHealth,
	routeMetrics:  PathMetrics,
}

var routeAllow = [numRoutes]string{
	routeEvents:  fasthttp.MethodPost,
	routeFeed:    "GET, HEAD",
	routeHealth:  "GET, HEAD",
	routeMetrics: "GET, HEAD",
}

type route struct {
	id      routeID
	name    string
	allow   string
	metrics *metrics.Route
}

func (r *route) allows(ctx *fasthttp.RequestCtx) bool {
	if r.id == routeEvents {
		return ctx.IsPost()
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
	}
	return routeNotFound
}
