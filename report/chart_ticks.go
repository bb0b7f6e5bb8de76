package report

import (
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
)

// The grid and the axes' tick markers: round numbers, clock time, latency
// decades and the nines.

// gridLines draws a light grid at the major ticks.
type gridLines struct{}

func (gridLines) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, ty := plt.Transforms(&c)
	ls := draw.LineStyle{Color: color.RGBA{R: 0xd8, G: 0xd8, B: 0xd8, A: 0xff}, Width: px(1)}
	for _, t := range plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max) {
		if !t.IsMinor() {
			if x := tx(t.Value); x >= c.Min.X && x <= c.Max.X {
				c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
			}
		}
	}
	for _, t := range plt.Y.Tick.Marker.Ticks(plt.Y.Min, plt.Y.Max) {
		if !t.IsMinor() {
			if y := ty(t.Value); y >= c.Min.Y && y <= c.Max.Y {
				c.StrokeLine2(ls, c.Min.X, y, c.Max.X, y)
			}
		}
	}
}

// clockTicks labels seconds as mm:ss (h:mm:ss past an hour) at round steps.
type clockTicks struct{}

func (clockTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		step = s
		if span/s <= 12 {
			break
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
		out = append(out, plot.Tick{Value: v, Label: Clock(time.Duration(v * float64(time.Second)))})
	}
	return out
}

// thousandsTicks puts six to ten labelled ticks at round values, with
// thousands separators.
type thousandsTicks struct{}

func (thousandsTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: Thousands(lo)}}
	}
	step := niceStep(hi - lo)
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		label := Thousands(v)
		if step != math.Trunc(step) {
			label = trimFloat(v, 3)
		}
		out = append(out, plot.Tick{Value: v, Label: label})
		if minor := v + step/2; minor < hi {
			out = append(out, plot.Tick{Value: minor})
		}
	}
	return out
}

// niceStep is a tick step of 1, 2 or 5 times a power of ten (or 25 times
// one, as in 0, 25, 50, 75) that cuts span into at most eight, so every
// label is exact: a step of 2.5 rounded to whole numbers read 0, 3, 5, 8.
func niceStep(span float64) float64 {
	raw := span / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m == 2.5 && mag < 10 {
			continue
		}
		if mag*m >= raw*(1-1e-9) {
			return mag * m
		}
	}
	return mag * 10
}

// latencyTicks labels a log axis of seconds in µs, ms and s.
type latencyTicks struct{}

func (latencyTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 {
		lo = 1e-7
	}
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := base * m
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = Lat(time.Duration(math.Round(v * 1e9)))
			}
			out = append(out, t)
		}
	}
	return out
}

// ninesTicks labels the nines axis with percentiles.
type ninesTicks struct{}

func (ninesTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, q := range []float64{50, 90, 99, 99.9, 99.99} {
		if x := nines(q); x >= lo-1e-9 && x <= hi+1e-9 {
			out = append(out, plot.Tick{Value: x, Label: strconv.FormatFloat(q, 'f', -1, 64) + "%"})
		}
	}
	if maxX <= hi+1e-9 {
		out = append(out, plot.Tick{Value: maxX, Label: "max"})
	}
	for _, q := range []float64{75, 95, 99.5, 99.95} {
		if x := nines(q); x >= lo && x <= hi {
			out = append(out, plot.Tick{Value: x})
		}
	}
	return out
}
