package bench

import (
	"context"
	"errors"
	"time"

	"github.com/lenta-dev/lenta/bench/report"
)

// Scenario is one measurement, run by name (`feedbench <name>`).
type Scenario struct {
	Name string
	Help string
	Run  func(ctx context.Context, e *Env, s *report.Scenario) error
}

// Scenarios lists every scenario, in the order the standard suite runs
// them. Adding one (as push was; ranked reads next) is one file with its
// Scenario value and one line here.
func Scenarios() []Scenario {
	return []Scenario{
		fanoutScenario,
		latencyScenario,
		readScenario,
		mixedScenario,
		largeScenario,
		pushScenario,
	}
}

// Extras lists the scenarios that run only when named, never in the
// suite: soak lasts minutes by design.
func Extras() []Scenario {
	return []Scenario{soakScenario}
}

// Lookup finds a scenario (of the suite or an extra) by name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range append(Scenarios(), Extras()...) {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// RunScenario runs sc and records its figures, duration, load average and
// the shared feedd's peak RSS so far in the run's report.
func (e *Env) RunScenario(ctx context.Context, sc Scenario) *report.Scenario {
	s := &report.Scenario{Name: sc.Name}
	s.LoadAvg[0] = report.LoadAvg()
	start := time.Now()
	e.logf("== %s", sc.Name)
	err := sc.Run(ctx, e, s)
	s.Seconds = time.Since(start).Seconds()
	s.LoadAvg[1] = report.LoadAvg()
	if e.feedd != nil {
		s.Add("feedd peak RSS so far", float64(e.feedd.PeakRSS())/(1<<20), "MiB")
	}
	switch {
	case errors.Is(err, errSkip):
		s.Note("skipped: %v", err)
	case err != nil:
		s.Err = err.Error()
	}
	e.Run.Scenarios = append(e.Run.Scenarios, s)
	return s
}

// Close stops the shared feedd.
func (e *Env) Close() error {
	_, err := e.StopFeedd()
	return err
}
