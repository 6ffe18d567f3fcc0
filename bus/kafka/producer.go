package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// ErrClosed is returned by Publish and Put after Close.
var ErrClosed = errors.New("kafkabus: producer closed")

var (
	_ fanout.Publisher   = (*Producer)(nil)
	_ fanout.DeadLetters = (*DeadLetters)(nil)
)

// Producer publishes events to the events topic through an idempotent,
// acks=all producer. Each message's key is the actor id in decimal ASCII
// (e.g. "42"), hashed with murmur2 like the Java client, so one actor always
// maps to one partition; the value is schema.MarshalMsgpack of the event.
// It is safe for concurrent use; concurrent Publish calls share batches.
type Producer struct {
	s     *sender
	topic string
}

// NewProducer connects an idempotent producer for cfg's events topic.
func NewProducer(cfg Config) (*Producer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := newSender(cfg)
	if err != nil {
		return nil, err
	}
	return &Producer{s: s, topic: cfg.EventsTopic()}, nil
}

// ActorKey is the message key of an actor's events: its id in decimal.
func ActorKey(actor int64) []byte { return strconv.AppendInt(nil, actor, 10) }

// Publish sends events and returns nil only when every one of them is
// acknowledged by all in-sync replicas. On error some events may still
// have been written (or be written later, by the producer's retries):
// publishing them again is safe because applying is idempotent by event id.
// Events of one actor are written in slice order.
func (p *Producer) Publish(ctx context.Context, events []schema.Event) error {
	if len(events) == 0 {
		return nil
	}
	msgs := make([]*sarama.ProducerMessage, len(events))
	for i := range events {
		v, err := schema.MarshalMsgpack(&events[i])
		if err != nil {
			return fmt.Errorf("kafkabus: publish: %w", err)
		}
		msgs[i] = &sarama.ProducerMessage{
			Topic: p.topic,
			Key:   sarama.ByteEncoder(ActorKey(events[i].Actor)),
			Value: sarama.ByteEncoder(v),
		}
	}
	if err := p.s.send(ctx, msgs); err != nil {
		return fmt.Errorf("kafkabus: publish to %s: %w", p.topic, err)
	}
	return nil
}

// Close flushes what is buffered and disconnects. Publish calls must have
// returned.
func (p *Producer) Close() error { return p.s.close() }

// Dead-letter headers.
const (
	HeaderReason          = "lenta-reason"
	HeaderEventID         = "lenta-event-id"
	HeaderTS              = "lenta-ts"
	HeaderSourceTopic     = "lenta-source-topic"
	HeaderSourcePartition = "lenta-source-partition"
	HeaderSourceOffset    = "lenta-source-offset"
)

// DeadLetters produces dead letters to the dead-letter topic: the value is
// the original message, unchanged; headers carry the reason, the event id,
// the time (unix ms) and, when the letter came from a batch handed out by
// Consumer, the source topic, partition and offset. The key is the source
// message's key when known. Put returns nil only when every letter is
// acknowledged by all in-sync replicas.
type DeadLetters struct {
	s     *sender
	topic string
}

// NewDeadLetters connects an idempotent producer for cfg's dead-letter topic.
func NewDeadLetters(cfg Config) (*DeadLetters, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := newSender(cfg)
	if err != nil {
		return nil, err
	}
	return &DeadLetters{s: s, topic: cfg.DeadLetterTopic()}, nil
}

// Put implements fanout.DeadLetters.
func (d *DeadLetters) Put(ctx context.Context, letters []fanout.DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	src := sourceFrom(ctx)
	used := make([]bool, src.len())
	msgs := make([]*sarama.ProducerMessage, len(letters))
	for i := range letters {
		l := &letters[i]
		m := &sarama.ProducerMessage{
			Topic: d.topic,
			Headers: []sarama.RecordHeader{
				{Key: []byte(HeaderReason), Value: []byte(l.Reason)},
				{Key: []byte(HeaderEventID), Value: []byte(l.EventID)},
				{Key: []byte(HeaderTS), Value: strconv.AppendInt(nil, l.TS, 10)},
			},
		}
		if l.Code != "" {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(HeaderReasonCode), Value: []byte(l.Code)})
		}
		if l.Raw != nil {
			m.Value = sarama.ByteEncoder(l.Raw)
		}
		if j := src.find(l.Raw, used); j >= 0 {
			used[j] = true
			m.Headers = append(m.Headers,
				sarama.RecordHeader{Key: []byte(HeaderSourceTopic), Value: []byte(src.topic)},
				sarama.RecordHeader{Key: []byte(HeaderSourcePartition), Value: strconv.AppendInt(nil, int64(src.partition), 10)},
				sarama.RecordHeader{Key: []byte(HeaderSourceOffset), Value: strconv.AppendInt(nil, src.msgs[j].Offset, 10)},
			)
			if k := src.msgs[j].Key; k != nil {
				m.Key = sarama.ByteEncoder(k)
			}
		}
		msgs[i] = m
	}
	if err := d.s.send(ctx, msgs); err != nil {
		return fmt.Errorf("kafkabus: dead-letter to %s: %w", d.topic, err)
	}
	return nil
}

// Close flushes what is buffered and disconnects. Put calls must have
// returned.
func (d *DeadLetters) Close() error { return d.s.close() }

// sender wraps an AsyncProducer with a completion barrier per send call, so
// a call waits for its own messages only and can give up when ctx ends.
type sender struct {
	ap   sarama.AsyncProducer
	wg   sync.WaitGroup // the two result readers
	mu   sync.RWMutex   // held for reading while writing to Input
	done bool           // under mu: Close was called
}

func newSender(cfg Config) (*sender, error) {
	sc, err := cfg.producerConfig()
	if err != nil {
		return nil, err
	}
	ap, err := sarama.NewAsyncProducer(cfg.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafkabus: connect producer: %w", err)
	}
	s := &sender{ap: ap}
	s.wg.Go(func() {
		for m := range ap.Successes() {
			m.Metadata.(*ticket).settle(nil)
		}
	})
	s.wg.Go(func() {
		for e := range ap.Errors() {
			e.Msg.Metadata.(*ticket).settle(e.Err)
		}
	})
	return s, nil
}

// ticket counts one send call's unsettled messages.
type ticket struct {
	left   atomic.Int64
	failed atomic.Int64
	once   sync.Once
	first  error // set once, read after done
	done   chan struct{}
}

func (t *ticket) settle(err error) {
	if err != nil {
		t.failed.Add(1)
		t.once.Do(func() { t.first = err })
	}
	t.release(1)
}

func (t *ticket) release(n int64) {
	if t.left.Add(-n) == 0 {
		close(t.done)
	}
}

func (s *sender) send(ctx context.Context, msgs []*sarama.ProducerMessage) error {
	n := len(msgs)
	t := &ticket{done: make(chan struct{})}
	t.left.Store(int64(n))
	s.mu.RLock()
	if s.done {
		s.mu.RUnlock()
		return ErrClosed
	}
	for i, m := range msgs {
		m.Metadata = t
		select {
		case s.ap.Input() <- m:
		case <-ctx.Done():
			s.mu.RUnlock()
			t.release(int64(n - i))
			return fmt.Errorf("%d of %d messages not sent, %d unacknowledged: %w",
				n-i, n, t.left.Load(), context.Cause(ctx))
		}
	}
	s.mu.RUnlock()
	select {
	case <-t.done:
	case <-ctx.Done():
		return fmt.Errorf("%d of %d messages unacknowledged: %w", t.left.Load(), n, context.Cause(ctx))
	}
	if f := t.failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d messages failed: %w", f, n, t.first)
	}
	return nil
}

func (s *sender) close() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.done = true
	s.mu.Unlock()
	s.ap.AsyncClose() // flushes, then closes Successes and Errors
	s.wg.Wait()
	return nil
}
