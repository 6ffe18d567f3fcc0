package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// errRevoked cancels a batch whose partition was taken away by a
// rebalance and did not finish within DrainTimeout.
var errRevoked = errors.New("kafkabus: partition revoked")

// Consumer runs the fan-out consumer group on the events topic. Each
// partition it is assigned is read in batches of up to BatchMax messages
// (or what arrived within BatchWait of the first); a batch is handed to
// process, and its offsets are committed only after process returns nil.
// Delivery is therefore at least once: a batch that was not committed is
// delivered again, to whichever member owns the partition next.
type Consumer struct {
	cfg     Config
	process func(ctx context.Context, msgs [][]byte) error
	log     *slog.Logger
	client  sarama.Client       // metadata and offsets, for Lag
	admin   sarama.ClusterAdmin // owns client
	ran     atomic.Bool
	pumps   sync.WaitGroup // one per claim, see ConsumeClaim
}

// NewConsumer connects to the cluster (the group is joined by Run). process
// must return nil only when the whole batch is applied or dead-lettered,
// and an error only when its ctx ended (any other error is logged and the
// batch is handed to it again after a backoff). It is called concurrently
// for different partitions, never for one partition twice at a time; the
// message slices it gets are not reused afterwards. ctx carries the batch's
// source partition and offsets, which DeadLetters.Put reads.
func NewConsumer(cfg Config, process func(ctx context.Context, msgs [][]byte) error, log *slog.Logger) (*Consumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if process == nil {
		return nil, errors.New("kafkabus: nil process func")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sc, err := cfg.consumerConfig()
	if err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafkabus: connect: %w", err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kafkabus: admin: %w", err)
	}
	return &Consumer{
		cfg:     cfg,
		process: process,
		log:     log.With("component", "kafka-consumer", "group", cfg.Group, "topic", cfg.EventsTopic()),
		client:  client,
		admin:   admin,
	}, nil
}

// Close releases the connection used by Lag. Run must have returned.
func (c *Consumer) Close() error { return c.admin.Close() }

// Run joins the group and consumes until ctx ends; it may be called once.
// When ctx ends, no new batch is started, the batches in flight get up to
// DrainTimeout to finish and be committed, then the member leaves the group.
// Run returns after every goroutine it started has exited; nil unless the
// group could not be created or left cleanly. Errors while running
// (a broker down, the topic missing) are logged and retried.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.ran.CompareAndSwap(false, true) {
		return errors.New("kafkabus: Consumer.Run called twice")
	}
	sc, err := c.cfg.consumerConfig()
	if err != nil {
		return err
	}
	// Cooperative (incremental) rebalancing: a member joining or leaving
	// moves only the partitions that change owner; the others keep being
	// consumed. The strategy is stateful: one per group.
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyCooperativeSticky()}
	group, err := sarama.NewConsumerGroup(c.cfg.Brokers, c.cfg.Group, sc)
	if err != nil {
		return fmt.Errorf("kafkabus: join group %s: %w", c.cfg.Group, err)
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for err := range group.Errors() {
			c.log.Warn("kafka consumer error", "err", err)
		}
	})

	// The group runs on its own context, so that ctx ending does not cancel
	// the batches in flight at once: the stopper below cancels it when they
	// are done, or after DrainTimeout.
	groupCtx, cancelGroup := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelGroup()
	drain := &drainer{idle: make(chan struct{})}
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-groupCtx.Done():
			return
		}
		drain.stop()
		t := time.NewTimer(c.cfg.DrainTimeout)
		defer t.Stop()
		select {
		case <-drain.idle:
		case <-t.C:
			c.log.Warn("batches in flight did not finish in time; they will be re-delivered", "drain_timeout", c.cfg.DrainTimeout)
		case <-groupCtx.Done():
		}
		cancelGroup()
	})

	h := &handler{c: c, group: group, drain: drain, stop: ctx.Done()}
	topics := []string{c.cfg.EventsTopic()}
	backoff := 100 * time.Millisecond
	for groupCtx.Err() == nil {
		start := time.Now()
		err := group.Consume(groupCtx, topics, h)
		if groupCtx.Err() != nil || errors.Is(err, sarama.ErrClosedConsumerGroup) {
			break
		}
		if err == nil && time.Since(start) > time.Second {
			backoff = 100 * time.Millisecond
			continue // the session ended (a rebalance): join again
		}
		// Failed, or a session that ended at once: do not hammer the
		// coordinator.
		if err != nil {
			c.log.Warn("consumer group session failed; retrying", "err", err, "backoff", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-groupCtx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(2*backoff, 5*time.Second)
	}
	cancelGroup()
	closeErr := group.Close() // leaves the group, closes Errors
	wg.Wait()
	c.pumps.Wait()
	if closeErr != nil {
		return fmt.Errorf("kafkabus: leave group %s: %w", c.cfg.Group, closeErr)
	}
	c.log.Info("consumer stopped")
	return nil
}

// Lag is the number of messages of the events topic not yet committed by
// the group: the sum over partitions of newest offset − committed offset
// (a partition without a committed offset counts from its oldest message).
func (c *Consumer) Lag(ctx context.Context) (int64, error) {
	topic := c.cfg.EventsTopic()
	if err := c.client.RefreshMetadata(topic); err != nil {
		return 0, fmt.Errorf("kafkabus: lag: metadata of %s: %w", topic, err)
	}
	parts, err := c.client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("kafkabus: lag: partitions of %s: %w", topic, err)
	}
	resp, err := c.admin.ListConsumerGroupOffsets(c.cfg.Group, map[string][]int32{topic: parts})
	if err != nil {
		return 0, fmt.Errorf("kafkabus: lag: offsets of group %s: %w", c.cfg.Group, err)
	}
	if !errors.Is(resp.Err, sarama.ErrNoError) {
		return 0, fmt.Errorf("kafkabus: lag: offsets of group %s: %w", c.cfg.Group, resp.Err)
	}
	var lag int64
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		newest, err := c.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, fmt.Errorf("kafkabus: lag: newest offset of %s/%d: %w", topic, p, err)
		}
		committed := int64(-1)
		if b := resp.GetBlock(topic, p); b != nil {
			if !errors.Is(b.Err, sarama.ErrNoError) {
				return 0, fmt.Errorf("kafkabus: lag: committed offset of %s/%d: %w", topic, p, b.Err)
			}
			committed = b.Offset
		}
		if committed < 0 {
			if committed, err = c.client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
				return 0, fmt.Errorf("kafkabus: lag: oldest offset of %s/%d: %w", topic, p, err)
			}
		}
		lag += max(newest-committed, 0)
	}
	return lag, nil
}

// handler is the sarama.ConsumerGroupHandler. ConsumeClaim runs once per
// assigned partition, concurrently.
type handler struct {
	c     *Consumer
	group sarama.ConsumerGroup
	drain *drainer
	stop  <-chan struct{} // Run's ctx: take no new batch
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
		batch, st := q.next(ctx, h.stop, cfg.BatchMax, cfg.BatchWait)
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
	backoff := 50 * time.Millisecond
	for {
		values := make([][]byte, len(batch))
		for i, m := range batch {
			values[i] = m.Value
		}
		err := h.c.process(pctx, values)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			log.Info("batch abandoned; it will be re-delivered",
				"first_offset", batch[0].Offset, "messages", len(batch), "cause", context.Cause(ctx))
			return false
		}
		log.Warn("batch failed; delivering it again",
			"first_offset", batch[0].Offset, "messages", len(batch), "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		case <-h.stop:
			t.Stop()
			return false
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	sess.MarkMessage(batch[len(batch)-1], "")
	sess.Commit()
	return true
}

// drainer counts batches in flight so that Run, when stopping, can wait
// for them; once stopping, no new batch begins.
type drainer struct {
	mu       sync.Mutex
	n        int
	stopping bool
	closed   bool
	idle     chan struct{} // closed when stopping and nothing is in flight
}

func (d *drainer) begin() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return false
	}
	d.n++
	return true
}

func (d *drainer) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n--
	d.check()
}

func (d *drainer) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	d.check()
}

func (d *drainer) check() {
	if d.stopping && d.n == 0 && !d.closed {
		d.closed = true
		close(d.idle)
	}
}

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
