package notify_test

// The retry policy, driven step by step with a fake clock: a failed
// attempt is retried after its backoff, or after the push service's
// Retry-After when that is longer, and given up after MaxAttempts.

import (
	"net/http"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

func TestRetryPolicy(t *testing.T) {
	type check struct {
		at             time.Duration // since the first attempt
		attempts, sent int
		stored         int
	}
	const busy = http.StatusServiceUnavailable
	tests := []struct {
		name        string
		answers     []int
		retryAfter  time.Duration
		backoff     time.Duration // MinBackoff = MaxBackoff: waits of [backoff/2, backoff]
		maxAttempts int
		checks      []check
		failed      int64
	}{
		{"retried after its backoff", []int{busy}, 0, 10 * time.Second, 5,
			[]check{{0, 1, 0, 1}, {4 * time.Second, 1, 0, 1}, {11 * time.Second, 2, 1, 0}}, 0},
		{"Retry-After longer than the backoff is honoured", []int{busy}, 30 * time.Second, time.Second, 5,
			[]check{{0, 1, 0, 1}, {20 * time.Second, 1, 0, 1}, {31 * time.Second, 2, 1, 0}}, 0},
		{"Retry-After shorter than the backoff is not", []int{busy}, time.Second, 10 * time.Second, 5,
			[]check{{0, 1, 0, 1}, {4 * time.Second, 1, 0, 1}, {11 * time.Second, 2, 1, 0}}, 0},
		{"given up after MaxAttempts", []int{busy, busy, busy, busy, busy}, 0, time.Second, 3,
			[]check{{0, 1, 0, 1}, {30 * time.Second, 3, 0, 0}}, 1},
		{"500 and 408 retried, delivered on the last attempt", []int{http.StatusInternalServerError, http.StatusRequestTimeout}, 0, time.Second, 3,
			[]check{{30 * time.Second, 3, 1, 0}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			e := newScanEnv(t, 0, 0)
			const u = 16
			e.tr.answers[u] = tt.answers
			e.tr.retryAfter[u] = tt.retryAfter
			e.gift(t, u, clock.Now())
			obs := &counts{}
			s := e.stepper(t, clock, func(c *notify.SenderConfig) {
				c.MinBackoff, c.MaxBackoff, c.MaxAttempts, c.Observer = tt.backoff, tt.backoff, tt.maxAttempts, obs
			})
			start := clock.Now()
			step(t, s)
			for _, c := range tt.checks {
				for clock.Now().Before(start.Add(c.at)) {
					clock.Add(500 * time.Millisecond)
					step(t, s)
				}
				sent, attempts := e.tr.of(u)
				stored, err := e.st.Notify().Retries(t.Context(), 0, notify.Retry{}, 10)
				if err != nil {
					t.Fatal(err)
				}
				if attempts != c.attempts || sent != c.sent || len(stored) != c.stored {
					t.Fatalf("at +%v: %d attempts, %d delivered, %d retries stored; want %d, %d, %d (%v)",
						c.at, attempts, sent, len(stored), c.attempts, c.sent, c.stored, obs)
				}
			}
			if obs.failed.Load() != tt.failed {
				t.Errorf("%d pushes given up, want %d (%v)", obs.failed.Load(), tt.failed, obs)
			}
		})
	}
}
