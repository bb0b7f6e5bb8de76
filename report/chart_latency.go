package report

import (
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/workload"
)

// latencyChart is the per-interval p50, p99, p99.9 and max on a log axis,
// one panel per op (reads above writes). Within a panel each percentile
// has a colour of its own, far apart in hue (shades of the op's colour
// made p99 and p99.9 hard to tell apart), and its name is written at the
// line's right end, so the eye need not go to the legend.
func latencyChart(d *runData, opt Options) *chart {
	keys, rows := d.opSeries()
	if len(keys) == 0 {
		return nil
	}
	ch := &chart{file: "latency.png", title: d.title("Latency per interval"), labelW: 90}
	tix := targetIndex(d)
	multi := len(tix) > 1
	var ops []workload.Op
	for _, k := range keys {
		if !slices.Contains(ops, k.Op) {
			ops = append(ops, k.Op)
		}
	}
	slices.Sort(ops)
	lo, hi := math.Inf(1), math.Inf(-1)
	panels := map[workload.Op]*plot.Plot{}
	data := map[workload.Op][]plot.Plotter{}
	labels := map[workload.Op]*endLabels{}
	for _, op := range ops {
		panels[op] = newPanel(op.String() + " latency (log scale)")
		labels[op] = &endLabels{}
	}
	for _, k := range keys {
		for _, pc := range latencyPercentiles() {
			xs, ys := d.timeSeries(rows[k], func(r *IntervalRow) float64 {
				v := pc.get(r) / 1e6 // seconds
				if v <= 0 {
					return math.NaN() // no completions: nothing to put on a log axis
				}
				lo, hi = min(lo, v), max(hi, v)
				return v
			})
			dash := pc.dash
			if dash == nil {
				dash = dashes(tix[k.Target])
			}
			s, env := meanOverEnvelope(xs, ys, draw.LineStyle{Color: pc.color, Width: px(pc.width), Dashes: dash}, shade(pc.color, 0.8), opt)
			if env != nil {
				data[k.Op] = append(data[k.Op], env)
			}
			data[k.Op] = append(data[k.Op], s)
			name := pc.name
			if multi {
				name = k.Target + " " + name
			}
			labels[k.Op].add(s, name)
			if k.Op == ops[0] {
				ch.legend = append(ch.legend, legendItem{name, s})
			}
		}
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	for i, op := range ops {
		p := panels[op]
		var leg *[]legendItem
		if i == 0 {
			leg = &ch.legend
		}
		d.decorate(p, leg, i == 0, append(data[op], labels[op])...)
		logY(p, lo, hi*1.3)
		ch.panels = append(ch.panels, p)
	}
	ch.oneTimeLabel()
	return ch
}

// latencyPercentile is one line of the latency chart.
type latencyPercentile struct {
	name  string
	get   func(*IntervalRow) float64
	color color.RGBA
	width float64
	dash  []vg.Length
}

// latencyPercentiles are the latency chart's lines, from the maximum down:
// dark red dotted, purple, green and near-black, none of them the ops'
// blue and orange.
func latencyPercentiles() []latencyPercentile {
	return []latencyPercentile{
		{"max", func(r *IntervalRow) float64 { return r.MaxUs }, color.RGBA{R: 0xa0, G: 0x1c, B: 0x1c, A: 0xff}, 1.5, []vg.Length{vg.Points(2), vg.Points(2)}},
		{"p99.9", func(r *IntervalRow) float64 { return r.P999Us }, color.RGBA{R: 0x94, G: 0x46, B: 0xc8, A: 0xff}, 1.8, nil},
		{"p99", func(r *IntervalRow) float64 { return r.P99Us }, color.RGBA{R: 0x1a, G: 0x9e, B: 0x4a, A: 0xff}, 2, nil},
		{"p50", func(r *IntervalRow) float64 { return r.P50Us }, color.RGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xff}, 2.5, nil},
	}
}

// endLabels writes each line's name at its last point, in its colour, just
// right of the panel (in the chart's labelW margin); names closer than a line height are pushed
// apart.
type endLabels struct {
	lines  []*line
	names  []string
	colors []color.Color // nil: the line's colour
}

func (e *endLabels) add(l *line, name string) { e.addColored(l, name, nil) }

// addColored labels l in c (a regression's red) rather than its colour.
func (e *endLabels) addColored(l *line, name string, c color.Color) {
	e.lines, e.names, e.colors = append(e.lines, l), append(e.names, name), append(e.colors, c)
}

func (e *endLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	_, ty := plt.Transforms(&c)
	type lab struct {
		y    vg.Length
		name string
		col  color.Color
	}
	var ls []lab
	for i, l := range e.lines {
		for j := len(l.ys) - 1; j >= 0; j-- {
			if y := l.ys[j]; !math.IsNaN(y) && y > 0 {
				col := l.style.Color
				if e.colors[i] != nil {
					col = e.colors[i]
				}
				ls = append(ls, lab{ty(y), e.names[i], col})
				break
			}
		}
	}
	slices.SortFunc(ls, func(a, b lab) int {
		if a.y < b.y {
			return -1
		}
		if a.y > b.y {
			return 1
		}
		return 0
	})
	gap := px(14)
	for i := range ls {
		ls[i].y = max(ls[i].y, c.Min.Y+gap/2)
		if i > 0 && ls[i].y < ls[i-1].y+gap {
			ls[i].y = ls[i-1].y + gap
		}
	}
	for _, l := range ls {
		sty := draw.TextStyle{Color: l.col, Font: font.From(plot.DefaultFont, vg.Points(10)),
			Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YCenter}
		c.FillText(sty, vg.Point{X: c.Max.X + px(4), Y: min(l.y, c.Max.Y)}, l.name)
	}
}
