package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// RelationsCacheStats is what the viewers' relations cache reports: the
// reader's counters and the cache's size.
type RelationsCacheStats struct {
	Hits, Misses    uint64
	Bytes, MaxBytes uint64
	Viewers         int
}

// RelationsCache exports the relations cache, read from stats at each
// scrape:
//
//	lenta_relations_cache_requests_total{result="hit|miss"}
//	lenta_relations_cache_bytes, lenta_relations_cache_max_bytes, lenta_relations_cache_viewers
//
// A hit costs a feed read one point read (the relations version) instead
// of the relations scans. Registering twice is a programming error (it
// panics).
func (r *Registry) RelationsCache(stats func() RelationsCacheStats) {
	r.reg.MustRegister(&relationsCacheCollector{stats: stats})
}

var (
	descRelRequests = prometheus.NewDesc(Namespace+"_relations_cache_requests_total",
		"Viewers' relations reads of the feed readers, by whether the in-process cache held the current version.",
		[]string{"result"}, nil)
	descRelBytes = prometheus.NewDesc(Namespace+"_relations_cache_bytes",
		"Bytes of viewers' relations held by the in-process cache.", nil, nil)
	descRelMaxBytes = prometheus.NewDesc(Namespace+"_relations_cache_max_bytes",
		"The relations cache's byte bound (--relations-cache-bytes).", nil, nil)
	descRelViewers = prometheus.NewDesc(Namespace+"_relations_cache_viewers",
		"Viewers whose relations the in-process cache holds.", nil, nil)
)

type relationsCacheCollector struct {
	stats func() RelationsCacheStats
}

func (c *relationsCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRelRequests, descRelBytes, descRelMaxBytes, descRelViewers} {
		ch <- d
	}
}

func (c *relationsCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descRelRequests, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(descRelRequests, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(descRelBytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(descRelMaxBytes, prometheus.GaugeValue, float64(s.MaxBytes))
	ch <- prometheus.MustNewConstMetric(descRelViewers, prometheus.GaugeValue, float64(s.Viewers))
}

// TokenCache exports the verified-token cache's answers, read at each
// scrape: lenta_token_cache_requests_total{result="hit|miss"} (a miss
// checked the token's signature).
func (r *Registry) TokenCache(stats func() (hits, misses uint64)) {
	r.reg.MustRegister(&tokenCacheCollector{stats: stats})
}

var descTokenRequests = prometheus.NewDesc(Namespace+"_token_cache_requests_total",
	"Bearer token checks, by whether the verified-token cache answered (a miss checks the signature).",
	[]string{"result"}, nil)

type tokenCacheCollector struct {
	stats func() (hits, misses uint64)
}

func (c *tokenCacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descTokenRequests }

func (c *tokenCacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses := c.stats()
	ch <- prometheus.MustNewConstMetric(descTokenRequests, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(descTokenRequests, prometheus.CounterValue, float64(misses), "miss")
}
