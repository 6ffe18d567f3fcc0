package bench

import (
	"bytes"
	"context"
	"fmt"
	neturl "net/url"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/lenta-dev/lenta/auth"
	"github.com/lenta-dev/lenta/metrics"
	"github.com/lenta-dev/lenta/retry"
	"github.com/lenta-dev/lenta/schema"
)

// httpc is a fasthttp client with context deadlines.
type httpc struct{ c *fasthttp.Client }

func newHTTP() *httpc {
	return &httpc{c: &fasthttp.Client{
		MaxConnsPerHost:     1024,
		ReadTimeout:         30 * time.Second,
		WriteTimeout:        30 * time.Second,
		MaxResponseBodySize: 64 << 20,
	}}
}

// deadline is ctx's deadline, or 30s from now.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(30 * time.Second)
}

// get does a GET and returns the status and body (copied into dst).
func (h *httpc) get(ctx context.Context, url, token string, dst []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, dst, err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/msgpack")
	if err := h.c.DoDeadline(req, resp, deadline(ctx)); err != nil {
		return 0, dst, fmt.Errorf("GET %s: %w", url, err)
	}
	return resp.StatusCode(), append(dst[:0], resp.Body()...), nil
}

// Client speaks feedd's public API as the service.
type Client struct {
	base    string
	h       *httpc
	service string // a service token
}

// NewClient makes a client of the feedd at base whose tokens are signed
// with secret.
func NewClient(base, secret string) (*Client, error) {
	tk, err := auth.New([]byte(secret))
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	svc, err := tk.Issue(1, true, 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("service token: %w", err)
	}
	return &Client{base: base, h: newHTTP(), service: svc}, nil
}

// CloseIdle closes the client's idle connections.
func (c *Client) CloseIdle() { c.h.c.CloseIdleConnections() }

// Publish posts events (at most schema.MaxBatch) as msgpack and expects 202.
func (c *Client) Publish(ctx context.Context, evs []schema.Event) error {
	body, err := schema.MarshalMsgpackValue(evs)
	if err != nil {
		return fmt.Errorf("encode events: %w", err)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.base + "/v1/events")
	req.Header.SetMethod("POST")
	req.Header.Set("Authorization", "Bearer "+c.service)
	req.Header.SetContentType("application/msgpack")
	req.SetBody(body)
	if err := ctx.Err(); err != nil {
		return err
	}
	return retry.Do(ctx, publishRetry, func() error {
		err := c.h.c.DoDeadline(req, resp, deadline(ctx))
		switch {
		case err != nil:
			return fmt.Errorf("publish %d events: %w", len(evs), err)
		case resp.StatusCode() == fasthttp.StatusAccepted:
			return nil
		case resp.StatusCode() == fasthttp.StatusServiceUnavailable: // the bus is busy
			return fmt.Errorf("publish %d events: %d %s", len(evs), resp.StatusCode(), resp.Body())
		}
		return retry.Permanent(fmt.Errorf("publish %d events: %d %s", len(evs), resp.StatusCode(), resp.Body()))
	})
}

// publishRetry: a 503 (the bus is busy) or a network error is retried a
// few times, 50 ms apart; anything else fails at once.
var publishRetry = retry.Policy{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 21}

// pageWire is the part of a feed page the bench looks at.
type pageWire struct {
	Items []struct {
		EventID string `msgpack:"event_id"`
	} `msgpack:"items"`
	Next string `msgpack:"next_cursor"`
}

// Reader reads feeds; one per client goroutine (it keeps a buffer).
type Reader struct {
	c     *Client
	buf   []byte
	order string
}

// NewReader makes a feed reader asking for order (passed through as
// order=; empty sends none).
func (c *Client) NewReader(order string) *Reader { return &Reader{c: c, order: order} }

// Page reads the first page of user's feed and returns its item ids.
func (r *Reader) Page(ctx context.Context, user int64, limit int) ([]string, error) {
	ids, _, err := r.PageAt(ctx, user, "", limit)
	return ids, err
}

// Load reads the page of user's feed at cursor ("" the first) as a load
// generator does: the whole answer is received and checked, but the items
// are skipped, not decoded (the client shares the cores it measures; only
// the count and the next cursor are read).
func (r *Reader) Load(ctx context.Context, user int64, cursor string, limit int) (items int, next string, err error) {
	code, body, err := r.get(ctx, user, cursor, limit)
	if err != nil {
		return 0, "", err
	}
	if code != 200 {
		return 0, "", fmt.Errorf("feed of %d: %d %s", user, code, body)
	}
	return skimPage(user, body)
}

// skimPage reads a msgpack feed page's item count and next cursor,
// skipping the items.
func skimPage(user int64, body []byte) (items int, next string, err error) {
	d := schema.AcquireMsgpackReader(bytes.NewReader(body))
	defer schema.ReleaseMsgpackReader(d)
	n, err := d.MapLen()
	for ; err == nil && n > 0; n-- {
		var key string
		if key, err = d.String(); err != nil {
			break
		}
		switch key {
		case "items":
			var k int
			if k, err = d.ArrayLen(); err != nil {
				break
			}
			for items = 0; items < k && err == nil; items++ {
				err = d.Skip()
			}
		case "next_cursor":
			next, err = d.String()
		default:
			err = d.Skip()
		}
	}
	if err != nil {
		return 0, "", fmt.Errorf("decode feed of %d: %w", user, err)
	}
	return items, next, nil
}

func (r *Reader) get(ctx context.Context, user int64, cursor string, limit int) (int, []byte, error) {
	url := r.c.base + "/v1/feed?limit=" + strconv.Itoa(limit) + "&user=" + strconv.FormatInt(user, 10)
	if r.order != "" {
		url += "&order=" + r.order
	}
	if cursor != "" {
		url += "&cursor=" + neturl.QueryEscape(cursor)
	}
	code, body, err := r.c.h.get(ctx, url, r.c.service, r.buf)
	r.buf = body
	return code, body, err
}

// PageAt reads the page of user's feed at cursor ("" the first) and
// returns its item ids and the next page's cursor.
func (r *Reader) PageAt(ctx context.Context, user int64, cursor string, limit int) (ids []string, next string, err error) {
	code, body, err := r.get(ctx, user, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	if code != 200 {
		return nil, "", fmt.Errorf("feed of %d: %d %s", user, code, body)
	}
	var p pageWire
	if err := schema.UnmarshalMsgpackValue(body, &p); err != nil {
		return nil, "", fmt.Errorf("decode feed of %d: %w", user, err)
	}
	ids = make([]string, len(p.Items))
	for i := range p.Items {
		ids[i] = p.Items[i].EventID
	}
	return ids, p.Next, nil
}

// Metrics reads /metrics as metrics.Samples: every sample summed over its
// labels, by name, and each labelled sample also under its name with its
// labels (name{a="x",b="y"}).
func (c *Client) Metrics(ctx context.Context) (map[string]float64, error) {
	code, body, err := c.h.get(ctx, c.base+"/metrics", "", nil)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("metrics: %d", code)
	}
	return parseMetrics(body)
}

func parseMetrics(body []byte) (map[string]float64, error) {
	return metrics.ParseSamples(body)
}

// Metric names the bench reads.
const (
	mApplied    = "lenta_fanout_events_applied_total"
	mDeliveries = "lenta_fanout_deliveries_total"
	mDuplicates = "lenta_fanout_duplicates_skipped_total"
	mDead       = "lenta_fanout_dead_lettered_total"
	mLag        = "lenta_bus_lag_messages"
)
