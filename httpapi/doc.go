// Package httpapi is Lenta's HTTP API on fasthttp, every route of it:
//
//   - POST /v1/events (ingest), GET /v1/feed (the feed, ranked or newest
//     first);
//   - GET /v1/notifications, GET /v1/notifications/unread_count,
//     POST /v1/notifications/read (the inbox);
//   - GET /v1/push/key, GET|POST|DELETE /v1/push/subscriptions (Web Push);
//   - GET /v1/admin/deadletters, POST /v1/admin/deadletters/replay
//     (service tokens);
//   - GET /healthz, GET /metrics, and the web page at /.
//
// It is the only package that runs a fasthttp server. It translates HTTP to
// the domain seams and back — fanout.Publisher for ingest, timeline.Feed and
// timeline.Cursors for reading, auth.Tokens for bearer tokens — and holds no
// domain logic of its own beyond the request contract:
//
//   - Bodies are JSON by default; msgpack (application/msgpack, also
//     application/x-msgpack and application/vnd.msgpack) on request.
//     Responses, errors included, are msgpack when the Accept header prefers
//     it, JSON otherwise. Every error body is {"error", "code"[, "index"]}.
//   - POST /v1/events publishes all events of a request or none: every event
//     is normalized and checked (contract, actor = token user unless the
//     token has the service scope, a profile only from a service token, no
//     repeated id) before the Publisher sees any of them. 202 means the
//     Publisher made them durable.
//   - Feed pages and notifications name their people (Config.People:
//     timeline.NamePeople, notify.NamePeople) after they are read and
//     before they are encoded, one profile read per page.
//   - GET /v1/feed reads the token user's feed. A service token may add
//     user=ID to read another user's feed (for server-side renderers and
//     tests); a user token may only name itself.
//   - Limits (Config; README.md, "Limits"): a token bucket per client
//     address (IPv4, or IPv6 /64) and per verified token subject
//     (golang.org/x/time/rate, in tables bounded by LimiterEntries and
//     emptied lazily, no goroutine), 429 with code rate_limited and
//     Retry-After over them, /healthz and /metrics exempt; a cap on open
//     connections per address; bounds on the time to send the headers, the
//     body, to write the answer and to stay idle; body and header sizes.
//
// This package must never log a token, an Authorization header, a query
// string or a request body, never publish part of a refused request, never
// put user input into a metric label, and never import a storage or bus
// library.
package httpapi
