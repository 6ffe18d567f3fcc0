package kafkabus

// The claim queue: one partition's messages between the pump and the
// batching loop, pausing the partition's fetching while it is full.

import (
	"context"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// claimQueue buffers one partition's messages between the pump and the
// batching loop.
type claimQueue struct {
	mu      sync.Mutex
	msgs    []*sarama.ConsumerMessage
	firstAt time.Time // when the oldest queued message arrived
	ended   chan struct{}
	isEnded bool // Messages was closed: the claim is over
	paused  bool // we paused the partition's fetching
	gone    bool // the handler returned: pause no more
	wake    chan struct{}

	high, low     int
	pause, resume func()
}

type nextStatus int

const (
	nextBatch nextStatus = iota
	nextEnded
	nextCtxDone
	nextStopping
)

func (q *claimQueue) push(m *sarama.ConsumerMessage) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	if len(q.msgs) == 1 {
		q.firstAt = time.Now()
	}
	if !q.paused && !q.gone && len(q.msgs) >= q.high {
		q.paused = true
		q.pause()
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *claimQueue) end() {
	q.mu.Lock()
	q.isEnded = true
	q.mu.Unlock()
	close(q.ended)
}

// release is called when the handler returns.
func (q *claimQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.gone = true
	q.msgs = nil
	if q.paused {
		// sarama keeps a partition's pause across reassignments
		q.paused = false
		q.resume()
	}
}

// waitEnd waits for the claim or the session to end.
func (q *claimQueue) waitEnd(ctx context.Context) {
	select {
	case <-q.ended:
	case <-ctx.Done():
	}
}

// next returns the next batch: up to max messages, once max are queued or
// wait has passed since the oldest queued one arrived.
func (q *claimQueue) next(ctx context.Context, stop <-chan struct{}, max int, wait time.Duration) ([]*sarama.ConsumerMessage, nextStatus) {
	var timer *time.Timer
	var timeout <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if q.isEnded {
			q.mu.Unlock()
			return nil, nextEnded
		}
		n := len(q.msgs)
		if n > 0 {
			due := q.firstAt.Add(wait)
			if n >= max || !time.Now().Before(due) {
				b := q.take(min(n, max))
				q.mu.Unlock()
				return b, nextBatch
			}
			if timer == nil {
				timer = time.NewTimer(time.Until(due))
				timeout = timer.C
			}
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-timeout:
		case <-ctx.Done():
			return nil, nextCtxDone
		case <-stop:
			return nil, nextStopping
		}
	}
}

// take removes the first n messages; q.mu is held. The remaining ones keep
// firstAt: they have waited at least as long.
func (q *claimQueue) take(n int) []*sarama.ConsumerMessage {
	b := make([]*sarama.ConsumerMessage, n)
	copy(b, q.msgs)
	rest := copy(q.msgs, q.msgs[n:])
	clear(q.msgs[rest:])
	q.msgs = q.msgs[:rest]
	if q.paused && rest <= q.low {
		q.paused = false
		q.resume()
	}
	return b
}
