package kafkabus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/IBM/sarama"

	"github.com/lenta-dev/lenta/deadletter"
	"github.com/lenta-dev/lenta/fanout"
)

// Headers of the dead-letter topic besides those DeadLetters.Put writes
// for every letter.
const (
	// HeaderReasonCode is the letter's reason code (fanout.Reason*).
	HeaderReasonCode = "lenta-reason-code"
	// HeaderReplayedOf marks a replay record: a record with no value
	// saying the letter at this position ("partition/offset" of the
	// dead-letter topic) was put back on the event log.
	HeaderReplayedOf = "lenta-replayed-of"
)

// DeadLetterLog implements deadletter.Store on the dead-letter topic: List
// reads the topic with ReadLog (no consumer group), and MarkReplayed
// appends one replay record per letter to the same topic, since a topic is
// append-only. A letter's Source is its "partition/offset" in the topic.
type DeadLetterLog struct {
	cfg  Config
	dead *DeadLetters // produces the replay records
}

var _ deadletter.Store = (*DeadLetterLog)(nil)

// NewDeadLetterLog reads cfg's dead-letter topic and marks replays with
// dead's producer (which the caller owns and closes).
func NewDeadLetterLog(cfg Config, dead *DeadLetters) *DeadLetterLog {
	return &DeadLetterLog{cfg: cfg, dead: dead}
}

// List implements deadletter.Store: every letter of the topic, newest
// first, Replayed when a replay record names it.
func (d *DeadLetterLog) List(ctx context.Context) ([]fanout.DeadLetter, error) {
	var out []fanout.DeadLetter
	replayed := map[string]bool{}
	err := ReadLog(ctx, d.cfg, d.cfg.DeadLetterTopic(), func(r LogRecord) error {
		if of, ok := r.Headers[HeaderReplayedOf]; ok {
			replayed[of] = true
			return nil
		}
		ts, _ := strconv.ParseInt(r.Headers[HeaderTS], 10, 64)
		out = append(out, fanout.DeadLetter{
			Raw: r.Value, EventID: r.Headers[HeaderEventID], Reason: r.Headers[HeaderReason],
			Code: r.Headers[HeaderReasonCode], TS: ts,
			Source: strconv.FormatInt(int64(r.Partition), 10) + "/" + strconv.FormatInt(r.Offset, 10),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Replayed = replayed[out[i].Source]
	}
	slices.SortStableFunc(out, func(a, b fanout.DeadLetter) int { return cmp.Compare(b.TS, a.TS) })
	return out, nil
}

// MarkReplayed implements deadletter.Store: one replay record per source,
// acknowledged by all in-sync replicas before it returns. Marking twice
// adds a record but changes nothing.
func (d *DeadLetterLog) MarkReplayed(ctx context.Context, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	msgs := make([]*sarama.ProducerMessage, len(sources))
	for i, s := range sources {
		msgs[i] = &sarama.ProducerMessage{Topic: d.dead.topic, Key: sarama.StringEncoder(s),
			Headers: []sarama.RecordHeader{{Key: []byte(HeaderReplayedOf), Value: []byte(s)}}}
	}
	if err := d.dead.s.send(ctx, msgs); err != nil {
		return fmt.Errorf("kafkabus: mark replayed in %s: %w", d.dead.topic, err)
	}
	return nil
}
