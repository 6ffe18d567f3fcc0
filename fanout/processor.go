package fanout

import (
	"context"
	"log/slog"
	"time"

	"github.com/lenta-dev/lenta/schema"
)

// Processor turns a batch of raw bus messages into applied events: it
// decodes and validates each one, sends poison to the dead letters with the
// reason, and applies the rest, retrying store failures with backoff until
// they succeed or ctx ends. It never skips a valid event. Every bus adapter
// (the embedded log, Kafka) commits its offsets only after Process returns
// nil.
type Processor struct {
	Engine     *Engine
	Dead       DeadLetters
	Observer   Observer
	Log        *slog.Logger
	MinBackoff time.Duration // default 50ms
	MaxBackoff time.Duration // default 5s
}

// Process handles one batch. It returns nil when every message was applied
// or dead-lettered, and ctx.Err() if ctx ended first.
func (p *Processor) Process(ctx context.Context, msgs [][]byte) error {
	obs := p.observer()
	now := p.Engine.cfg.Now()
	evs := make([]schema.Event, 0, len(msgs))
	raw := make([][]byte, 0, len(msgs))
	var dead []DeadLetter
	for _, m := range msgs {
		ev, err := schema.UnmarshalMsgpack(m)
		if err == nil {
			err = ev.Normalize(now)
		}
		if err != nil {
			dead = append(dead, DeadLetter{Raw: m, EventID: ev.ID, Reason: err.Error(), Code: ReasonOf(err), TS: now.UnixMilli()})
			continue
		}
		evs = append(evs, ev)
		raw = append(raw, m)
	}
	var res Result
	err := p.retry(ctx, "apply", func() error {
		var err error
		res, err = p.Engine.Apply(ctx, evs)
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range res.Rejected {
		dead = append(dead, DeadLetter{Raw: raw[r.Index], EventID: r.EventID, Reason: r.Reason, Code: r.Code, TS: now.UnixMilli()})
	}
	if len(dead) > 0 {
		if err := p.retry(ctx, "dead-letter", func() error { return p.Dead.Put(ctx, dead) }); err != nil {
			return err
		}
		for _, d := range dead {
			p.log().Warn("event dead-lettered", "event_id", d.EventID, "code", d.Code, "reason", d.Reason)
			obs.DeadLettered(d.Code, 1)
		}
	}
	obs.Applied(res.Applied, res.Deliveries)
	obs.Skipped(res.Duplicates)
	return nil
}

func (p *Processor) retry(ctx context.Context, what string, f func() error) error {
	backoff := p.MinBackoff
	if backoff <= 0 {
		backoff = 50 * time.Millisecond
	}
	maxBackoff := p.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 5 * time.Second
	}
	for {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.observer().Retried(err)
		p.log().Warn("pipeline step failed; retrying", "step", what, "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func (p *Processor) observer() Observer {
	if p.Observer == nil {
		return NopObserver{}
	}
	return p.Observer
}

func (p *Processor) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
