package bench

import (
	"context"
	"fmt"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/lenta-dev/lenta/metrics"
)

// Metric names of the Go and process collectors the soak reads.
const (
	mHeapInuse  = "go_memstats_heap_inuse_bytes"
	mGoroutines = "go_goroutines"
	mRSS        = "process_resident_memory_bytes"
	mHTTP       = "lenta_http_requests_total"
)

// Families reads /metrics with the Prometheus text parser.
func (c *Client) Families(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	code, body, err := c.h.get(ctx, c.base+"/metrics", "", nil)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("metrics: %d", code)
	}
	return parseFamilies(body)
}

func parseFamilies(body []byte) (map[string]*dto.MetricFamily, error) {
	return metrics.ParseFamilies(body)
}

// sumOf adds up the counter, gauge or untyped values of the family name
// whose labels keep accepts (nil: all); ok is false if there is no such
// family.
func sumOf(fams map[string]*dto.MetricFamily, name string, keep func(*dto.Metric) bool) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		if keep != nil && !keep(m) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, true
}

// label is the value of m's label name ("" if absent).
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// processSample takes feedd's process and pipeline figures from parsed
// metrics (the bench's own counts are left zero).
func processSample(fams map[string]*dto.MetricFamily) (SoakSample, error) {
	var s SoakSample
	var missing []string
	need := func(name string) float64 {
		v, ok := sumOf(fams, name, nil)
		if !ok {
			missing = append(missing, name)
		}
		return v
	}
	s.HeapInuse = need(mHeapInuse)
	s.Goroutines = need(mGoroutines)
	s.RSS = need(mRSS)
	s.Lag = need(mLag)
	s.Deliveries = need(mDeliveries)
	s.Applied = need(mApplied)
	for _, n := range []string{mDuplicates, mDead} {
		v, _ := sumOf(fams, n, nil)
		s.Applied += v
	}
	// No request yet means no family yet: zero 5xx.
	s.Server5xx, _ = sumOf(fams, mHTTP, func(m *dto.Metric) bool { return strings.HasPrefix(label(m, "code"), "5") })
	if len(missing) > 0 {
		return s, fmt.Errorf("metrics: no %s", strings.Join(missing, ", "))
	}
	return s, nil
}
