package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// CountsCacheStats is what the ranking window's Class-count cache reports:
// the reader's counters and the cache's size.
type CountsCacheStats struct {
	Hits, Misses    uint64
	Bytes, MaxBytes uint64
	Objects         int
}

// CountsCache exports the Class-count cache, read from stats at each
// scrape:
//
//	lenta_class_count_cache_requests_total{result="hit|miss"}
//	lenta_class_count_cache_bytes, lenta_class_count_cache_max_bytes, lenta_class_count_cache_objects
//
// A hit spares a ranked first page that misses the order cache one
// object's count read. Registering twice is a programming error (it
// panics).
func (r *Registry) CountsCache(stats func() CountsCacheStats) {
	r.reg.MustRegister(&countsCacheCollector{stats: stats})
}

var (
	descCountRequests = prometheus.NewDesc(Namespace+"_class_count_cache_requests_total",
		"Class counts of ranking candidates, by whether the in-process cache held one young enough.",
		[]string{"result"}, nil)
	descCountBytes = prometheus.NewDesc(Namespace+"_class_count_cache_bytes",
		"Bytes of Class counts held by the in-process cache.", nil, nil)
	descCountMaxBytes = prometheus.NewDesc(Namespace+"_class_count_cache_max_bytes",
		"The Class-count cache's byte bound (--class-count-cache-bytes).", nil, nil)
	descCountObjects = prometheus.NewDesc(Namespace+"_class_count_cache_objects",
		"Objects whose Class count the in-process cache holds.", nil, nil)
)

type countsCacheCollector struct {
	stats func() CountsCacheStats
}

func (c *countsCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCountRequests, descCountBytes, descCountMaxBytes, descCountObjects} {
		ch <- d
	}
}

func (c *countsCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descCountRequests, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(descCountRequests, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(descCountBytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(descCountMaxBytes, prometheus.GaugeValue, float64(s.MaxBytes))
	ch <- prometheus.MustNewConstMetric(descCountObjects, prometheus.GaugeValue, float64(s.Objects))
}
