package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/workload"
)

// steadyCharts draws, per phase with until_steady:, the metric of each
// round, the last window's average with the ±max_excursion/2 band around
// it, and the window's fitted line.
func steadyCharts(d *runData) []func() *chart {
	var out []func() *chart
	for _, s := range d.run.Steady {
		out = append(out, func() *chart { return steadyChart(d, s) })
	}
	return out
}

func steadyChart(d *runData, s workload.SteadyResult) *chart {
	if len(s.Rounds) == 0 {
		return nil
	}
	verdict := "steady"
	if !s.Steady {
		verdict = "NOT steady (timeout)"
	}
	ch := &chart{file: "steady_" + hlogSafe(s.Phase) + ".png",
		title: d.title(fmt.Sprintf("Steady state of %s: %s after %d rounds of %gs", s.Phase, verdict, len(s.Rounds), s.RoundSec))}
	p := plot.New()
	p.X.Label.Text = "round"
	p.Y.Label.Text = steadyUnit(s.Metric)
	p.Y.Tick.Marker = thousandsTicks{}
	p.Add(gridLines{})
	scale := 1.0
	if s.Metric == "throughput" {
		scale = 1.0 / (1 << 20)
	}
	var xs, ys []float64
	for i, v := range s.Rounds {
		xs, ys = append(xs, float64(i+1)), append(ys, v*scale)
	}
	op := opColor(workload.Write)
	ch.legend = append(ch.legend, addPoints(p, xs, ys, draw.LineStyle{Color: op, Width: px(2.5)}, 0, s.Metric+" per round"))
	if len(s.Rounds) >= s.Window && s.Avg > 0 {
		x0, x1 := float64(len(s.Rounds)-s.Window+1), float64(len(s.Rounds))
		avg := s.Avg * scale
		flat := func(y float64, c color.Color, w float64, dash int, name string) {
			l := &line{xs: []float64{x0, x1}, ys: []float64{y, y}, style: draw.LineStyle{Color: c, Width: px(w), Dashes: dashes(dash)}}
			p.Add(l)
			if name != "" {
				ch.legend = append(ch.legend, legendItem{name, l})
			}
		}
		grey := color.RGBA{R: 0x60, G: 0x60, B: 0x60, A: 0xff}
		flat(avg, grey, 2, 0, fmt.Sprintf("window average %s", Thousands(avg)))
		half := s.MaxExcursion / 2
		flat(avg*(1+half), grey, 1.5, 1, fmt.Sprintf("±%g%% band (excursion ≤ %g%%)", half*100, s.MaxExcursion*100))
		flat(avg*(1-half), grey, 1.5, 1, "")
		// The fitted line: Slope is its change across the window.
		fit := &line{xs: []float64{x0, x1}, ys: []float64{avg * (1 - s.Slope/2), avg * (1 + s.Slope/2)},
			style: draw.LineStyle{Color: drillColor(), Width: px(2)}}
		p.Add(fit)
		ch.legend = append(ch.legend, legendItem{fmt.Sprintf("slope %+.1f%% (limit ±%g%%)", s.Slope*100, s.MaxSlope*100), fit})
	}
	p.X.Min, p.X.Max = 0.5, float64(len(s.Rounds))+0.5
	var ticks []plot.Tick
	step := max(1, len(s.Rounds)/20)
	for i := 1; i <= len(s.Rounds); i += step {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprint(i)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 0) * 1.1
	ch.panels = []*plot.Plot{p}
	return ch
}

func steadyUnit(metric string) string {
	if metric == "throughput" {
		return "MiB/s"
	}
	return "IOPS"
}

// docSteady is one phase's steady-state verdict for the documents.
type docSteady struct {
	Phase, Metric, Result, Window, Avg, Excursion, Slope string
	OK                                                   bool
}

// steadyRows lists how each phase with until_steady: ended.
func steadyRows(r *RunJSON) []docSteady {
	var out []docSteady
	for _, s := range r.Steady {
		res := fmt.Sprintf("steady after %d rounds", len(s.Rounds))
		if !s.Steady {
			res = fmt.Sprintf("not steady: ran %d rounds to its timeout", len(s.Rounds))
		}
		avg := Thousands(s.Avg) + " IOPS"
		if s.Metric == "throughput" {
			avg = fmt.Sprintf("%.1f MiB/s", s.Avg/(1<<20))
		}
		out = append(out, docSteady{Phase: s.Phase, Metric: s.Metric, Result: res, OK: s.Steady,
			Window: fmt.Sprintf("%d × %gs", s.Window, s.RoundSec), Avg: avg,
			Excursion: fmt.Sprintf("%.1f%% (≤ %g%%)", s.Excursion*100, s.MaxExcursion*100),
			Slope:     fmt.Sprintf("%+.1f%% (within ±%g%%)", s.Slope*100, s.MaxSlope*100)})
	}
	return out
}

// markdownSteady writes the steady-state section, when the run had one.
func (o *doc) markdownSteady(b *strings.Builder) {
	if len(o.Steady) == 0 {
		return
	}
	b.WriteString("## Steady state\n\nSNIA's rule over the last window of rounds: max − min of the metric within max_excursion of the window's average, and the fitted line's change across the window within max_slope.\n\n")
	var rows [][]string
	for _, s := range o.Steady {
		rows = append(rows, []string{s.Phase, s.Metric, s.Result, s.Window, s.Avg, s.Excursion, s.Slope})
	}
	mdTable(b, []string{"phase", "metric", "result", "window", "average", "excursion", "slope"}, rows)
}
