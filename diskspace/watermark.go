package diskspace

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lenta-dev/lenta/fanout"
)

// DefaultTTL is how long one statfs answer is trusted.
const DefaultTTL = time.Second

// Watermark says whether the filesystem holding a folder has at least Min
// bytes free. It calls statfs at most once per TTL; it is safe for
// concurrent use.
type Watermark struct {
	path string
	min  uint64
	ttl  time.Duration

	statfs func(path string) (uint64, error) // free bytes (tests replace it)
	now    func() time.Time

	mu      sync.Mutex
	checked time.Time
	free    uint64
	err     error
}

// New watches path's filesystem; min is the watermark in bytes (0: never
// refuse), ttl how long a reading is reused (0: DefaultTTL).
func New(path string, min uint64, ttl time.Duration) *Watermark {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Watermark{path: path, min: min, ttl: ttl, statfs: freeBytes, now: time.Now}
}

// freeBytes is the space an unprivileged writer may still use.
func freeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // Bsize is a positive block size
}

// read returns the cached reading, refreshing it when older than the TTL.
func (w *Watermark) read() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if w.checked.IsZero() || now.Sub(w.checked) >= w.ttl {
		w.free, w.err = w.statfs(w.path)
		w.checked = now
	}
	return w.free, w.err
}

// CheckSpace is nil when at least the watermark is free, a
// *fanout.NoSpaceError (errors.Is fanout.ErrNoSpace) when less is, or the
// statfs error (callers refuse then too: nothing is known about the space).
func (w *Watermark) CheckSpace() error {
	if w.min == 0 {
		return nil
	}
	free, err := w.read()
	if err != nil {
		return err
	}
	if free < w.min {
		return &fanout.NoSpaceError{Path: w.path, Free: free, Min: w.min}
	}
	return nil
}

// Healthy is CheckSpace worded for a health check: nil, or an error whose
// text starts with "disk:".
func (w *Watermark) Healthy() error {
	if err := w.CheckSpace(); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}
