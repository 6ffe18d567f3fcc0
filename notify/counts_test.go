package notify_test

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lenta-dev/lenta/notify"
)

// counts is a notify.Observer that counts what a sender did, for tests
// (feedd's is the metrics registry).
type counts struct {
	sent, retried, failed, removed, stale, skipped, claimed atomic.Int64
}

var _ notify.Observer = (*counts)(nil)

func (c *counts) PushSent()                      { c.sent.Add(1) }
func (c *counts) PushRetried()                   { c.retried.Add(1) }
func (c *counts) PushFailed()                    { c.failed.Add(1) }
func (c *counts) PushRemoved()                   { c.removed.Add(1) }
func (c *counts) PushStale()                     { c.stale.Add(1) }
func (c *counts) PushSkipped()                   { c.skipped.Add(1) }
func (c *counts) PushClaimed()                   { c.claimed.Add(1) }
func (c *counts) PushSendDuration(time.Duration) {}
func (c *counts) PushShards(int)                 {}

func (c *counts) String() string {
	return fmt.Sprintf("sent %d retried %d failed %d removed %d stale %d skipped %d claimed %d",
		c.sent.Load(), c.retried.Load(), c.failed.Load(), c.removed.Load(), c.stale.Load(), c.skipped.Load(), c.claimed.Load())
}
