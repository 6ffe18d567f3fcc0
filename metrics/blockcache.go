package metrics

import "github.com/prometheus/client_golang/prometheus"

// BlockCacheStats is the embedded store's block cache use.
type BlockCacheStats struct {
	Hits, Misses, Bytes, MaxBytes int64
}

// BlockCache exports the embedded store's block cache, read from stats at
// each scrape:
//
//	lenta_store_block_cache_requests_total{result="hit|miss"}
//	lenta_store_block_cache_bytes, lenta_store_block_cache_max_bytes
//
// Registering twice is a programming error (it panics).
func (r *Registry) BlockCache(stats func() BlockCacheStats) {
	r.reg.MustRegister(&blockCacheCollector{stats: stats})
}

var (
	descBlockCacheRequests = prometheus.NewDesc(Namespace+"_store_block_cache_requests_total",
		"Block reads of the embedded store, by whether the block cache held the block.", []string{"result"}, nil)
	descBlockCacheBytes = prometheus.NewDesc(Namespace+"_store_block_cache_bytes",
		"Bytes held by the embedded store's block cache.", nil, nil)
	descBlockCacheMax = prometheus.NewDesc(Namespace+"_store_block_cache_max_bytes",
		"The embedded store's block cache bound (--store-cache).", nil, nil)
)

type blockCacheCollector struct {
	stats func() BlockCacheStats
}

func (c *blockCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBlockCacheRequests
	ch <- descBlockCacheBytes
	ch <- descBlockCacheMax
}

func (c *blockCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descBlockCacheRequests, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(descBlockCacheRequests, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(descBlockCacheBytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(descBlockCacheMax, prometheus.GaugeValue, float64(s.MaxBytes))
}
