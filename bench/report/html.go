package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

type htmlPlot struct {
	Title string
	SVG   template.HTML
}

type htmlScenario struct {
	*Scenario
	Plots []htmlPlot
}

// WriteHTML writes one self-contained page: the summary table and the plots
// of every scenario as inline SVG.
func (r *Run) WriteHTML(path string) error {
	var scs []htmlScenario
	for _, s := range r.Scenarios {
		hs := htmlScenario{Scenario: s}
		groups := map[string][]Series{}
		var order []string
		for _, se := range s.Series {
			if _, ok := groups[se.Group]; !ok {
				order = append(order, se.Group)
			}
			groups[se.Group] = append(groups[se.Group], se)
		}
		for _, g := range order {
			p, err := seriesPlot(g, groups[g])
			if err != nil {
				return err
			}
			hs.Plots = append(hs.Plots, p)
		}
		if len(s.Latencies) > 0 {
			p, err := cdfPlot(s.Name+": latency CDF", s.Latencies)
			if err != nil {
				return err
			}
			hs.Plots = append(hs.Plots, p)
		}
		for _, h := range s.Histograms {
			p, err := histPlot(s.Name+": "+h.Name, h)
			if err != nil {
				return err
			}
			hs.Plots = append(hs.Plots, p)
		}
		scs = append(scs, hs)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, struct {
		*Run
		Scenarios []htmlScenario
	}{r, scs}); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func svg(p *plot.Plot, title string) (htmlPlot, error) {
	c := vgsvg.New(7*vg.Inch, 3.2*vg.Inch)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return htmlPlot{}, fmt.Errorf("plot %s: %w", title, err)
	}
	return htmlPlot{Title: title, SVG: template.HTML(buf.String())}, nil // our own SVG
}

func seriesPlot(group string, ss []Series) (htmlPlot, error) {
	p := plot.New()
	p.Title.Text = group
	p.X.Label.Text = "seconds"
	if len(ss) > 0 {
		p.Y.Label.Text = ss[0].Unit
	}
	p.Add(plotter.NewGrid())
	for i, s := range ss {
		pts := make(plotter.XYs, len(s.T))
		for j := range s.T {
			pts[j].X, pts[j].Y = s.T[j], s.V[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return htmlPlot{}, fmt.Errorf("plot %s: %w", s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	p.Legend.Top = true
	return svg(p, group)
}

func cdfPlot(title string, ls []Samples) (htmlPlot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "milliseconds"
	p.Y.Label.Text = "fraction"
	p.Add(plotter.NewGrid())
	for i, l := range ls {
		if len(l.Millis) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(l.Millis))
		for j, v := range l.Millis {
			pts[j].X, pts[j].Y = v, float64(j+1)/float64(len(l.Millis))
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return htmlPlot{}, fmt.Errorf("plot %s: %w", l.Name, err)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(l.Name, line)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	return svg(p, title)
}

func histPlot(title string, s Samples) (htmlPlot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "milliseconds"
	p.Y.Label.Text = "requests (share of samples)"
	if len(s.Millis) == 0 {
		return svg(p, title)
	}
	vals := make(plotter.Values, len(s.Millis))
	copy(vals, s.Millis)
	h, err := plotter.NewHist(vals, 50)
	if err != nil {
		return htmlPlot{}, fmt.Errorf("plot %s: %w", title, err)
	}
	h.FillColor = color.RGBA{R: 70, G: 120, B: 200, A: 255}
	p.Add(h)
	return svg(p, title)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{"deref": func(b *bool) bool { return *b }}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>feedbench {{.Target}} {{.Started.Format "2006-01-02 15:04"}}</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
.num td,.num th{text-align:right}.met{color:#070}.missed{color:#b00}.note{color:#555}</style></head><body>
<h1>feedbench: {{.Target}}</h1>
<p>{{.Started.Format "2006-01-02 15:04:05 MST"}}, {{printf "%.0f" .Seconds}} s. <code>{{.Command}}</code></p>
<p>{{.Machine.CPUs}} CPUs ({{.Machine.CPUModel}}), {{.Machine.MemBytes}} bytes of memory, {{.Machine.GoVersion}}, {{.Machine.Kernel}},
commit {{.Machine.Commit}}{{if .Machine.Dirty}} (with uncommitted changes){{end}}.</p>
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
{{range .Scenarios}}<h2>{{.Name}}</h2>
<p>{{printf "%.0f" .Seconds}} s; load average {{index .LoadAvg 0}} at start, {{index .LoadAvg 1}} at end.</p>
{{if .Err}}<p class="missed">FAILED: {{.Err}}</p>{{end}}
<table><tr><th>figure</th><th>value</th><th>unit</th><th>target</th></tr>
{{range .Figures}}<tr><td>{{.Name}}</td><td>{{printf "%.6g" .Value}}</td><td>{{.Unit}}</td>
<td>{{if .Met}}{{if deref .Met}}<span class="met">{{.Target}}: met</span>{{else}}<span class="missed">{{.Target}}: missed</span>{{end}}{{end}}</td></tr>
{{end}}</table>
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
{{range .Plots}}<div>{{.SVG}}</div>{{end}}
{{range .Tables}}<h3>{{.Name}}</h3>
<table class="num"><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{end}}</body></html>
`))
