package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lenta-dev/lenta/fanout"
	"github.com/lenta-dev/lenta/schema"
)

// Store is where dead letters are kept, as an operator sees them.
type Store interface {
	// List returns every dead letter, newest first, each with its Source
	// (what MarkReplayed takes) and Replayed flag.
	List(ctx context.Context) ([]fanout.DeadLetter, error)
	// MarkReplayed flags the letters of the given sources as replayed;
	// marking one twice changes nothing.
	MarkReplayed(ctx context.Context, sources []string) error
}

// Filter selects letters: by reason code (Reason), by event id (IDs), or
// both; the zero Filter selects everything.
type Filter struct {
	Reason string
	IDs    []string
	Limit  int // at most this many (<= 0: all)
}

func (f *Filter) match(l *fanout.DeadLetter) bool {
	if f.Reason != "" && Code(l) != f.Reason {
		return false
	}
	return len(f.IDs) == 0 || slices.Contains(f.IDs, l.EventID)
}

// Code is the letter's reason code; a letter from before codes counts as
// "other".
func Code(l *fanout.DeadLetter) string {
	if l.Code == "" {
		return fanout.ReasonOther
	}
	return l.Code
}

// ErrNoSelection is returned by Replay when the filter names neither ids
// nor a reason: replaying everything must be asked for by reason.
var ErrNoSelection = errors.New("deadletter: replay needs event ids or a reason")

// ErrUnknownReason is returned for a reason that is not a reason code.
var ErrUnknownReason = errors.New("deadletter: unknown reason code")

// Service lists and replays dead letters.
type Service struct {
	Store Store
	Log   fanout.Publisher
	Now   func() time.Time // default time.Now
}

// List returns the letters f selects, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]fanout.DeadLetter, error) {
	if err := checkReason(f.Reason); err != nil {
		return nil, err
	}
	all, err := s.Store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("deadletter: list: %w", err)
	}
	out := all[:0]
	for i := range all {
		if f.match(&all[i]) && (f.Limit <= 0 || len(out) < f.Limit) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

func checkReason(r string) error {
	if r != "" && !slices.Contains(fanout.Reasons, r) {
		return fmt.Errorf("%w %q (one of %v)", ErrUnknownReason, r, fanout.Reasons)
	}
	return nil
}

// Report is what one Replay did.
type Report struct {
	Replayed []string `json:"replayed"` // event ids put back on the log
	Skipped  []Skip   `json:"skipped"`  // selected letters not replayed
}

// Skip is a selected letter that was not replayed, and why.
type Skip struct {
	EventID string `json:"event_id"`
	Source  string `json:"source"`
	Why     string `json:"why"`
}

// Replay puts the letters f selects back onto the event log, oldest first,
// and marks them replayed. Letters already replayed are not selected, so
// replaying twice changes nothing; an event id selected by several letters
// is published once (its oldest letter), and the fan-out ledger skips an
// event that was meanwhile applied. A letter that does not decode as an
// event (malformed) is skipped and stays unreplayed. If the process dies
// between publishing and marking, the next replay publishes again, which
// the ledger makes harmless.
func (s *Service) Replay(ctx context.Context, f Filter) (Report, error) {
	rep := Report{Replayed: []string{}, Skipped: []Skip{}}
	if f.Reason == "" && len(f.IDs) == 0 {
		return rep, ErrNoSelection
	}
	f.Limit = 0
	sel, err := s.List(ctx, f)
	if err != nil {
		return rep, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var evs []schema.Event
	var sources []string
	published := map[string]bool{}
	for i := len(sel) - 1; i >= 0; i-- { // oldest first
		l := &sel[i]
		if l.Replayed {
			continue
		}
		ev, err := schema.UnmarshalMsgpack(l.Raw)
		if err == nil {
			err = ev.Normalize(now())
		}
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{EventID: l.EventID, Source: l.Source, Why: err.Error()})
			continue
		}
		sources = append(sources, l.Source)
		if published[ev.ID] {
			continue
		}
		published[ev.ID] = true
		evs = append(evs, ev)
		rep.Replayed = append(rep.Replayed, ev.ID)
	}
	if len(evs) > 0 {
		if err := s.Log.Publish(ctx, evs); err != nil {
			return Report{Replayed: []string{}, Skipped: rep.Skipped}, fmt.Errorf("deadletter: publish: %w", err)
		}
	}
	if len(sources) > 0 {
		if err := s.Store.MarkReplayed(ctx, sources); err != nil {
			return rep, fmt.Errorf("deadletter: mark replayed: %w", err)
		}
	}
	return rep, nil
}
