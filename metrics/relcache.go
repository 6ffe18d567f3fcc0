package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// ByteCacheStats is what a byte-bounded in-process cache of the read path
// reports: the reader's counters and the cache's size.
type ByteCacheStats struct {
	Hits, Misses    uint64
	Bytes, MaxBytes uint64
	Entries         int
}

// RelationsCache exports the viewers' relations cache, read from stats at
// each scrape:
//
//	lenta_relations_cache_requests_total{result="hit|miss"}
//	lenta_relations_cache_bytes, lenta_relations_cache_max_bytes, lenta_relations_cache_viewers
//
// A hit costs a feed read one point read (the relations version) instead
// of the relations scans. Registering twice is a programming error (it
// panics).
func (r *Registry) RelationsCache(stats func() ByteCacheStats) {
	r.reg.MustRegister(newByteCacheCollector("relations_cache", "viewers", "--relations-cache-bytes",
		"Viewers' relations reads of the feed readers, by whether the in-process cache held the current version.",
		"viewers' relations", "Viewers whose relations the in-process cache holds.", stats))
}

// CountsCache exports the ranking window's Class-count cache, read from
// stats at each scrape:
//
//	lenta_class_count_cache_requests_total{result="hit|miss"}
//	lenta_class_count_cache_bytes, lenta_class_count_cache_max_bytes, lenta_class_count_cache_objects
//
// A hit spares a ranked first page that misses the order cache one
// object's count read. Registering twice is a programming error (it
// panics).
func (r *Registry) CountsCache(stats func() ByteCacheStats) {
	r.reg.MustRegister(newByteCacheCollector("class_count_cache", "objects", "--class-count-cache-bytes",
		"Class counts of ranking candidates, by whether the in-process cache held one young enough.",
		"Class counts", "Objects whose Class count the in-process cache holds.", stats))
}

// ObjectCache exports the embedded store's object cache, read from stats
// at each scrape:
//
//	lenta_object_cache_requests_total{result="hit|miss"}
//	lenta_object_cache_bytes, lenta_object_cache_max_bytes, lenta_object_cache_objects
//
// A hit spares a page's hydration one object's seek through the store.
// Registering twice is a programming error (it panics).
func (r *Registry) ObjectCache(stats func() ByteCacheStats) {
	r.reg.MustRegister(newByteCacheCollector("object_cache", "objects", "--object-cache-bytes",
		"Object reads of the embedded store, by whether the in-process cache held the object.",
		"decoded objects", "Objects the in-process cache holds.", stats))
}

// byteCacheCollector exports one ByteCacheStats as
// <ns>_<name>_requests_total{result}, _bytes, _max_bytes and _<entries>.
type byteCacheCollector struct {
	requests, bytes, maxBytes, entries *prometheus.Desc
	stats                              func() ByteCacheStats
}

func newByteCacheCollector(name, entries, flag, requestsHelp, what, entriesHelp string, stats func() ByteCacheStats) *byteCacheCollector {
	p := Namespace + "_" + name
	return &byteCacheCollector{
		requests: prometheus.NewDesc(p+"_requests_total", requestsHelp, []string{"result"}, nil),
		bytes:    prometheus.NewDesc(p+"_bytes", "Bytes of "+what+" held by the in-process cache.", nil, nil),
		maxBytes: prometheus.NewDesc(p+"_max_bytes", "The cache's byte bound ("+flag+").", nil, nil),
		entries:  prometheus.NewDesc(p+"_"+entries, entriesHelp, nil, nil),
		stats:    stats,
	}
}

func (c *byteCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.bytes, c.maxBytes, c.entries} {
		ch <- d
	}
}

func (c *byteCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(c.maxBytes, prometheus.GaugeValue, float64(s.MaxBytes))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
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
