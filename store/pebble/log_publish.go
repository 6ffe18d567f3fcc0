package pebblestore

// Event log appends: Publish assigns each event its partition's next seq
// and commits them in one synced batch; complete advances a partition's
// visible seq over committed ranges. log.go holds the Log and its opening.

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/lenta-dev/lenta/schema"
)

// Publish appends the events in one synced batch; when it returns nil they
// are durable. Events of one actor keep their order (one partition, seqs
// assigned in slice order).
func (l *Log) Publish(ctx context.Context, events []schema.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	type rng struct {
		p        int
		start, n uint64
	}
	partOf := make([]int, len(events))
	count := make(map[int]int, min(len(events), len(l.parts)))
	for i := range events {
		p := l.PartitionOf(events[i].Actor)
		partOf[i] = p
		count[p]++
	}
	// Encode before taking seqs: an encoding error must not leave a gap.
	payloads := make([][]byte, len(events))
	for i := range events {
		b, err := schema.MarshalMsgpack(&events[i])
		if err != nil {
			return fmt.Errorf("pebblestore: publish: %w", err)
		}
		payloads[i] = b
	}
	ranges := make([]rng, 0, len(count))
	nextSeq := make(map[int]uint64, len(count))
	for p, n := range count {
		part := l.parts[p]
		part.mu.Lock()
		start := part.next
		part.next += uint64(n)
		part.mu.Unlock()
		ranges = append(ranges, rng{p: p, start: start, n: uint64(n)})
		nextSeq[p] = start
	}
	b := l.s.db.NewBatch()
	var k []byte
	var err error
	for i := range events {
		p := partOf[i]
		k = logKey(k[:0], p, nextSeq[p])
		nextSeq[p]++
		if err = b.Set(k, payloads[i], nil); err != nil {
			break
		}
	}
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	// Even a failed commit completes its ranges: they become a gap that the
	// consumer steps over, so later messages are not held back forever.
	for _, r := range ranges {
		part := l.parts[r.p]
		part.complete(r.start, r.start+r.n-1)
		select {
		case part.wake <- struct{}{}:
		default:
		}
	}
	if err != nil {
		return fmt.Errorf("pebblestore: publish: %w", err)
	}
	return nil
}

// complete marks [start, end] committed and advances visible over every
// contiguous committed range.
func (p *partition) complete(start, end uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[start] = end
	v := p.visible.Load()
	for {
		e, ok := p.done[v+1]
		if !ok {
			break
		}
		delete(p.done, v+1)
		v = e
	}
	p.visible.Store(v)
}
