package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestPushMetrics(t *testing.T) {
	r := New()
	r.PushSent()
	r.PushSent()
	r.PushRetried()
	r.PushFailed()
	r.PushRemoved()
	r.PushStale()
	r.PushSkipped()
	r.PushSkipped()
	r.PushSkipped()
	r.PushClaimed()
	r.PushSendDuration(30 * time.Millisecond)
	r.PushShards(16)
	out := scrape(t, r)
	for _, want := range []string{
		"lenta_push_sent_total 2",
		"lenta_push_retried_total 1",
		"lenta_push_failed_total 1",
		"lenta_push_subscriptions_removed_total 1",
		"lenta_push_stale_dropped_total 1",
		"lenta_push_skipped_total 3",
		"lenta_push_claimed_elsewhere_total 1",
		`lenta_push_send_duration_seconds_bucket{le="0.05"} 1`,
		"lenta_push_send_duration_seconds_count 1",
		"lenta_push_shards_held 16",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
