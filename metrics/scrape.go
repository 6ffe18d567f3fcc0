package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Reading a /metrics page (the Prometheus text format) back, for the bench
// and the end-to-end and fault suites: one parser (expfmt's), not one per
// caller.

// ParseFamilies parses a /metrics page into its metric families.
func ParseFamilies(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// Samples are a /metrics page as plain numbers: each sample under its name
// and labels as Prometheus spells them (name{a="x",b="y"}, labels in name
// order), and each name alone summed over its labels. A histogram or a
// summary gives name_count and name_sum (and each bucket as
// name_bucket{le="..."}).
type Samples map[string]float64

// ParseSamples parses a /metrics page into Samples.
func ParseSamples(body []byte) (Samples, error) {
	fams, err := ParseFamilies(body)
	if err != nil {
		return nil, err
	}
	if len(fams) == 0 {
		return nil, errors.New("parse metrics: no metric")
	}
	out := Samples{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			labels := m.GetLabel()
			add := func(name string, v float64, extra ...*dto.LabelPair) {
				out[name] += v
				if len(labels)+len(extra) > 0 {
					out[labelKey(name, append(slices.Clone(labels), extra...))] += v
				}
			}
			switch {
			case m.GetCounter() != nil:
				add(name, m.GetCounter().GetValue())
			case m.GetGauge() != nil:
				add(name, m.GetGauge().GetValue())
			case m.GetUntyped() != nil:
				add(name, m.GetUntyped().GetValue())
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				add(name+"_count", float64(h.GetSampleCount()))
				add(name+"_sum", h.GetSampleSum())
				for _, b := range h.GetBucket() {
					le := strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
					add(name+"_bucket", float64(b.GetCumulativeCount()), &dto.LabelPair{Name: strPtr("le"), Value: &le})
				}
			case m.GetSummary() != nil:
				add(name+"_count", float64(m.GetSummary().GetSampleCount()))
				add(name+"_sum", m.GetSummary().GetSampleSum())
			}
		}
	}
	return out, nil
}

func strPtr(s string) *string { return &s }

// labelKey spells name{a="x",b="y"} with the labels in name order.
func labelKey(name string, labels []*dto.LabelPair) string {
	slices.SortFunc(labels, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(l.GetName())
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(l.GetValue()))
	}
	sb.WriteByte('}')
	return sb.String()
}
