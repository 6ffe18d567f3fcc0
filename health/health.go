package health

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is what a part last reported.
type State int

const (
	// OK: the part is doing its job.
	OK State = iota
	// Failing: the part is retrying since Since; unhealthy past the bound.
	Failing
	// Stopped: the part is not running; always unhealthy.
	Stopped
	// Down: the part runs but cannot do its job until something outside
	// changes (a full disk); unhealthy at once, with no bound to wait out.
	Down
)

func (s State) String() string {
	switch s {
	case OK:
		return "ok"
	case Failing:
		return "failing"
	case Stopped:
		return "stopped"
	case Down:
		return "down"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is one part's state as the registry holds it.
type Status struct {
	State State
	Since time.Time // start of the current Failing or Stopped state
	Err   error     // the last error (nil when OK)
}

// PartStatus is a Status as /healthz shows it.
type PartStatus struct {
	State string `json:"state" msgpack:"state"`
	Since string `json:"since,omitempty" msgpack:"since,omitempty"`
	Error string `json:"error,omitempty" msgpack:"error,omitempty"`
}

// Registry is the set of named parts. The zero value is not usable: New.
type Registry struct {
	bound time.Duration
	now   func() time.Time
	mu    sync.Mutex
	parts map[string]*Status
}

// New returns a registry where a part failing longer than bound is
// unhealthy. now may be nil (time.Now).
func New(bound time.Duration, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{bound: bound, now: now, parts: make(map[string]*Status)}
}

// Part registers name (OK) if it is new and returns its reporter.
func (r *Registry) Part(name string) *Part {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.parts[name]; !ok {
		r.parts[name] = &Status{State: OK}
	}
	return &Part{r: r, name: name}
}

// Part is one named part's reporter. Its methods are safe for concurrent use.
type Part struct {
	r    *Registry
	name string
}

// Name is the part's name.
func (p *Part) Name() string { return p.name }

// OK reports the part is working.
func (p *Part) OK() { p.set(OK, nil) }

// Failing reports the part is retrying after err. The failure's start is
// kept across repeated reports, so the bound counts from the first one.
func (p *Part) Failing(err error) { p.set(Failing, err) }

// Stopped reports the part is not running (err may be nil: a clean stop).
func (p *Part) Stopped(err error) { p.set(Stopped, err) }

// Down reports that the part cannot do its job until something outside
// changes; the process is unhealthy at once.
func (p *Part) Down(err error) { p.set(Down, err) }

func (p *Part) set(s State, err error) {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.parts[p.name]
	if st.State != s {
		st.Since = r.now()
	}
	st.State, st.Err = s, err
	if s == OK {
		st.Since = time.Time{}
	}
}

// Snapshot is every part's status.
func (r *Registry) Snapshot() map[string]Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Status, len(r.parts))
	for n, s := range r.parts {
		out[n] = *s
	}
	return out
}

// Check returns nil when every part is healthy, else an *UnhealthyError
// naming the unhealthy parts (sorted) with every part's status.
func (r *Registry) Check(context.Context) error {
	snap := r.Snapshot()
	now := r.now()
	var bad []string
	for n, s := range snap {
		if s.State == Stopped || s.State == Down || (s.State == Failing && now.Sub(s.Since) >= r.bound) {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return &UnhealthyError{Unhealthy: bad, Parts: snap}
}

// UnhealthyError says which parts make the process unhealthy.
type UnhealthyError struct {
	Unhealthy []string
	Parts     map[string]Status
}

func (e *UnhealthyError) Error() string {
	var b strings.Builder
	b.WriteString("unhealthy: ")
	for i, n := range e.Unhealthy {
		if i > 0 {
			b.WriteString("; ")
		}
		s := e.Parts[n]
		if s.Err != nil {
			fmt.Fprintf(&b, "%s: %v", n, s.Err)
		} else {
			fmt.Fprintf(&b, "%s: %s", n, s.State)
		}
	}
	return b.String()
}

// HealthParts is every part's status as /healthz shows it.
func (e *UnhealthyError) HealthParts() any {
	out := make(map[string]PartStatus, len(e.Parts))
	for n, s := range e.Parts {
		ps := PartStatus{State: s.State.String()}
		if !s.Since.IsZero() {
			ps.Since = s.Since.UTC().Format(time.RFC3339Nano)
		}
		if s.Err != nil {
			ps.Error = s.Err.Error()
		}
		out[n] = ps
	}
	return out
}

// Probe returns a loop that calls check every interval (each call bounded
// by timeout) and reports OK or Failing to part, until ctx ends (then it
// returns nil). The caller owns the loop: run it under a supervisor.
func Probe(part *Part, interval, timeout time.Duration, check func(context.Context) error) func(context.Context) error {
	return probe(part.Failing, part, interval, timeout, check)
}

// ProbeDown is Probe for a check whose failure is a state rather than a
// retry (a full disk): a failing check reports the part Down, unhealthy at
// once.
func ProbeDown(part *Part, interval, timeout time.Duration, check func(context.Context) error) func(context.Context) error {
	return probe(part.Down, part, interval, timeout, check)
}

func probe(failed func(error), part *Part, interval, timeout time.Duration, check func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			err := check(cctx)
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				failed(err)
			} else {
				part.OK()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}
