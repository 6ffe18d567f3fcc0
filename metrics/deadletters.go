package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lenta-dev/lenta/fanout"
)

// newDeadLetters makes lenta_dead_letters_total{reason}, with every reason
// code present from the start (at 0), so a rate() sees the first letter.
func newDeadLetters() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "dead_letters_total",
		Help: "Events sent to the dead letters, by reason code.",
	}, []string{"reason"})
	for _, r := range fanout.Reasons {
		v.WithLabelValues(r)
	}
	return v
}

func deadReason(reason string) string {
	if slices.Contains(fanout.Reasons, reason) {
		return reason
	}
	return fanout.ReasonOther
}
