package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// SoakSample is one reading taken during a soak: feedd's process figures
// from /metrics and the bench's own request counts since the previous
// reading.
type SoakSample struct {
	T          float64 `json:"t"` // seconds since the load began
	HeapInuse  float64 `json:"heap_inuse_bytes"`
	RSS        float64 `json:"rss_bytes"`
	Goroutines float64 `json:"goroutines"`
	Lag        float64 `json:"lag"`
	Applied    float64 `json:"applied"` // cumulative, as Sample.Applied
	Deliveries float64 `json:"deliveries"`
	Server5xx  float64 `json:"server_5xx"` // lenta_http_requests_total{code=~"5.."} since the soak began
	// Since the previous sample (zero in the first):
	Writes      int     `json:"writes"`
	WriteErrors int     `json:"write_errors"`
	Reads       int     `json:"reads"`
	ReadErrors  int     `json:"read_errors"`
	ReadP50     float64 `json:"read_p50_ms"`
	ReadP99     float64 `json:"read_p99_ms"`
	// DataBytes is the size of the embedded data folder (0 on a real target).
	DataBytes float64 `json:"data_bytes"`
}

// SoakCriteria are the thresholds of the soak's flatness verdict. The
// windows are fractions of the load's length: the warm window (after
// warm-up) is the reference, the end window is compared against it.
type SoakCriteria struct {
	WarmFrom, WarmTo float64
	EndFrom          float64
	// HeapGrowth is the most the end window's median heap in use may exceed
	// the warm window's, as a fraction of it; HeapFloor (bytes) is the
	// growth always allowed, whatever the fraction says.
	HeapGrowth, HeapFloor float64
	// RSSGrowth and RSSFloor are the same for the resident set.
	RSSGrowth, RSSFloor float64
	// GoroutineSlack is how many goroutines the end window's median may
	// have above the warm window's maximum.
	GoroutineSlack float64
	// MaxErrors is the most failed requests (bench-side transport errors
	// and unexpected statuses, and feedd's 5xx) allowed.
	MaxErrors float64
	// MaxEndLag is the most bus lag allowed once the load has stopped and
	// the pipeline has had its drain time.
	MaxEndLag float64
}

// DefaultSoakCriteria are the thresholds feedbench soak judges by (the
// reasons are in docs/benchmarks.md, "Soak").
func DefaultSoakCriteria() SoakCriteria {
	return SoakCriteria{
		WarmFrom: 0.2, WarmTo: 0.4, EndFrom: 0.8,
		HeapGrowth: 0.25, HeapFloor: 8 << 20,
		RSSGrowth: 0.25, RSSFloor: 64 << 20,
		GoroutineSlack: 10,
		MaxErrors:      0,
		MaxEndLag:      0,
	}
}

// SoakEnd is what is known once the load has stopped and drained.
type SoakEnd struct {
	Duration    float64 // seconds of load
	ReadErrors  int
	WriteErrors int
	Server5xx   float64 // feedd's 5xx responses during the soak (delta)
	Lag         float64 // bus lag after the drain (-1: unreadable)
}

// SoakCheck is one criterion's outcome.
type SoakCheck struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"` // value must be <= limit
	Unit  string  `json:"unit"`
	OK    bool    `json:"ok"`
	Why   string  `json:"why"`
}

// SoakVerdict is the flatness verdict of a soak.
type SoakVerdict struct {
	Pass     bool         `json:"pass"`
	Reasons  []string     `json:"reasons,omitempty"` // why it failed
	Checks   []SoakCheck  `json:"checks"`
	Criteria SoakCriteria `json:"criteria"`

	WarmSamples, EndSamples int
	WarmHeap, EndHeap       float64 // medians, bytes
	WarmRSS, EndRSS         float64
	WarmGoroutinesMax       float64
	EndGoroutines           float64 // median
	// HeapLimit (bytes) and GoroutineLimit are the most the end window's
	// medians could be and pass.
	HeapLimit, GoroutineLimit float64
	// HeapSlope is the least-squares slope of heap in use over every sample
	// from the start of the warm window on, in bytes per minute.
	HeapSlope float64
}

// String is "PASS" or "FAIL: reason; reason".
func (v SoakVerdict) String() string {
	if v.Pass {
		return "PASS"
	}
	return "FAIL: " + strings.Join(v.Reasons, "; ")
}

// JudgeSoak applies c to the samples taken under load and to end.
func JudgeSoak(c SoakCriteria, samples []SoakSample, end SoakEnd) SoakVerdict {
	v := SoakVerdict{Criteria: c}
	d := end.Duration
	warm := window(samples, c.WarmFrom*d, c.WarmTo*d)
	last := window(samples, c.EndFrom*d, math.Inf(1))
	v.WarmSamples, v.EndSamples = len(warm), len(last)
	check := func(name string, value, limit float64, unit, why string) {
		ok := value <= limit
		v.Checks = append(v.Checks, SoakCheck{Name: name, Value: value, Limit: limit, Unit: unit, OK: ok, Why: why})
		if !ok {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s %s > %s %s (%s)", name, fmtNum(value), fmtNum(limit), unit, why))
		}
	}
	if len(warm) == 0 || len(last) == 0 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("too few samples to judge memory (%d in the warm window, %d in the end window): lengthen --duration or shorten --soak-interval", len(warm), len(last)))
	} else {
		col := func(ss []SoakSample, f func(SoakSample) float64) []float64 {
			out := make([]float64, len(ss))
			for i, s := range ss {
				out[i] = f(s)
			}
			return out
		}
		heap := func(s SoakSample) float64 { return s.HeapInuse }
		rss := func(s SoakSample) float64 { return s.RSS }
		gor := func(s SoakSample) float64 { return s.Goroutines }
		v.WarmHeap, v.EndHeap = median(col(warm, heap)), median(col(last, heap))
		v.WarmRSS, v.EndRSS = median(col(warm, rss)), median(col(last, rss))
		v.WarmGoroutinesMax = slices.Max(col(warm, gor))
		v.EndGoroutines = median(col(last, gor))
		v.HeapLimit = v.WarmHeap + max(c.HeapGrowth*v.WarmHeap, c.HeapFloor)
		v.GoroutineLimit = v.WarmGoroutinesMax + c.GoroutineSlack
		check("heap in use growth", (v.EndHeap-v.WarmHeap)/mib, (v.HeapLimit-v.WarmHeap)/mib, "MiB",
			fmt.Sprintf("median of the last %.0f%% vs median at %.0f-%.0f%%: at most %.0f%% or %.0f MiB", 100*(1-c.EndFrom), 100*c.WarmFrom, 100*c.WarmTo, 100*c.HeapGrowth, c.HeapFloor/mib))
		check("RSS growth", (v.EndRSS-v.WarmRSS)/mib, max(c.RSSGrowth*v.WarmRSS, c.RSSFloor)/mib, "MiB",
			fmt.Sprintf("same windows: at most %.0f%% or %.0f MiB", 100*c.RSSGrowth, c.RSSFloor/mib))
		check("goroutines at the end", v.EndGoroutines, v.GoroutineLimit, "goroutines",
			fmt.Sprintf("median of the last %.0f%% vs the warm window's max + %.0f", 100*(1-c.EndFrom), c.GoroutineSlack))
	}
	v.HeapSlope = slope(window(samples, c.WarmFrom*d, math.Inf(1)))
	check("failed requests", float64(end.ReadErrors+end.WriteErrors)+end.Server5xx, c.MaxErrors, "requests",
		fmt.Sprintf("%d read and %d write errors seen by the bench, %.0f 5xx counted by feedd", end.ReadErrors, end.WriteErrors, end.Server5xx))
	lag := end.Lag
	why := "lenta_bus_lag_messages once the load stopped and the pipeline drained"
	if lag < 0 {
		lag, why = math.Inf(1), "the bus lag could not be read"
	}
	check("bus lag after the drain", lag, c.MaxEndLag, "events", why)
	v.Pass = len(v.Reasons) == 0
	return v
}

// window is the samples with from <= T < to.
func window(ss []SoakSample, from, to float64) []SoakSample {
	var out []SoakSample
	for _, s := range ss {
		if s.T >= from && s.T < to {
			out = append(out, s)
		}
	}
	return out
}

// median of xs (0 for none); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// slope is the least-squares slope of heap in use over time, in bytes per
// minute (0 with fewer than two distinct times).
func slope(ss []SoakSample) float64 {
	if len(ss) < 2 {
		return 0
	}
	var mt, mh float64
	for _, s := range ss {
		mt += s.T / 60
		mh += s.HeapInuse
	}
	n := float64(len(ss))
	mt, mh = mt/n, mh/n
	var num, den float64
	for _, s := range ss {
		dt := s.T/60 - mt
		num += dt * (s.HeapInuse - mh)
		den += dt * dt
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func fmtNum(v float64) string {
	if math.IsInf(v, 0) || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
