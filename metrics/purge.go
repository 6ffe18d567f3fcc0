package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Purged returns the counter of rows a retention purge removed, by table
// (lenta_store_purged_rows_total{table}), registering it on first use: a
// later call returns the same counter.
func (r *Registry) Purged() func(table string, n int) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "store", Name: "purged_rows_total",
		Help: "Rows removed by the retention purge of the embedded store, by table.",
	}, []string{"table"})
	if err := r.reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err) // a programming error: a clashing metric name
		}
		c = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return func(table string, n int) { c.WithLabelValues(table).Add(float64(n)) }
}
