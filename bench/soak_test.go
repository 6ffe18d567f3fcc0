package bench

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// soakRun makes samples every 10 s over 600 s: heap and RSS in MiB and
// goroutines as functions of t (seconds), with a GC-like sawtooth on the
// heap.
func soakRun(heap, rss, gor func(t float64) float64) []SoakSample {
	var ss []SoakSample
	for t := 0.0; t <= 600; t += 10 {
		saw := 1 + 0.3*math.Mod(t/10, 4)/3 // 1.0 .. 1.3: the GC cycle
		ss = append(ss, SoakSample{T: t, HeapInuse: heap(t) * saw * mib, RSS: rss(t) * mib, Goroutines: gor(t)})
	}
	return ss
}

func flat(v float64) func(float64) float64 { return func(float64) float64 { return v } }

func TestJudgeSoak(t *testing.T) {
	clean := SoakEnd{Duration: 600}
	cases := []struct {
		name    string
		samples []SoakSample
		end     SoakEnd
		pass    bool
		reason  string // in the reasons when it fails
	}{
		{name: "flat", samples: soakRun(flat(80), flat(250), flat(90)), end: clean, pass: true},
		{name: "warm-up then flat", samples: soakRun(
			func(t float64) float64 { return 40 + min(t, 100)*0.4 }, // grows until 100 s, before the warm window
			func(t float64) float64 { return 150 + min(t, 100) },
			func(t float64) float64 { return 60 + min(t, 100)/4 }), end: clean, pass: true},
		{name: "goroutines wobble within the slack", samples: soakRun(flat(80), flat(250),
			func(t float64) float64 { return 90 + float64(int(t/10)%3)*4 }), end: clean, pass: true},
		{name: "small heap under the floor", samples: soakRun(
			func(t float64) float64 { return 20 + t/60 }, flat(100), flat(50)), end: clean, pass: true},
		{name: "leaking heap", samples: soakRun(
			func(t float64) float64 { return 80 + t/60*6 }, flat(250), flat(90)), // +6 MiB/min
			end: clean, reason: "heap in use growth"},
		{name: "leaking RSS", samples: soakRun(flat(80),
			func(t float64) float64 { return 250 + t/60*20 }, flat(90)), end: clean, reason: "RSS growth"},
		{name: "leaking goroutines", samples: soakRun(flat(80), flat(250),
			func(t float64) float64 { return 90 + t/20 }), // one every 20 s
			end: clean, reason: "goroutines at the end"},
		{name: "read errors", samples: soakRun(flat(80), flat(250), flat(90)),
			end: SoakEnd{Duration: 600, ReadErrors: 3}, reason: "failed requests"},
		{name: "5xx", samples: soakRun(flat(80), flat(250), flat(90)),
			end: SoakEnd{Duration: 600, Server5xx: 1}, reason: "failed requests"},
		{name: "lag not drained", samples: soakRun(flat(80), flat(250), flat(90)),
			end: SoakEnd{Duration: 600, Lag: 1200}, reason: "bus lag after the drain"},
		{name: "lag unreadable", samples: soakRun(flat(80), flat(250), flat(90)),
			end: SoakEnd{Duration: 600, Lag: -1}, reason: "could not be read"},
		{name: "too few samples", samples: soakRun(flat(80), flat(250), flat(90))[:30],
			end: clean, reason: "too few samples"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := JudgeSoak(DefaultSoakCriteria(), tc.samples, tc.end)
			if v.Pass != tc.pass {
				t.Fatalf("pass %v, want %v: %s (checks %+v)", v.Pass, tc.pass, v, v.Checks)
			}
			if !tc.pass && !strings.Contains(v.String(), tc.reason) {
				t.Errorf("verdict %q does not say %q", v, tc.reason)
			}
			if tc.pass && v.String() != "PASS" {
				t.Errorf("verdict %q", v)
			}
		})
	}
}

func TestJudgeSoakSlope(t *testing.T) {
	var ss []SoakSample
	for t := 0.0; t <= 600; t += 10 {
		h := 100.0 // MiB, until the warm window: the slope starts there
		if t >= 120 {
			h = 100 + (t-120)/60*2
		}
		ss = append(ss, SoakSample{T: t, HeapInuse: h * mib, RSS: 250 * mib, Goroutines: 90})
	}
	v := JudgeSoak(DefaultSoakCriteria(), ss, SoakEnd{Duration: 600})
	if got := v.HeapSlope / mib; math.Abs(got-2) > 1e-9 {
		t.Errorf("slope %v MiB/min, want 2", got)
	}
	if !v.Pass || v.WarmSamples != 12 || v.EndSamples != 13 {
		t.Errorf("%s, windows %d/%d samples", v, v.WarmSamples, v.EndSamples)
	}
	if got := slope([]SoakSample{{T: 0, HeapInuse: 10}, {T: 60, HeapInuse: 30}, {T: 120, HeapInuse: 50}}); got != 20 {
		t.Errorf("exact slope %v", got)
	}
	if median([]float64{3, 1, 2, 10}) != 2.5 || median(nil) != 0 {
		t.Error("median")
	}
}

func TestProcessSample(t *testing.T) {
	body := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 57
# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes 4.2991616e+07
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.9e+08
# TYPE lenta_bus_lag_messages gauge
lenta_bus_lag_messages 12
# TYPE lenta_fanout_events_applied_total counter
lenta_fanout_events_applied_total 100
# TYPE lenta_fanout_duplicates_skipped_total counter
lenta_fanout_duplicates_skipped_total 2
# TYPE lenta_fanout_deliveries_total counter
lenta_fanout_deliveries_total 1500
# TYPE lenta_http_requests_total counter
lenta_http_requests_total{code="200",route="/v1/feed"} 900
lenta_http_requests_total{code="503",route="/v1/events"} 2
lenta_http_requests_total{code="500",route="/v1/feed"} 1
lenta_http_requests_total{code="other",route="/v1/feed"} 4
# TYPE lenta_http_request_duration_seconds histogram
lenta_http_request_duration_seconds_bucket{route="/v1/feed",le="0.01"} 3
lenta_http_request_duration_seconds_bucket{route="/v1/feed",le="+Inf"} 4
lenta_http_request_duration_seconds_sum{route="/v1/feed"} 0.1
lenta_http_request_duration_seconds_count{route="/v1/feed"} 4
`
	fams, err := parseFamilies([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s, err := processSample(fams)
	if err != nil {
		t.Fatal(err)
	}
	want := SoakSample{HeapInuse: 42991616, RSS: 1.9e8, Goroutines: 57, Lag: 12, Applied: 102, Deliveries: 1500, Server5xx: 3}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	delete(fams, mHeapInuse)
	if _, err := processSample(fams); err == nil || !strings.Contains(err.Error(), mHeapInuse) {
		t.Errorf("missing heap: %v", err)
	}
}

func TestReadPacer(t *testing.T) {
	ctx := context.Background()
	users := func(r *rand.Rand) int64 { return 1 + r.Int64N(100) }
	// Fast pages: the rate is met, every read counted.
	p := startReadPacer(ctx, 200, 4, 500*time.Millisecond, 1, users, func(ctx context.Context, w int, u int64) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	time.Sleep(250 * time.Millisecond)
	if n, errs, _ := p.take(); n == 0 || errs != 0 {
		t.Errorf("first half: %d reads, %d errors", n, errs)
	}
	time.Sleep(350 * time.Millisecond) // past its 500 ms: it has ended by itself
	tot := p.Stop()
	if n := len(tot.lat); n < 60 || n > 101 || tot.errors != 0 {
		t.Errorf("%d reads (want about 100), %d errors, %d skipped", n, tot.errors, tot.skipped)
	}
	// Slow pages on one worker: reads that come due while it is busy are
	// skipped, not queued; failures are counted.
	p = startReadPacer(ctx, 200, 1, 300*time.Millisecond, 1, users, func(ctx context.Context, w int, u int64) error {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		return errors.New("boom")
	})
	tot = p.Stop() // early: the worker's page is cut off, not counted
	if tot.skipped > 10 || tot.errors > 1 {
		t.Errorf("stopped at once: %d skipped, %d errors", tot.skipped, tot.errors)
	}
	p = startReadPacer(ctx, 200, 1, 300*time.Millisecond, 1, users, func(ctx context.Context, w int, u int64) error {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		return errors.New("boom")
	})
	time.Sleep(400 * time.Millisecond)
	tot = p.Stop()
	if tot.skipped < 20 || tot.errors < 1 || tot.errors > 6 || tot.firstErr == nil {
		t.Errorf("slow: %d skipped, %d errors (%v)", tot.skipped, tot.errors, tot.firstErr)
	}
}
