package report

import (
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/workload"
)

// deviceChart draws %util, the queue (aqu-sz and requests in flight) and
// await of the LUN (or file system) devices from diskstats.csv in three
// panels. In flight is charted because aqu-sz and await fall to 0 during a
// stall (nothing completes, so nothing is accounted), which alone reads as
// an idle disk. A file target's filesystem device is shared with the rest
// of the host, and its panel says so.
func deviceChart(d *runData, opt Options) *chart {
	keys, rows := groupBy(d.disk, func(r *diskRow) ([2]uint32, bool) { return [2]uint32{r.Target, r.Device}, !r.Path })
	if len(keys) == 0 {
		return nil
	}
	nm := d.diskNames
	sort.Slice(keys, func(i, j int) bool { return nm[keys[i][0]]+nm[keys[i][1]] < nm[keys[j][0]]+nm[keys[j][1]] })
	ch := &chart{file: "device.png", title: d.title("Device statistics (diskstats)")}
	util, aqu, await := newPanel("%util"), newPanel("requests (aqu-sz, in flight)"), newPanel("await (ms)")
	var utilData, aquData, awaitData []plot.Plotter
	var shared []string
	var envelopes []plot.Plotter // made by mk, not yet added
	enveloped := false
	// withEnvelope is a line with the envelope mk made for it, under it.
	withEnvelope := func(s *line) []plot.Plotter {
		out := append(envelopes, s)
		enveloped = enveloped || len(envelopes) > 0
		envelopes = nil
		return out
	}
	util.X.Label.Text, aqu.X.Label.Text = "", ""
	for i, k := range keys {
		rs := rows[k]
		if less := func(a, b int) bool { return rs[a].UnixNano < rs[b].UnixNano }; !sort.SliceIsSorted(rs, less) {
			sort.SliceStable(rs, less)
		}
		dev := nm[k[1]]
		if len(keys) > 1 {
			dev = nm[k[1]] + " (" + d.targetName(nm[k[0]]) + ")"
		}
		grey := color.RGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}
		dash := dashes(i)
		// A long run is drawn as bucket means over a light min/max
		// envelope, as throughput is: %util sampled every second for a
		// day is otherwise a solid band.
		mk := func(get func(*diskRow) float64, c color.RGBA) *line {
			var xs, ys []float64
			last := math.Inf(-1)
			for _, r := range rs {
				x := d.x(r.time()) - r.Interval/2 // the middle of what the rates cover
				if x-last > 2.5*d.step() && !math.IsInf(last, -1) {
					xs, ys = append(xs, (x+last)/2), append(ys, math.NaN())
				}
				xs, ys = append(xs, x), append(ys, get(r))
				last = x
			}
			s, env := meanOverEnvelope(xs, ys, draw.LineStyle{Color: c, Width: px(2), Dashes: dash}, shade(c, 0.75), opt)
			if env != nil {
				envelopes = append(envelopes, env)
			}
			return s
		}
		u := mk(func(r *diskRow) float64 { return r.Util }, grey)
		utilData = append(utilData, withEnvelope(u)...)
		q := mk(func(r *diskRow) float64 { return r.AquSz }, shade(grey, 0.3))
		aquData = append(aquData, withEnvelope(q)...)
		inf := mk(func(r *diskRow) float64 { return r.InFlight }, inFlightColor())
		inf.style.Width = px(1.5)
		aquData = append(aquData, withEnvelope(inf)...)
		if rs[0].FS {
			shared = append(shared, nm[k[1]])
		}
		ra := mk(func(r *diskRow) float64 { return r.RAwait }, opColor(workload.Read))
		awaitData = append(awaitData, withEnvelope(ra)...)
		wa := mk(func(r *diskRow) float64 { return r.WAwait }, opColor(workload.Write))
		awaitData = append(awaitData, withEnvelope(wa)...)
		ch.legend = append(ch.legend, legendItem{dev + " %util", u}, legendItem{dev + " aqu-sz", q},
			legendItem{dev + " in flight", inf},
			legendItem{dev + " r_await", ra}, legendItem{dev + " w_await", wa})
	}
	if len(shared) > 0 {
		util.Title.Text = "filesystem device " + strings.Join(shared, ", ") + ": shared; other processes' I/O included"
		util.Title.TextStyle.Font.Size = vg.Points(11)
		util.Title.TextStyle.Color = color.RGBA{R: 0xa0, G: 0x40, B: 0x00, A: 0xff}
	}
	d.decorate(util, &ch.legend, true, utilData...)
	d.decorate(aqu, nil, false, aquData...)
	d.decorate(await, nil, false, awaitData...)
	util.Y.Min, util.Y.Max = 0, 104
	aqu.Y.Min, await.Y.Min = 0, 0
	aqu.Y.Max *= 1.08
	await.Y.Max *= 1.08
	ch.panels = []*plot.Plot{util, aqu, await}
	if enveloped {
		ch.title += " (lines: mean per bucket; light: min/max)"
	}
	return ch
}

// inFlightColor draws requests in flight: a teal apart from the greys of
// %util and aqu-sz and from the ops' blue and orange.
func inFlightColor() color.RGBA { return color.RGBA{R: 0x00, G: 0x89, B: 0x7b, A: 0xff} }
