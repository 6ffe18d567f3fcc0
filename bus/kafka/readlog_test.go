package kafkabus

import (
	"context"
	"testing"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// TestReadLog reads back exactly what was published, each actor's events
// in order, without joining the group or moving its offsets.
func TestReadLog(t *testing.T) {
	cfg := testConfig(t)
	p := newProducer(t, cfg)
	evs := events([]int64{1, 2, 3, 4, 5, 6, 7}, 30)
	publish(t, p, evs, 50)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var got []schema.Event
	last := map[int32]int64{}
	err := ReadLog(ctx, cfg, cfg.EventsTopic(), func(r LogRecord) error {
		if prev, ok := last[r.Partition]; ok && r.Offset <= prev {
			t.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, prev)
		}
		last[r.Partition] = r.Offset
		e, err := schema.UnmarshalMsgpack(r.Value)
		if err != nil {
			return err
		}
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadLog: %v", err)
	}
	if !sameKeys(ids(got), ids(evs)) || len(got) != len(evs) {
		t.Fatalf("read %d events, want the %d published", len(got), len(evs))
	}
	checkOrder(t, got)

	// An empty topic reads as nothing; the group has committed nothing.
	n := 0
	if err := ReadLog(ctx, cfg, cfg.DeadLetterTopic(), func(LogRecord) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("dead letters: %d records, err %v", n, err)
	}
	c, err := NewConsumer(cfg, func(context.Context, [][]byte) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lag, err := c.Lag(ctx)
	if err != nil || lag != int64(len(evs)) {
		t.Fatalf("group lag after ReadLog = %d (err %v), want %d: ReadLog must not commit", lag, err, len(evs))
	}
}
