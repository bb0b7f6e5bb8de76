package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/scenarios"
	"lunbench/workload"
)

// subPoint is one sub-phase of a sweep or curve for one target and op.
type subPoint struct {
	phase, label string
	value        float64 // swept value; a curve point's share (0: max run)
	rate         float64 // paced at (0: closed loop)
	iops, mibs   float64
	missed       uint64 // open-loop slots skipped (see workload.Pacer)
	lat          workload.LatencySummary
}

// subGroup is the sub-phases of one sweep or curve, for one target × op.
type subGroup struct {
	parent, key, target string
	op                  workload.Op
	points              []subPoint
}

// subGroups collects the run's sweeps (curve false) or curves (true) per
// parent × target × op, in run order.
func subGroups(r *RunJSON, curve bool) []*subGroup {
	var out []*subGroup
	for _, p := range r.Phases {
		if p.Sub == nil || p.Sub.Key == "precondition" || (p.Sub.Key == "curve") != curve {
			continue
		}
		i := slices.IndexFunc(out, func(g *subGroup) bool {
			return g.parent == p.Sub.Parent && g.target == p.Target && g.op == p.Op
		})
		if i < 0 {
			out = append(out, &subGroup{parent: p.Sub.Parent, key: p.Sub.Key, target: p.Target, op: p.Op})
			i = len(out) - 1
		}
		out[i].points = append(out[i].points, subPoint{phase: p.Phase, label: p.Sub.Label, value: p.Sub.Value,
			rate: p.RateIOPS, iops: p.IOPS, mibs: p.MBps, missed: p.Missed, lat: p.Lat})
	}
	return out
}

// parents lists the distinct parents of groups in order.
func parents(gs []*subGroup) []string {
	var out []string
	for _, g := range gs {
		if !slices.Contains(out, g.parent) {
			out = append(out, g.parent)
		}
	}
	return out
}

// groupName names a group's line in a legend.
func groupName(g *subGroup, multiTarget bool, what string) string {
	if multiTarget {
		return fmt.Sprintf("%s %s %s", g.target, g.op, what)
	}
	return fmt.Sprintf("%s %s", g.op, what)
}

// curveCharts draws each curve's "hockey stick": p50, p99 and p99.9
// latency (log scale) against the IOPS achieved at each point, one set of
// lines per target × op.
func curveCharts(d *runData) []func() *chart {
	gs := subGroups(d.run, true)
	var out []func() *chart
	for _, parent := range parents(gs) {
		out = append(out, func() *chart { return curveChart(d, gs, parent) })
	}
	return out
}

func curveChart(d *runData, gs []*subGroup, parent string) *chart {
	ch := &chart{file: "curve_" + hlogSafe(parent) + ".png", title: d.title("Latency against load, curve " + parent)}
	p := plot.New()
	p.X.Label.Text = "achieved IOPS"
	p.Y.Label.Text = "latency (log scale)"
	p.X.Tick.Marker = thousandsTicks{}
	p.Add(gridLines{})
	multiT := len(d.run.Targets) > 1
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, g := range gs {
		if g.parent != parent {
			continue
		}
		// In load order, the uncapped run last: the line shows what
		// happened as the load rose, even where the target fell short.
		pts := slices.Clone(g.points)
		slices.SortStableFunc(pts, func(a, b subPoint) int { return cmpShare(a.value, b.value) })
		for k, pick := range []struct {
			name   string
			get    func(l workload.LatencySummary) time.Duration
			width  float64
			dashes int
		}{
			{"p50", func(l workload.LatencySummary) time.Duration { return l.P50 }, 1.5, 0},
			{"p99", func(l workload.LatencySummary) time.Duration { return l.P99 }, 3, 0},
			{"p99.9", func(l workload.LatencySummary) time.Duration { return l.P999 }, 2, 1},
		} {
			var xs, ys []float64
			for _, pt := range pts {
				if v := pick.get(pt.lat).Seconds(); v > 0 {
					xs, ys = append(xs, pt.iops), append(ys, v)
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			if len(xs) == 0 {
				continue
			}
			sty := draw.LineStyle{Color: shade(opColor(g.op), 0.3*float64(k)), Width: px(pick.width), Dashes: dashes(pick.dashes)}
			ch.legend = append(ch.legend, addPoints(p, xs, ys, sty, n, groupName(g, multiT, pick.name)))
		}
		n++
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	logY(p, lo, hi*1.5)
	p.X.Min = 0
	ch.panels = []*plot.Plot{p}
	return ch
}

// cmpShare orders curve points by share, the max run (share 0) last.
func cmpShare(a, b float64) int {
	if a == 0 {
		a = math.Inf(1)
	}
	if b == 0 {
		b = math.Inf(1)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// addPoints draws a line with a marker at each point and returns its
// legend entry.
func addPoints(p *plot.Plot, xs, ys []float64, sty draw.LineStyle, n int, name string) legendItem {
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}
	l := &line{xs: xs, ys: ys, style: sty}
	pts := &points{xs: xs, ys: ys, glyph: draw.GlyphStyle{Color: sty.Color, Radius: px(5), Shape: glyphs[n%len(glyphs)]}}
	p.Add(l, pts)
	return legendItem{name, &both{l, pts}}
}

// sweepCharts draws, for each sweep, IOPS and p99 against the swept value.
func sweepCharts(d *runData) []func() *chart {
	gs := subGroups(d.run, false)
	var out []func() *chart
	for _, parent := range parents(gs) {
		out = append(out, func() *chart { return sweepChart(d, gs, parent) })
	}
	return out
}

func sweepChart(d *runData, gs []*subGroup, parent string) *chart {
	ch := &chart{file: "sweep_" + hlogSafe(parent) + ".png"}
	top, bottom := plot.New(), plot.New()
	top.Y.Label.Text, bottom.Y.Label.Text = "IOPS", "p99 latency (log scale)"
	top.Y.Tick.Marker = thousandsTicks{}
	top.Add(gridLines{})
	bottom.Add(gridLines{})
	multiT := len(d.run.Targets) > 1
	lo, hi := math.Inf(1), math.Inf(-1)
	var ticks []plot.Tick
	n := 0
	for _, g := range gs {
		if g.parent != parent {
			continue
		}
		ch.title = d.title(fmt.Sprintf("IOPS and p99 against %s, sweep %s", g.key, parent))
		bottom.X.Label.Text = g.key + " (the values swept, in order)"
		var xs, iops, p99x, p99 []float64
		for i, pt := range g.points {
			if len(ticks) <= i {
				ticks = append(ticks, plot.Tick{Value: float64(i), Label: pt.label})
			}
			xs, iops = append(xs, float64(i)), append(iops, pt.iops)
			if v := pt.lat.P99.Seconds(); v > 0 {
				p99x, p99 = append(p99x, float64(i)), append(p99, v)
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		sty := draw.LineStyle{Color: shade(opColor(g.op), 0.35*float64(n/2)), Width: px(2.5), Dashes: dashes(n / 2)}
		ch.legend = append(ch.legend, addPoints(top, xs, iops, sty, n, groupName(g, multiT, "IOPS")))
		if len(p99) > 0 {
			sty.Dashes = dashes(1)
			ch.legend = append(ch.legend, addPoints(bottom, p99x, p99, sty, n, groupName(g, multiT, "p99")))
		}
		n++
	}
	if n == 0 {
		return nil
	}
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.3, float64(len(ticks))-0.7
	}
	top.Y.Min = 0
	if !math.IsInf(lo, 1) {
		logY(bottom, lo, hi*1.5)
	}
	ch.panels = []*plot.Plot{top, bottom}
	return ch
}

// iopsAtP99 measures iops_at_p99 for one target: the highest IOPS (reads
// and writes together) among the points of the curve (its max run
// included) whose p99 (the worse of the ops') is within the criterion's
// latency. 0 when no point is; not measured when the curve did not run.
func iopsAtP99(c scenarios.Criterion, target string, res *workload.Result) (float64, bool, string) {
	iops := map[string]float64{}
	p99 := map[string]time.Duration{}
	for _, p := range res.Phases {
		if p.Sub != nil && p.Sub.Key == "curve" && p.Sub.Parent == c.Phase && p.Target == target && p.Ops > 0 {
			iops[p.Phase] += p.IOPS
			p99[p.Phase] = max(p99[p.Phase], p.Lat.P99)
		}
	}
	if len(iops) == 0 {
		return 0, false, "curve " + c.Phase + " did not run"
	}
	best := 0.0
	for ph, v := range iops {
		if p99[ph] <= c.Latency {
			best = max(best, v)
		}
	}
	return best, true, ""
}

// docCurve is one point of a curve for one target × op, for the documents.
type docCurve struct{ Curve, Target, Op, Point, Paced, IOPS, Missed, P50, P99, P999 string }

// curveRows lists every curve point of the run.
func curveRows(r *RunJSON) []docCurve {
	var out []docCurve
	for _, g := range subGroups(r, true) {
		for _, pt := range g.points {
			paced := "closed loop"
			if pt.rate > 0 {
				paced = Thousands(pt.rate)
			}
			out = append(out, docCurve{Curve: g.parent, Target: g.target, Op: g.op.String(), Point: pt.label, Paced: paced,
				IOPS: Thousands(pt.iops), Missed: Thousands(float64(pt.missed)), P50: Lat(pt.lat.P50), P99: Lat(pt.lat.P99), P999: Lat(pt.lat.P999)})
		}
	}
	return out
}

// markdownCurves writes the latency-vs-load section, when the run had a curve.
func (o *doc) markdownCurves(b *strings.Builder) {
	if len(o.Curves) == 0 {
		return
	}
	b.WriteString("## Latency against load\n\nEach curve first ran uncapped (`max`), then open loop at each share of that maximum; " +
		"the IOPS an architect can sign off on is read from the criterion `iops_at_p99` (the highest IOPS at a point whose p99 is within its bound), listed under Criteria. Missed slots are paced I/Os the target fell too far behind to issue (their latency is counted as if they had waited).\n\n")
	var rows [][]string
	for _, c := range o.Curves {
		rows = append(rows, []string{c.Curve, c.Target, c.Op, c.Point, c.Paced, c.IOPS, c.Missed, c.P50, c.P99, c.P999})
	}
	mdTable(b, []string{"curve", "target", "op", "point", "paced at (IOPS)", "achieved IOPS", "missed slots", "p50", "p99", "p99.9"}, rows)
}
