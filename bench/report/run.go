package report

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Run is everything one feedbench invocation measured.
type Run struct {
	Started   time.Time   `json:"started"`
	Seconds   float64     `json:"seconds"`
	Command   string      `json:"command"`
	Target    string      `json:"target"`
	Machine   Machine     `json:"machine"`
	Workload  any         `json:"workload,omitempty"`
	Settings  any         `json:"settings,omitempty"`
	Scenarios []*Scenario `json:"scenarios"`
	Notes     []string    `json:"notes,omitempty"`
}

// Scenario is one scenario's figures and data.
type Scenario struct {
	Name    string    `json:"name"`
	Seconds float64   `json:"seconds"`
	LoadAvg [2]string `json:"load_average"` // /proc/loadavg at start and end
	Figures []Figure  `json:"figures"`
	Series  []Series  `json:"series,omitempty"`
	// Latencies are sorted samples in milliseconds (thinned), by name:
	// plotted as CDFs; Histograms the same, plotted as histograms.
	Latencies  []Samples `json:"latencies,omitempty"`
	Histograms []Samples `json:"histograms,omitempty"`
	// Tables are printed after the figures (e.g. the soak's samples).
	Tables []Table  `json:"tables,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	Err    string   `json:"error,omitempty"`
}

// Figure is one number.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Target is the design target, e.g. ">= 250000" (empty: none); Met
	// says whether this run met it.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Series is a time series: T seconds since the phase began, V values.
type Series struct {
	Name  string    `json:"name"`
	Unit  string    `json:"unit"`
	Group string    `json:"group"` // series of one group share a plot
	T     []float64 `json:"t"`
	V     []float64 `json:"v"`
}

// Table is a small table of preformatted cells, one row per line.
type Table struct {
	Name    string     `json:"name"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Samples are measured values in milliseconds, ascending.
type Samples struct {
	Name   string    `json:"name"`
	Millis []float64 `json:"millis"`
}

// Add records a figure and returns s.
func (s *Scenario) Add(name string, v float64, unit string) *Scenario {
	s.Figures = append(s.Figures, Figure{Name: name, Value: v, Unit: unit})
	return s
}

// AddTarget records a figure with a target: at least (min true) or at most
// bound.
func (s *Scenario) AddTarget(name string, v float64, unit string, atLeast bool, bound float64) {
	met := v <= bound
	op := "<="
	if atLeast {
		met, op = v >= bound, ">="
	}
	s.Figures = append(s.Figures, Figure{Name: name, Value: v, Unit: unit,
		Target: fmt.Sprintf("%s %g", op, bound), Met: &met})
}

// Note adds a sentence to the scenario.
func (s *Scenario) Note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

// WriteJSON writes r to path, indented.
func (r *Run) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
