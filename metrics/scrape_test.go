package metrics

import (
	"testing"
)

// A registry's own page reads back: plain samples, labelled ones under
// their spelled-out labels and summed by name, histograms as count, sum
// and buckets.
func TestParseSamplesReadsARegistryBack(t *testing.T) {
	r := New()
	r.RankedCache(func() RankedCacheStats { return RankedCacheStats{FirstHits: 9, FirstMisses: 1, Bytes: 4096} })
	s, err := ParseSamples([]byte(scrape(t, r)))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		"lenta_ranked_cache_bytes":                            4096,
		`lenta_ranked_pages_total{cache="hit",page="first"}`:  9,
		`lenta_ranked_pages_total{cache="miss",page="first"}`: 1,
		"lenta_ranked_pages_total":                            10,
	} {
		if got, ok := s[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	h, err := ParseSamples([]byte("# TYPE d histogram\nd_bucket{r=\"a\",le=\"0.5\"} 3\nd_bucket{r=\"a\",le=\"+Inf\"} 4\nd_sum{r=\"a\"} 1.5\nd_count{r=\"a\"} 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h["d_count"] != 4 || h["d_sum"] != 1.5 || h[`d_count{r="a"}`] != 4 || h[`d_bucket{le="0.5",r="a"}`] != 3 {
		t.Errorf("histogram samples %v", h)
	}
	for _, bad := range []string{"", "not a metric line at all {"} {
		if _, err := ParseSamples([]byte(bad)); err == nil {
			t.Errorf("ParseSamples(%q) accepted", bad)
		}
	}
}
