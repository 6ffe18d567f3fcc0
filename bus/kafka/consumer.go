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

	"github.com/lenta-dev/lenta/retry"
)

// errRevoked cancels a batch whose partition was taken away by a
// rebalance and did not finish within DrainTimeout.
var errRevoked = errors.New("kafkabus: partition revoked")

// The ends of a group session that Run's retry tells apart.
var (
	errShortSession = errors.New("kafkabus: the session ended at once")
	errGroupDone    = errors.New("kafkabus: the group is stopping")
)

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
// must return nil only when the whole batch is applied or dead-lettered.
// An error leaves the batch uncommitted: the consumer logs it and hands the
// same batch again after a backoff (50 ms doubling to 5 s) until process
// succeeds, its ctx ends or Run stops; process should not retry a failure
// itself. It is called concurrently
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

	h := &handler{c: c, group: group, drain: drain, stop: ctx}
	topics := []string{c.cfg.EventsTopic()}
	sp := sessionRetry
	sp.OnRetry = func(err error, wait time.Duration) {
		if !errors.Is(err, errShortSession) {
			c.log.Warn("consumer group session failed; retrying", "err", err, "backoff", wait)
		}
	}
	// A session that ran and ended cleanly returns nil from Do, so the
	// next failure backs off from the start again.
	for groupCtx.Err() == nil {
		err := retry.Do(groupCtx, sp, func() error {
			start := time.Now()
			err := group.Consume(groupCtx, topics, h)
			switch {
			case groupCtx.Err() != nil || errors.Is(err, sarama.ErrClosedConsumerGroup):
				return retry.Permanent(errGroupDone)
			case err != nil:
				return err
			case time.Since(start) <= time.Second:
				return errShortSession
			}
			return nil // the session ended (a rebalance): join again at once
		})
		if err != nil {
			break // the group is stopping
		}
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
