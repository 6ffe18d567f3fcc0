package bench

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
	"github.com/lenta-dev/lenta/notify"
	"github.com/lenta-dev/lenta/schema"
)

// Push targets (issue 13): a gift (not coalesced) reaches its device
// within a second when the sender keeps up; the pipeline does at least
// this share of the Send ceiling.
const (
	targetGiftP99     = 1000 // ms, paced at half of the burst's sustained rate
	targetPushCeiling = 0.8
	pacedGiftSeconds  = 10
)

// pacedGifts publishes gifts at rate (half of what the burst sustained)
// for pacedGiftSeconds, a batch every pacedTick, and reports publish ->
// received: the latency a device sees while the sender keeps up, which a
// burst's backlog hides.
func pacedGifts(ctx context.Context, e *Env, s *report.Scenario, c *Client, rcv *pushReceiver, devs []device,
	rng *rand.Rand, rate float64) error {
	m := max(100, int(rate*pacedGiftSeconds))
	users := int64(e.Graph.Config.Users)
	prefix := e.Graph.Config.IDPrefix + "-push-paced-"
	gifts := make([]schema.Event, m)
	rcv.mu.Lock()
	base := len(rcv.recv)
	rcv.recv = append(rcv.recv, make([]time.Time, m)...)
	for i := range gifts {
		to := devs[rng.IntN(len(devs))].user
		from := 1 + rng.Int64N(users)
		for from == to {
			from = 1 + rng.Int64N(users)
		}
		id := prefix + strconv.Itoa(i)
		gifts[i] = schema.Event{ID: id, Type: schema.Gift, Actor: from, Target: to, Audience: schema.AudiencePrivate,
			Text: "a gift"}
		rcv.gifts[notify.Topic(notify.KindGift, id)] = base + i
	}
	rcv.mu.Unlock()
	sent := make([]time.Time, m)
	start := time.Now()
	t := time.NewTicker(pacedTick)
	defer t.Stop()
	p := NewProgress(e.Opts.Progress, "push: paced gifts", int64(m))
	for next := 0; next < m; {
		select {
		case <-ctx.Done():
			p.Done()
			return ctx.Err()
		case <-t.C:
		}
		hi := min(m, int(rate*time.Since(start).Seconds()), next+schema.MaxBatch)
		if hi <= next {
			continue
		}
		now := time.Now()
		for i := next; i < hi; i++ {
			gifts[i].TS = now.UnixMilli()
			sent[i] = now
		}
		if err := c.Publish(ctx, gifts[next:hi]); err != nil {
			p.Done()
			return err
		}
		next = hi
		p.Set(int64(next))
	}
	p.Done()
	if _, _, err := waitPushes(ctx, e, rcv, base+m); err != nil {
		return err
	}
	lat := make(Latencies, 0, m)
	rcv.mu.Lock()
	for i := range m {
		if t := rcv.recv[base+i]; !t.IsZero() {
			lat = append(lat, t.Sub(sent[i]))
		}
	}
	rcv.mu.Unlock()
	sum := lat.Summarize()
	s.Add("paced gifts: rate (half of the sustained rate above)", rate, "events/s")
	s.Add("paced gifts: pushes received", float64(len(lat)), "pushes")
	s.Add("paced gifts: publish to received p50", sum.P50, "ms")
	s.AddTarget("paced gifts: publish to received p99", sum.P99, "ms", false, targetGiftP99)
	s.Latencies = append(s.Latencies, report.Samples{Name: "paced gift: publish to push received", Millis: lat.Millis(2000)})
	return nil
}
