package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the plain-text summary table.
func (r *Run) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "feedbench %s on %s: %d CPUs (%s), %.1f GiB, %s, commit %.12s\n",
		r.Target, r.Machine.Hostname, r.Machine.CPUs, r.Machine.CPUModel,
		float64(r.Machine.MemBytes)/(1<<30), r.Machine.GoVersion, r.Machine.Commit)
	for _, s := range r.Scenarios {
		fmt.Fprintf(w, "\n== %s (%.0fs, load average %s -> %s)\n", s.Name, s.Seconds, s.LoadAvg[0], s.LoadAvg[1])
		if s.Err != "" {
			fmt.Fprintf(w, "   FAILED: %s\n", s.Err)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range s.Figures {
			verdict := ""
			if f.Met != nil {
				verdict = "target " + f.Target + ": missed"
				if *f.Met {
					verdict = "target " + f.Target + ": met"
				}
			}
			fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", f.Name, FormatValue(f.Value), f.Unit, verdict)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(w, "   note: %s\n", n)
		}
		for _, t := range s.Tables {
			fmt.Fprintf(w, "\n   %s\n", t.Name)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "   %s\t\n", strings.Join(t.Columns, "\t"))
			for _, r := range t.Rows {
				fmt.Fprintf(tw, "   %s\t\n", strings.Join(r, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write summary: %w", err)
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", n)
	}
	_, err := io.WriteString(w, strings.Repeat("", 0))
	return err
}

// FormatValue prints a figure compactly.
func FormatValue(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
