package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/workload"
)

// WriteCharts draws the overlay charts into dir (created if need be) and
// records their file names in c.Charts: per phase, throughput_<phase>.png
// (every run's per-interval MiB/s against the time since the phase
// started, one panel per target) and latency_<phase>.png (every run's
// latency percentiles on the nines axis).
func (c *Comparison) WriteCharts(dir string, opt Options) error {
	opt = opt.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare output: %w", err)
	}
	var charts []func() *chart
	for _, d := range c.data {
		d.opSeries() // made once here: the builders run concurrently
	}
	for _, ph := range c.phaseNames() {
		charts = append(charts, func() *chart { return c.throughputOverlay(ph, opt) }, func() *chart { return c.percentileOverlay(ph) })
	}
	files, err := writeChartFiles(dir, charts, opt)
	if err != nil {
		return err
	}
	c.Charts = c.Charts[:0]
	c.chartFiles = files
	for _, f := range files {
		c.Charts = append(c.Charts, f.File)
	}
	return nil
}

// runStyle tells runs apart within an op's colour: the baseline solid and
// full, later runs lighter and dashed.
func runStyle(op workload.Op, run int) draw.LineStyle {
	return draw.LineStyle{Color: shade(opColor(op), min(0.2*float64(run), 0.6)), Width: px(2.5), Dashes: dashes(run)}
}

// noThumb is a legend entry of text only.
type noThumb struct{}

func (noThumb) Thumbnail(*draw.Canvas) {}

// runLegend names the runs at the top of a legend.
func (c *Comparison) runLegend() []legendItem {
	var out []legendItem
	for _, r := range c.Runs {
		out = append(out, legendItem{r.Label + " = " + filepath.Base(filepath.Clean(r.Dir)), noThumb{}})
	}
	return out
}

func chartName(kind, phase string) string {
	return kind + "_" + regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(phase, "-") + ".png"
}

// phaseStart is when a run's phase began measuring: its results' start,
// else its first interval past the ramp.
func (d *runData) phaseStart(phase string) (time.Time, bool) {
	var t time.Time
	for _, pr := range d.run.Phases {
		if pr.Phase == phase && !pr.Start.IsZero() && (t.IsZero() || pr.Start.Before(t)) {
			t = pr.Start
		}
	}
	if !t.IsZero() {
		return t, true
	}
	for _, r := range d.ivs {
		if r.Phase == phase && !r.Ramp && (t.IsZero() || r.Start.Before(t)) {
			t = r.Start
		}
	}
	return t, !t.IsZero()
}

// throughputOverlay draws, per target of the phase, every run's MiB/s
// over the time since the phase started.
func (c *Comparison) throughputOverlay(phase string, opt Options) *chart {
	targets := c.phaseTargets(phase)
	ch := &chart{file: chartName("throughput", phase), title: "Throughput compared — phase " + phase + ", per interval from the phase's start"}
	ch.legend = c.runLegend()
	envelope := false
	ch.labelW = 260
	for _, tg := range targets {
		p := newPanel("throughput (MiB/s)")
		p.X.Label.Text = "since the phase started (mm:ss)"
		marks := &endLabels{}
		if len(targets) > 1 {
			p.Title.Text = tg
		}
		p.Add(gridLines{})
		end := 0.0
		for i, d := range c.data {
			t0, ok := d.phaseStart(phase)
			if !ok {
				continue
			}
			dp := *d // the same run, timed from the phase's start
			dp.t0 = t0
			keys, rows := d.opSeries()
			for _, k := range keys {
				if k.Target != tg {
					continue
				}
				var rs []*IntervalRow
				for _, r := range rows[k] {
					if r.Phase == phase && !r.Ramp {
						rs = append(rs, r)
					}
				}
				if len(rs) == 0 {
					continue
				}
				xs, ys := dp.timeSeries(rs, func(r *IntervalRow) float64 { return r.MiBs })
				end = max(end, dp.x(rs[len(rs)-1].End))
				s, env := meanOverEnvelope(xs, ys, runStyle(k.Op, i), shade(opColor(k.Op), 0.75), opt)
				if env != nil {
					p.Add(env)
					envelope = true
				}
				p.Add(s)
				if m := c.meanMark(phase, tg, k.Op.String(), "throughput", i, xs, runStyle(k.Op, i)); m != nil {
					p.Add(m)
					marks.addColored(m, c.markLabel(phase, tg, k.Op.String(), "throughput", i), c.markColor(phase, tg, k.Op.String(), "throughput", i))
				}
				// Every panel draws a run × op alike: one legend entry.
				ch.legend = appendLegend(ch.legend, legendItem{c.Runs[i].Label + " " + k.Op.String(), s})
			}
		}
		if end == 0 {
			continue
		}
		p.X.Min, p.X.Max = 0, end
		if end >= 3600 {
			p.X.Label.Text = "since the phase started (h:mm:ss)"
		}
		p.Add(marks)
		p.Y.Min = 0
		p.Y.Max *= 1.05
		ch.panels = append(ch.panels, p)
	}
	if len(ch.panels) == 0 {
		return nil
	}
	if envelope {
		ch.title += " (lines: mean per bucket; light: min/max per interval)"
	}
	ch.oneTimeLabel()
	return ch
}

// phaseTargets lists the targets any run has in the phase.
func (c *Comparison) phaseTargets(phase string) []string {
	var targets []string
	for _, d := range c.data {
		for _, pr := range d.run.Phases {
			if pr.Phase == phase && !slices.Contains(targets, pr.Target) {
				targets = append(targets, pr.Target)
			}
		}
	}
	return targets
}

// appendLegend adds an entry unless one of that name is there.
func appendLegend(l []legendItem, it legendItem) []legendItem {
	for _, x := range l {
		if x.name == it.name {
			return l
		}
	}
	return append(l, it)
}

// percentileOverlay draws every run's latency by percentile for the
// phase, one curve per run × target × op.
func (c *Comparison) percentileOverlay(phase string) *chart {
	ch := &chart{file: chartName("latency", phase), title: "Latency by percentile compared — phase " + phase, labelW: 260}
	ch.legend = c.runLegend()
	p := newNinesPanel()
	labels := &endLabels{}
	targets := c.phaseTargets(phase)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, d := range c.data {
		for _, pr := range d.run.Phases {
			if pr.Phase != phase {
				continue
			}
			qs, vs := d.percentileCurve(pr)
			if len(qs) == 0 {
				continue
			}
			for _, v := range vs {
				lo, hi = min(lo, v), max(hi, v)
			}
			name := c.Runs[i].Label + " " + pr.Op.String()
			if len(targets) > 1 {
				name = c.Runs[i].Label + " " + pr.Target + " " + pr.Op.String()
			}
			it := addNinesCurve(p, qs, vs, runStyle(pr.Op, i), i, name)
			ch.legend = append(ch.legend, it)
			labels.addColored(it.thumb.(*both).l, c.markLabel(phase, pr.Target, pr.Op.String(), "p99", i),
				c.markColor(phase, pr.Target, pr.Op.String(), "p99", i))
		}
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	logY(p, lo, hi*1.3)
	p.Add(labels)
	ch.panels = []*plot.Plot{p}
	return ch
}

// row finds the comparison's figure of a phase × target × op.
func (c *Comparison) row(phase, target, op, metric string) *CompareRow {
	for i := range c.Rows {
		r := &c.Rows[i]
		if r.Phase == phase && r.Target == target && r.Op == op && r.Metric == metric {
			return r
		}
	}
	return nil
}

// meanMark is run i's figure (its phase mean) drawn as a thin dotted
// level line across the phase, or nil when the run has none.
func (c *Comparison) meanMark(phase, target, op, metric string, i int, xs []float64, sty draw.LineStyle) *line {
	r := c.row(phase, target, op, metric)
	if r == nil || i >= len(r.Cells) || r.Cells[i].Missing || len(xs) == 0 {
		return nil
	}
	v := r.Cells[i].Value
	sty.Width, sty.Dashes = px(1.5), []vg.Length{vg.Points(1), vg.Points(3)}
	return &line{xs: []float64{xs[0], xs[len(xs)-1]}, ys: []float64{v, v}, style: sty}
}

// markLabel names run i's figure with its change against the baseline:
// "B read 312 MiB/s −18.2% REGRESSION".
func (c *Comparison) markLabel(phase, target, op, metric string, i int) string {
	name := c.Runs[i].Label + " " + op
	if len(c.phaseTargets(phase)) > 1 {
		name = c.Runs[i].Label + " " + target + " " + op
	}
	r := c.row(phase, target, op, metric)
	if r == nil || i >= len(r.Cells) {
		return name
	}
	name += " " + metric + " " + r.formatValue(r.Cells[i])
	if i > 0 {
		ch, mark := r.formatChange(r.Cells[i], r.Cells[0])
		name += " " + strings.Replace(ch, "-", "−", 1)
		if mark != "" {
			name += " " + mark
		}
	}
	return name
}

// markColor is red for a regression, nil (the line's colour) otherwise.
func (c *Comparison) markColor(phase, target, op, metric string, i int) color.Color {
	if r := c.row(phase, target, op, metric); r != nil && i < len(r.Cells) && r.Cells[i].Regression {
		return color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	}
	return nil
}

// bucketMeans averages a series over n equal stretches of x, skipping
// gaps (NaN); a stretch with no value is a gap in the result.
func bucketMeans(xs, ys []float64, n int) (mx, my []float64) {
	if len(xs) == 0 || n <= 0 {
		return nil, nil
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	width := (x1 - x0) / float64(n)
	if width <= 0 {
		return append([]float64(nil), xs...), append([]float64(nil), ys...)
	}
	sum, cnt := make([]float64, n), make([]int, n)
	for i, x := range xs {
		if math.IsNaN(ys[i]) {
			continue
		}
		b := min(int((x-x0)/width), n-1)
		sum[b] += ys[i]
		cnt[b]++
	}
	for b := range n {
		mx = append(mx, x0+(float64(b)+0.5)*width)
		if cnt[b] == 0 {
			my = append(my, math.NaN())
			continue
		}
		my = append(my, sum[b]/float64(cnt[b]))
	}
	return mx, my
}
