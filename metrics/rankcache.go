package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// RankedCacheStats is what the ranked order cache reports: the reader's
// counters and the cache's size.
type RankedCacheStats struct {
	FirstHits, FirstMisses, NextHits, NextMisses, Stored uint64
	Bytes, MaxBytes                                      uint64
	Orders                                               int
}

// RankedCache exports the ranked order cache, read from stats at each
// scrape:
//
//	lenta_ranked_pages_total{page="first|next", cache="hit|miss"}
//	lenta_ranked_snapshots_stored_total
//	lenta_ranked_cache_bytes, lenta_ranked_cache_max_bytes, lenta_ranked_cache_orders
//
// The hit rate of first pages is
// rate(lenta_ranked_pages_total{page="first",cache="hit"}[5m]) /
// rate(lenta_ranked_pages_total{page="first"}[5m]). Registering twice is a
// programming error (it panics).
func (r *Registry) RankedCache(stats func() RankedCacheStats) {
	r.reg.MustRegister(&rankedCacheCollector{stats: stats})
}

var (
	descRankedPages = prometheus.NewDesc(Namespace+"_ranked_pages_total",
		"Ranked pages served, by page (first or next) and whether the order came from the in-process cache.",
		[]string{"page", "cache"}, nil)
	descRankedStored = prometheus.NewDesc(Namespace+"_ranked_snapshots_stored_total",
		"Ranked orders written to the snapshot store (one per order a cursor names).", nil, nil)
	descRankedBytes = prometheus.NewDesc(Namespace+"_ranked_cache_bytes",
		"Bytes of ranked orders held by the in-process cache.", nil, nil)
	descRankedMaxBytes = prometheus.NewDesc(Namespace+"_ranked_cache_max_bytes",
		"The ranked order cache's byte bound (--ranked-cache-bytes).", nil, nil)
	descRankedOrders = prometheus.NewDesc(Namespace+"_ranked_cache_orders",
		"Ranked orders (viewers) held by the in-process cache.", nil, nil)
)

type rankedCacheCollector struct {
	stats func() RankedCacheStats
}

func (c *rankedCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRankedPages, descRankedStored, descRankedBytes, descRankedMaxBytes, descRankedOrders} {
		ch <- d
	}
}

func (c *rankedCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descRankedPages, prometheus.CounterValue, float64(s.FirstHits), "first", "hit")
	ch <- prometheus.MustNewConstMetric(descRankedPages, prometheus.CounterValue, float64(s.FirstMisses), "first", "miss")
	ch <- prometheus.MustNewConstMetric(descRankedPages, prometheus.CounterValue, float64(s.NextHits), "next", "hit")
	ch <- prometheus.MustNewConstMetric(descRankedPages, prometheus.CounterValue, float64(s.NextMisses), "next", "miss")
	ch <- prometheus.MustNewConstMetric(descRankedStored, prometheus.CounterValue, float64(s.Stored))
	ch <- prometheus.MustNewConstMetric(descRankedBytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(descRankedMaxBytes, prometheus.GaugeValue, float64(s.MaxBytes))
	ch <- prometheus.MustNewConstMetric(descRankedOrders, prometheus.GaugeValue, float64(s.Orders))
}
