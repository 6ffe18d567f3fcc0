package fanout

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lenta-dev/lenta/schema"
)

// Processor turns a batch of raw bus messages into applied events: it
// decodes and validates each one, sends poison to the dead letters with the
// reason, and applies the rest. It never skips a valid event. Every bus
// adapter (the embedded log, Kafka) commits its offsets only after Process
// returns nil.
//
// Process tries a batch once. A store failure is reported to
// Observer.Retried and returned, and the bus that handed the batch owns
// the retry: it backs off and hands the same batch again, committing
// nothing meanwhile (every write is idempotent, so the events applied
// before the failure are duplicates then). Retrying here as well would
// retry one failure in two layers, and keep a stopping consumer waiting
// on a store that is down.
type Processor struct {
	Engine   *Engine
	Dead     DeadLetters
	Observer Observer
	Log      *slog.Logger
}

// Process handles one batch. It returns nil when every message was applied
// or dead-lettered, ctx.Err() if ctx ended, and otherwise the failure of
// the step that failed (apply, dead-letter), for the bus to retry.
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
	res, err := p.Engine.Apply(ctx, evs)
	if err != nil {
		return p.failed(ctx, "apply", err)
	}
	for _, r := range res.Rejected {
		dead = append(dead, DeadLetter{Raw: raw[r.Index], EventID: r.EventID, Reason: r.Reason, Code: r.Code, TS: now.UnixMilli()})
	}
	if len(dead) > 0 {
		if err := p.Dead.Put(ctx, dead); err != nil {
			return p.failed(ctx, "dead-letter", err)
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

// failed reports a failed step, which the bus will retry, and returns it.
func (p *Processor) failed(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.observer().Retried(err)
	return fmt.Errorf("fanout: %s: %w", step, err)
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
