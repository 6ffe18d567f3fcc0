package kafkabus

// Batch handling: the sarama group handler reads each claimed partition
// through a claimQueue and hands its batches to process, committing each
// only after process returned nil. consumer.go runs the group session.

import (
	"context"
	"log/slog"
	"time"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/retry"
)

// handler is the sarama.ConsumerGroupHandler. ConsumeClaim runs once per
// assigned partition, concurrently.
type handler struct {
	c     *Consumer
	group sarama.ConsumerGroup
	drain *drainer
	stop  context.Context // Run's ctx: take no new batch
}

func (h *handler) Setup(s sarama.ConsumerGroupSession) error {
	h.c.log.Info("joined consumer group", "member", s.MemberID(), "generation", s.GenerationID(), "claims", s.Claims())
	return nil
}

func (h *handler) Cleanup(s sarama.ConsumerGroupSession) error {
	h.c.log.Info("leaving consumer group session", "member", s.MemberID(), "generation", s.GenerationID())
	return nil
}

// ConsumeClaim reads one partition. A pump goroutine moves messages from
// the claim into a queue, so that the end of the claim (sarama closes
// Messages when a cooperative rebalance revokes the partition; the session
// context does not end then) is seen even while process is busy. The queue
// pauses the partition's fetching when it holds 4×BatchMax messages and
// resumes it at 2×BatchMax: a resumed partition is fetched again only when
// the broker's pending fetch returns (up to Consumer.MaxWaitTime), so the
// two batches left must cover that gap.
//
// ConsumeClaim must not return while the session goes on unless its
// partition was revoked: in sarama a handler returning ends the whole
// session, which would cancel the other partitions' batches in flight.
func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	cfg := &h.c.cfg
	topic, partition := claim.Topic(), claim.Partition()
	ctx, cancel := context.WithCancelCause(sess.Context())
	defer cancel(nil)

	tp := map[string][]int32{topic: {partition}}
	q := &claimQueue{
		wake:   make(chan struct{}, 1),
		ended:  make(chan struct{}),
		high:   4 * cfg.BatchMax,
		low:    2 * cfg.BatchMax,
		pause:  func() { h.group.Pause(tp) },
		resume: func() { h.group.Resume(tp) },
	}
	defer q.release()
	h.c.pumps.Go(func() {
		for m := range claim.Messages() {
			q.push(m)
		}
		q.end()
		// The claim is over. A batch in flight may finish and commit
		// within DrainTimeout; after that it is abandoned, to be
		// re-delivered to the partition's next owner.
		time.AfterFunc(cfg.DrainTimeout, func() { cancel(errRevoked) })
	})

	log := h.c.log.With("partition", partition)
	for {
		batch, st := q.next(ctx, h.stop.Done(), cfg.BatchMax, cfg.BatchWait)
		switch st {
		case nextEnded, nextCtxDone:
			return nil
		case nextStopping:
			q.waitEnd(ctx)
			return nil
		}
		if !h.drain.begin() {
			q.waitEnd(ctx)
			return nil
		}
		ok := h.apply(ctx, sess, topic, partition, batch, log)
		h.drain.end()
		if !ok {
			q.waitEnd(ctx)
			return nil
		}
	}
}

// apply hands batch to process until it succeeds, then commits it. It
// reports false, without committing, if ctx ended or Run is stopping.
func (h *handler) apply(ctx context.Context, sess sarama.ConsumerGroupSession, topic string, partition int32, batch []*sarama.ConsumerMessage, log *slog.Logger) bool {
	pctx := withSource(ctx, &source{topic: topic, partition: partition, msgs: batch})
	// The waits between attempts end when Run stops, too; process itself
	// keeps ctx, so that a batch in flight may finish within DrainTimeout.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.stop, cancel)()
	p := batchRetry
	p.OnRetry = func(err error, wait time.Duration) {
		log.Warn("batch failed; delivering it again",
			"first_offset", batch[0].Offset, "messages", len(batch), "err", err, "backoff", wait)
	}
	err := retry.Do(wctx, p, func() error {
		values := make([][]byte, len(batch))
		for i, m := range batch {
			values[i] = m.Value
		}
		return h.c.process(pctx, values)
	})
	if err != nil {
		if ctx.Err() != nil {
			log.Info("batch abandoned; it will be re-delivered",
				"first_offset", batch[0].Offset, "messages", len(batch), "cause", context.Cause(ctx))
		}
		return false // ctx ended, or Run is stopping
	}
	sess.MarkMessage(batch[len(batch)-1], "")
	sess.Commit()
	return true
}
