package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/notify"
)

// Namespace prefixes every Lenta metric name.
const Namespace = "lenta"

// LatencyBuckets are the HTTP latency histogram bounds in seconds, dense
// around the 20 ms p99 target of a feed page.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Registry holds every Lenta metric of one process. It is safe for
// concurrent use. The zero value is not usable; call New.
type Registry struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec

	eventsAccepted prometheus.Counter

	applied      prometheus.Counter
	deliveries   prometheus.Counter
	duplicates   prometheus.Counter
	deadLettered prometheus.Counter
	deadLetters  *prometheus.CounterVec
	retries      prometheus.Counter

	pushSent     prometheus.Counter
	pushRetried  prometheus.Counter
	pushFailed   prometheus.Counter
	pushRemoved  prometheus.Counter
	pushStale    prometheus.Counter
	pushSkipped  prometheus.Counter
	pushClaimed  prometheus.Counter
	pushDuration prometheus.Histogram
	pushShards   prometheus.Gauge

	lag atomic.Pointer[func() float64]

	handler http.Handler
}

// Registry implements fanout.Observer and notify.Observer.
var (
	_ fanout.Observer = (*Registry)(nil)
	_ notify.Observer = (*Registry)(nil)
)

// PushBuckets are the push send latency histogram bounds in seconds: a
// push service answers in tens to hundreds of milliseconds; the client
// gives up after 15 s.
var PushBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15}

// New makes a Registry with its own prometheus registry (never the global
// default one), with the Go runtime and process collectors registered.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	counter := func(subsystem, name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help})
	}
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests served, by route and status code.",
	}, []string{"route", "code"})
	r.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from request read to response ready, by route.",
		Buckets: LatencyBuckets,
	}, []string{"route"})
	r.eventsAccepted = counter("ingest", "events_accepted_total", "Events accepted over HTTP and handed to the bus.")
	r.applied = counter("fanout", "events_applied_total", "Events fully applied by the fan-out.")
	r.deliveries = counter("fanout", "deliveries_total", "Timeline rows written by the fan-out.")
	r.duplicates = counter("fanout", "duplicates_skipped_total", "Re-delivered events skipped because they were already applied.")
	r.deadLettered = counter("fanout", "dead_lettered_total", "Events sent to the dead-letter store.")
	r.deadLetters = newDeadLetters()
	r.retries = counter("fanout", "retries_total", "Batch applications retried after a failure.")
	r.pushSent = counter("push", "sent_total", "Web Push messages a push service accepted (2xx).")
	r.pushRetried = counter("push", "retried_total", "Web Push attempts that failed (408, 429, 5xx, network) and were scheduled again.")
	r.pushFailed = counter("push", "failed_total", "Web Push messages given up after the last attempt.")
	r.pushRemoved = counter("push", "subscriptions_removed_total", "Push subscriptions deleted (404, 410, other 4xx, refused endpoint).")
	r.pushStale = counter("push", "stale_dropped_total", "Web Push messages dropped: past their deadline, broadcast ended or object deleted.")
	r.pushSkipped = counter("push", "skipped_total", "Push tasks with nothing to push: no device subscribed, the group retracted, or already pushed.")
	r.pushClaimed = counter("push", "claimed_elsewhere_total", "Push tasks not pushed because the shard's previous owner had claimed their group and window (a handover).")
	r.pushDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "push", Name: "send_duration_seconds",
		Help:    "Time of one Web Push attempt at the push service, whatever its outcome.",
		Buckets: PushBuckets,
	})
	r.pushShards = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "push", Name: "shards_held",
		Help: "Push queue shards this process serves (holds the lease of).",
	})
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "bus", Name: "lag_messages",
		Help: "Events published to the bus and not yet applied (consumer lag); 0 until a lag source is set.",
	}, r.readLag)
	r.reg.MustRegister(
		r.httpRequests, r.httpLatency, r.eventsAccepted,
		r.applied, r.deliveries, r.duplicates, r.deadLettered, r.deadLetters, r.retries, lag,
		r.pushSent, r.pushRetried, r.pushFailed, r.pushRemoved, r.pushStale, r.pushSkipped, r.pushClaimed, r.pushDuration, r.pushShards,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// No HandlerOpts.Timeout: httpapi runs this handler on fasthttp, where
	// its http.TimeoutHandler would race with the server's shutdown (see
	// httpapi.New).
	r.handler = promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		Registry:            r.reg, // counts scrape errors in promhttp_metric_handler_errors_total
		MaxRequestsInFlight: 4,
	})
	return r
}

// Handler serves the metrics in the Prometheus exposition format (text
// unless the scraper negotiates another), as a net/http handler: the HTTP
// server (httpapi) adapts it to its own.
func (r *Registry) Handler() http.Handler { return r.handler }

// SetLagFunc sets the source of the bus lag gauge; it is called at every
// scrape and must be fast and safe for concurrent use. nil unsets it.
func (r *Registry) SetLagFunc(f func() float64) {
	if f == nil {
		r.lag.Store(nil)
		return
	}
	r.lag.Store(&f)
}

func (r *Registry) readLag() float64 {
	if f := r.lag.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// EventsAccepted counts n events accepted by the ingest API.
func (r *Registry) EventsAccepted(n int) { r.eventsAccepted.Add(float64(n)) }

// Applied implements fanout.Observer.
func (r *Registry) Applied(events, deliveries int) {
	r.applied.Add(float64(events))
	r.deliveries.Add(float64(deliveries))
}

// Skipped implements fanout.Observer.
func (r *Registry) Skipped(duplicates int) { r.duplicates.Add(float64(duplicates)) }

// DeadLettered implements fanout.Observer.
// reason labels lenta_dead_letters_total; an unknown code counts as
// "other", so the label set stays fixed.
func (r *Registry) DeadLettered(reason string, n int) {
	r.deadLettered.Add(float64(n))
	r.deadLetters.WithLabelValues(deadReason(reason)).Add(float64(n))
}

// Retried implements fanout.Observer. The error is not a label (unbounded).
func (r *Registry) Retried(error) { r.retries.Inc() }

// PushSent implements notify.Observer.
func (r *Registry) PushSent() { r.pushSent.Inc() }

// PushRetried implements notify.Observer.
func (r *Registry) PushRetried() { r.pushRetried.Inc() }

// PushFailed implements notify.Observer.
func (r *Registry) PushFailed() { r.pushFailed.Inc() }

// PushRemoved implements notify.Observer.
func (r *Registry) PushRemoved() { r.pushRemoved.Inc() }

// PushStale implements notify.Observer.
func (r *Registry) PushStale() { r.pushStale.Inc() }

// PushSkipped implements notify.Observer.
func (r *Registry) PushSkipped() { r.pushSkipped.Inc() }

// PushClaimed implements notify.Observer.
func (r *Registry) PushClaimed() { r.pushClaimed.Inc() }

// PushSendDuration implements notify.Observer.
func (r *Registry) PushSendDuration(d time.Duration) { r.pushDuration.Observe(d.Seconds()) }

// PushShards implements notify.Observer.
func (r *Registry) PushShards(n int) { r.pushShards.Set(float64(n)) }

// Status codes a Route keeps pre-resolved counters for.
const (
	minCode = 100
	maxCode = 599
)

// Route is the HTTP instrumentation of one route. Observe costs no map
// lookup after the first request with a given status code.
type Route struct {
	name    string
	vec     *prometheus.CounterVec
	latency prometheus.Observer
	// codes[code-minCode] for 100..599; the last slot counts anything else
	// as code "other". Children are made on first use, so a scrape shows
	// only codes that happened.
	codes [maxCode - minCode + 2]atomic.Pointer[counterRef]
}

type counterRef struct{ c prometheus.Counter }

// Route returns the instrumentation of route name. name becomes a label
// value: it must come from a fixed set (the router's route names), never
// from a raw request path. Call it once per route at setup.
func (r *Registry) Route(name string) *Route {
	return &Route{
		name:    name,
		vec:     r.httpRequests,
		latency: r.httpLatency.WithLabelValues(name),
	}
}

// Observe records one request that ended with status code after d.
func (rt *Route) Observe(code int, d time.Duration) {
	rt.latency.Observe(d.Seconds())
	rt.counter(code).Inc()
}

// Count records one request that ended with status code without a latency
// (a request refused before it reached a handler, such as an oversized body).
func (rt *Route) Count(code int) { rt.counter(code).Inc() }

func (rt *Route) counter(code int) prometheus.Counter {
	slot, label := len(rt.codes)-1, "other"
	if code >= minCode && code <= maxCode {
		slot, label = code-minCode, ""
	}
	if ref := rt.codes[slot].Load(); ref != nil {
		return ref.c
	}
	if label == "" {
		label = strconv.Itoa(code)
	}
	ref := &counterRef{c: rt.vec.WithLabelValues(rt.name, label)}
	// Concurrent first calls resolve the same child; either store is fine.
	rt.codes[slot].Store(ref)
	return ref.c
}
