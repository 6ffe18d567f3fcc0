package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape content type %q", ct)
	}
	return rec.Body.String()
}

func TestScrapeShowsMetrics(t *testing.T) {
	r := New()
	feed := r.Route("/v1/feed")
	feed.Observe(200, 3*time.Millisecond)
	feed.Observe(200, 4*time.Millisecond)
	feed.Observe(400, time.Millisecond)
	feed.Observe(999, time.Millisecond)
	r.EventsAccepted(7)
	r.Applied(3, 270)
	r.Skipped(2)
	r.DeadLettered("not_owner", 1)
	r.Retried(errors.New("store down"))
	r.Retried(nil)
	r.SetLagFunc(func() float64 { return 42 })

	out := scrape(t, r)
	for _, want := range []string{
		`lenta_http_requests_total{code="200",route="/v1/feed"} 2`,
		`lenta_http_requests_total{code="400",route="/v1/feed"} 1`,
		`lenta_http_requests_total{code="other",route="/v1/feed"} 1`,
		`lenta_http_request_duration_seconds_bucket{route="/v1/feed",le="0.0025"} 2`,
		`lenta_http_request_duration_seconds_count{route="/v1/feed"} 4`,
		`lenta_ingest_events_accepted_total 7`,
		`lenta_fanout_events_applied_total 3`,
		`lenta_fanout_deliveries_total 270`,
		`lenta_fanout_duplicates_skipped_total 2`,
		`lenta_fanout_dead_lettered_total 1`,
		`lenta_fanout_retries_total 2`,
		`lenta_bus_lag_messages 42`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
		`# HELP lenta_http_requests_total `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
	r.SetLagFunc(nil)
	if out := scrape(t, r); !strings.Contains(out, "lenta_bus_lag_messages 0") {
		t.Error("lag not reset to 0")
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(), New() // would panic on duplicate registration if global
	a.EventsAccepted(5)
	if out := scrape(t, b); !strings.Contains(out, "lenta_ingest_events_accepted_total 0") {
		t.Fatal("registries share state")
	}
}

func TestRouteObserveConcurrent(t *testing.T) {
	r := New()
	rt := r.Route("/v1/events")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				rt.Observe(202, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if out := scrape(t, r); !strings.Contains(out, `lenta_http_requests_total{code="202",route="/v1/events"} 8000`) {
		t.Fatal("lost observations")
	}
}

func BenchmarkRouteObserve(b *testing.B) {
	rt := New().Route("/v1/feed")
	b.ReportAllocs()
	for b.Loop() {
		rt.Observe(200, time.Millisecond)
	}
}
