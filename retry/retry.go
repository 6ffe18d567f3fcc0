package retry

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy is a backoff schedule: the wait after the n-th failed attempt is
// d = Min·2^(n−1), at most Max, drawn uniformly from [d·(1−Jitter), d]
// ("equal jitter" at 0.5, "full jitter" at 1). A wait therefore never
// exceeds Max.
type Policy struct {
	Min, Max time.Duration // Min > 0; a Max below Min is Min
	Jitter   float64       // 0 (exact waits) to 1
	// Attempts caps the calls of the operation; 0: no cap.
	Attempts int
	// OnRetry, if set, is called after each failure that will be retried,
	// with the error and the wait before the next attempt (to log it).
	OnRetry func(err error, wait time.Duration)
}

// Permanent marks err as one no retry can fix: Do returns it (unwrapped)
// at once. Permanent(nil) is nil.
func Permanent(err error) error { return backoff.Permanent(err) }

// Do calls op until it returns nil, then returns nil. It calls op at least
// once, even if ctx has ended. It returns op's error unretried when it is
// Permanent, op's last error when p.Attempts calls failed, and
// context.Cause(ctx) when ctx ends after a failure or during a wait.
func Do(ctx context.Context, p Policy, op func() error) error {
	opts := []backoff.RetryOption{
		backoff.WithBackOff(p.backOff()),
		backoff.WithMaxElapsedTime(0), // the library stops after 15 min by default
	}
	if p.Attempts > 0 {
		opts = append(opts, backoff.WithMaxTries(uint(p.Attempts)))
	}
	if p.OnRetry != nil {
		opts = append(opts, backoff.WithNotify(p.OnRetry))
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, op() }, opts...)
	if pe, ok := err.(*backoff.PermanentError); ok { // the last attempt failed permanently
		err = pe.Err
	}
	return err
}

// Delay is the wait after the n-th failed attempt (n >= 1), as Do would
// wait it.
func (p Policy) Delay(n int) time.Duration {
	b := p.backOff()
	var d time.Duration
	for range min(max(n, 1), 64) { // 63 doublings reach any Duration
		d = b.NextBackOff()
	}
	return d
}

// backOff maps p onto the library's schedule, whose waits are spread
// symmetrically, centre·(1±factor): the centre is d·(1−Jitter/2) and the
// factor Jitter/2 of d, so a wait falls in [d·(1−Jitter), d].
func (p Policy) backOff() *backoff.ExponentialBackOff {
	j := min(max(p.Jitter, 0), 1)
	c := 1 - j/2
	lo := max(p.Min, 1)
	hi := max(p.Max, lo)
	return &backoff.ExponentialBackOff{
		InitialInterval:     time.Duration(float64(lo) * c),
		MaxInterval:         time.Duration(float64(hi) * c),
		Multiplier:          2,
		RandomizationFactor: j / 2 / c,
	}
}
