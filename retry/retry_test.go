package retry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

var errFlaky = errors.New("flaky")

// TestDo runs an operation that fails a scripted number of times and
// checks what Do returns, how often it called, and the waits it announced.
// Waits are microseconds and exact (no jitter), so nothing depends on the
// clock.
func TestDo(t *testing.T) {
	errBad := errors.New("bad request")
	errThird := fmt.Errorf("third: %w", errFlaky)
	tests := []struct {
		name      string
		policy    Policy
		results   []error // op's result per call; nil after the script: success
		wantErr   error
		wantCalls int
		wantWaits []time.Duration
	}{
		{"first call succeeds", Policy{Min: time.Microsecond, Max: time.Millisecond}, nil, nil, 1, nil},
		{"succeeds after failures, doubling up to Max",
			Policy{Min: time.Microsecond, Max: 4 * time.Microsecond},
			[]error{errFlaky, errFlaky, errFlaky, errFlaky, errFlaky}, nil, 6,
			[]time.Duration{1000, 2000, 4000, 4000, 4000}},
		{"permanent error is not retried and comes back unwrapped",
			Policy{Min: time.Microsecond, Max: time.Microsecond},
			[]error{errFlaky, Permanent(errBad)}, errBad, 2, []time.Duration{1000}},
		{"attempt cap returns the last error",
			Policy{Min: time.Microsecond, Max: time.Microsecond, Attempts: 3},
			[]error{errFlaky, errFlaky, errThird, errFlaky}, errThird, 3,
			[]time.Duration{1000, 1000}},
		{"permanent error on the last allowed attempt is unwrapped too",
			Policy{Min: time.Microsecond, Attempts: 1},
			[]error{Permanent(errBad)}, errBad, 1, nil},
		{"success on the last allowed attempt",
			Policy{Min: time.Microsecond, Attempts: 2},
			[]error{errFlaky}, nil, 2, []time.Duration{1000}},
		{"Max below Min is Min",
			Policy{Min: 2 * time.Microsecond, Max: time.Nanosecond},
			[]error{errFlaky, errFlaky}, nil, 3, []time.Duration{2000, 2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var waits []time.Duration
			p := tt.policy
			p.OnRetry = func(err error, wait time.Duration) {
				if err == nil {
					t.Error("OnRetry without an error")
				}
				waits = append(waits, wait)
			}
			err := Do(context.Background(), p, func() error {
				calls++
				if calls <= len(tt.results) {
					return tt.results[calls-1]
				}
				return nil
			})
			if err != tt.wantErr { // the very error, not a wrapper of it
				t.Fatalf("err = %#v, want %#v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tt.wantWaits)
			}
		})
	}
}

// TestDoContext: a context that ends stops the retries, during a wait
// (an hour long: only the context can end it) or before the next call, and
// Do returns its cause; the first call is made even on an ended context.
func TestDoContext(t *testing.T) {
	cause := errors.New("partition revoked")
	tests := []struct {
		name      string
		cancel    string // "before", "in-op", "in-wait"
		wantCalls int
	}{
		{"ended before Do: one call", "before", 1},
		{"ended during the call", "in-op", 1},
		{"ended during the wait", "in-wait", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tt.cancel == "before" {
				cancel(cause)
			}
			p := Policy{Min: time.Hour, Max: time.Hour, OnRetry: func(error, time.Duration) {
				if tt.cancel == "in-wait" {
					cancel(cause)
				}
			}}
			calls := 0
			err := Do(ctx, p, func() error {
				calls++
				if tt.cancel == "in-op" {
					cancel(cause)
				}
				return errFlaky
			})
			if !errors.Is(err, cause) {
				t.Fatalf("err = %v, want the context's cause", err)
			}
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// TestDelay checks the interval computation: exact without jitter, and
// within [d·(1−Jitter), d] with it, never above Max.
func TestDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		policy Policy
		n      int
		d      time.Duration // the un-jittered wait
	}{
		{"first", Policy{Min: ms, Max: 60 * ms}, 1, ms},
		{"n below 1 is the first", Policy{Min: ms, Max: 60 * ms}, 0, ms},
		{"doubles", Policy{Min: ms, Max: 60 * ms}, 4, 8 * ms},
		{"capped", Policy{Min: ms, Max: 60 * ms}, 7, 60 * ms},
		{"far past the cap", Policy{Min: ms, Max: 60 * ms}, 1 << 20, 60 * ms},
		{"equal jitter", Policy{Min: time.Second, Max: time.Minute, Jitter: 0.5}, 3, 4 * time.Second},
		{"equal jitter at the cap", Policy{Min: time.Second, Max: time.Minute, Jitter: 0.5}, 9, time.Minute},
		{"full jitter", Policy{Min: 2 * ms, Max: 128 * ms, Jitter: 1}, 5, 32 * ms},
		{"jitter above 1 is 1", Policy{Min: 2 * ms, Max: 128 * ms, Jitter: 7}, 9, 128 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := min(max(tt.policy.Jitter, 0), 1)
			lo := time.Duration(float64(tt.d) * (1 - j))
			spread := map[bool]bool{}
			for range 2000 {
				got := tt.policy.Delay(tt.n)
				// A nanosecond of slack for the library's float rounding.
				if got < lo-1 || got > tt.d+1 {
					t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tt.n, got, lo, tt.d)
				}
				spread[got < lo+(tt.d-lo)/2] = true
			}
			if j > 0 && len(spread) != 2 {
				t.Fatalf("Delay(%d) with jitter %v never fell in both halves of [%v, %v]", tt.n, j, lo, tt.d)
			}
		})
	}
}
