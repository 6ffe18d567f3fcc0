package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress is a progress bar on a terminal (a line per 10% otherwise).
// The caller updates it from its own loop; it has no goroutine.
type Progress struct {
	w       io.Writer
	label   string
	total   int64
	tty     bool
	start   time.Time
	last    time.Time
	lastPct int64
	quiet   bool
}

// NewProgress starts a bar for total units on w (nil: quiet).
func NewProgress(w io.Writer, label string, total int64) *Progress {
	p := &Progress{w: w, label: label, total: max(total, 1), start: time.Now(), lastPct: -1, quiet: w == nil}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Set shows done units (redrawn at most 5 times a second).
func (p *Progress) Set(done int64) {
	if p.quiet {
		return
	}
	pct := min(100, done*100/p.total)
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 200*time.Millisecond && done < p.total {
			return
		}
		p.last = now
		const width = 30
		fill := int(pct * width / 100)
		rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r%-22s [%s%s] %3d%% %d/%d %.0f/s ", p.label, strings.Repeat("=", fill),
			strings.Repeat(" ", width-fill), pct, done, p.total, rate)
		return
	}
	if pct/10 != p.lastPct/10 {
		p.lastPct = pct
		fmt.Fprintf(p.w, "%s: %d%% (%d/%d, %.1fs)\n", p.label, pct, done, p.total, now.Sub(p.start).Seconds())
	}
}

// Done ends the bar.
func (p *Progress) Done() {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%-22s done in %.1fs%s\n", p.label, time.Since(p.start).Seconds(), strings.Repeat(" ", 50))
	}
}
