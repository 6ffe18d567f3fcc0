package bench

import (
	"math"
	"slices"
	"time"
)

// Latencies is a set of measured durations.
type Latencies []time.Duration

// Summary are the usual order statistics of a Latencies, in milliseconds.
type Summary struct {
	N                        int
	P50, P95, P99, Max, Mean float64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarize sorts l and returns its percentiles.
func (l Latencies) Summarize() Summary {
	if len(l) == 0 {
		return Summary{}
	}
	slices.Sort(l)
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(l)))) - 1
		return ms(l[min(max(i, 0), len(l)-1)])
	}
	return Summary{N: len(l), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(l[len(l)-1]),
		Mean: ms(sum) / float64(len(l))}
}

// Millis returns l sorted, in milliseconds, thinned to at most n points
// (keeping the extremes), for plots and the JSON file.
func (l Latencies) Millis(n int) []float64 {
	slices.Sort(l)
	step := 1
	if len(l) > n && n > 0 {
		step = (len(l) + n - 1) / n
	}
	out := make([]float64, 0, min(len(l), n+1))
	for i := 0; i < len(l); i += step {
		out = append(out, ms(l[i]))
	}
	if len(l) > 0 && (len(l)-1)%step != 0 {
		out = append(out, ms(l[len(l)-1]))
	}
	return out
}
