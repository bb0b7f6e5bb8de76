package report

import (
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The plotters the charts are drawn with: lines reduced to what a pixel
// column can show, glyphs, phase bands and their names, stall spans, drill
// lines, stacked layers.

// minMaxIndex picks which points of a series to draw: all of them when
// there are few, else per time bucket the first point, the minimum and the
// maximum, so peaks and drops to zero survive. A NaN (a gap) is always
// kept, so a gap is never bridged.
func minMaxIndex(xs, ys []float64, buckets int) []int {
	if buckets <= 0 || len(xs) <= 3*buckets {
		idx := make([]int, len(xs))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	width := (x1 - x0) / float64(buckets)
	if width <= 0 {
		width = 1
	}
	out := make([]int, 0, 3*buckets+8)
	cur, lo, hi, first := -1, -1, -1, -1
	flush := func() {
		if first < 0 {
			return
		}
		idx := []int{first, lo, hi}
		sort.Ints(idx)
		for i, v := range idx {
			if i == 0 || v != idx[i-1] {
				out = append(out, v)
			}
		}
		first, lo, hi = -1, -1, -1
	}
	for i := range xs {
		if math.IsNaN(ys[i]) {
			flush()
			out = append(out, i)
			continue
		}
		b := int((xs[i] - x0) / width)
		if b != cur {
			flush()
			cur = b
		}
		if first < 0 {
			first, lo, hi = i, i, i
			continue
		}
		if ys[i] < ys[lo] {
			lo = i
		}
		if ys[i] > ys[hi] {
			hi = i
		}
	}
	flush()
	return out
}

// line is a series drawn as a polyline that breaks at NaN, reduced to
// min/max buckets when long.
type line struct {
	xs, ys  []float64
	buckets int
	style   draw.LineStyle
}

func (l *line) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, ty := plt.Transforms(&c)
	var segs [][]vg.Point
	var cur []vg.Point
	for _, i := range minMaxIndex(l.xs, l.ys, l.buckets) {
		if math.IsNaN(l.ys[i]) || math.IsInf(l.ys[i], 0) {
			if len(cur) > 0 {
				segs = append(segs, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, vg.Point{X: tx(l.xs[i]), Y: ty(l.ys[i])})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	for _, s := range segs {
		if len(s) == 1 { // a lone point between gaps: draw a dot
			c.DrawGlyph(draw.GlyphStyle{Color: l.style.Color, Radius: l.style.Width, Shape: draw.CircleGlyph{}}, s[0])
		}
	}
	c.StrokeLines(l.style, chunks(c.ClipLinesXY(segs...))...)
}

// chunks splits polylines into pieces of at most 64 points (each sharing
// its first point with the last of the one before): the rasterizer slows
// down steeply on one long, dense path.
func chunks(lines [][]vg.Point) [][]vg.Point {
	const n = 64
	var out [][]vg.Point
	for _, l := range lines {
		for len(l) > n {
			out = append(out, l[:n])
			l = l[n-1:]
		}
		out = append(out, l)
	}
	return out
}

func (l *line) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i, x := range l.xs {
		xmin, xmax = min(xmin, x), max(xmax, x)
		if y := l.ys[i]; !math.IsNaN(y) && !math.IsInf(y, 0) {
			ymin, ymax = min(ymin, y), max(ymax, y)
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
	}
	if math.IsInf(xmin, 1) {
		xmin, xmax = 0, 1
	}
	return xmin, xmax, ymin, ymax
}

func (l *line) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// points draws glyphs.
type points struct {
	xs, ys []float64
	glyph  draw.GlyphStyle
}

func (p *points) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, ty := plt.Transforms(&c)
	for i := range p.xs {
		pt := vg.Point{X: tx(p.xs[i]), Y: ty(p.ys[i])}
		if c.Contains(pt) {
			c.DrawGlyph(p.glyph, pt)
		}
	}
}

func (p *points) Thumbnail(c *draw.Canvas) { c.DrawGlyph(p.glyph, c.Center()) }

// both is a legend thumbnail of a line with its marker.
type both struct {
	l *line
	p *points
}

func (b *both) Thumbnail(c *draw.Canvas) { b.l.Thumbnail(c); b.p.Thumbnail(c) }

// bands shades the phases in alternating greys or, with labels, writes
// their names at the top.
type bands struct {
	spans  []span
	labels bool
}

func (b *bands) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, _ := plt.Transforms(&c)
	if b.labels {
		b.drawLabels(c, tx)
		return
	}
	for i, s := range b.spans {
		x0, x1 := max(tx(s.X0), c.Min.X), min(tx(s.X1), c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(bandColor(i), rect(x0, c.Min.Y, x1, c.Max.Y))
		c.StrokeLine2(draw.LineStyle{Color: color.RGBA{R: 0xbb, G: 0xbb, B: 0xbb, A: 0xff}, Width: px(1)}, x0, c.Min.Y, x0, c.Max.Y)
	}
}

// labelRows is how many rows of phase names the band above a panel holds.
const labelRows = 2

// drawLabels writes the phase names in the band above the data area that
// reserveLabelBand keeps free, so no data line strikes them through: each
// in the first row where it does not run into the name before it,
// shortened with … at the right edge.
func (b *bands) drawLabels(c draw.Canvas, tx func(float64) vg.Length) {
	sty := draw.TextStyle{Color: color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}, Font: font.From(plot.DefaultFont, vg.Points(10)),
		Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YBottom}
	var end [labelRows]vg.Length
	for i := range end {
		end[i] = c.Min.X - 1
	}
	for _, s := range b.spans {
		x0, x1 := max(tx(s.X0), c.Min.X), min(tx(s.X1), c.Max.X)
		if x1 <= x0 {
			continue
		}
		x := x0 + px(3)
		row := slices.IndexFunc(end[:], func(e vg.Length) bool { return e < x })
		if row < 0 { // three names within a few pixels: the third goes unlabelled
			continue
		}
		label := s.Label
		for label != "" && sty.Width(label) > c.Max.X-x {
			r := []rune(strings.TrimSuffix(label, "…"))
			if len(r) <= 1 {
				label = ""
				break
			}
			label = string(r[:len(r)-1]) + "…"
		}
		if label == "" {
			continue
		}
		y := c.Max.Y + px(3) + vg.Length(row)*px(15)
		c.FillText(sty, vg.Point{X: x, Y: y}, label)
		end[row] = x + sty.Width(label) + px(8)
	}
}

// reserveLabelBand makes room above a panel's data area for the phase
// names (two rows), under its title if it has one.
func reserveLabelBand(p *plot.Plot) {
	if p.Title.Text == "" {
		p.Title.Text = " \n "
	} else {
		p.Title.Text += "\n \n "
	}
	p.Title.Padding = px(2)
}

func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// stallSpans marks stalls as red spans at least a few pixels wide, so a
// short stall in a long run still shows.
type stallSpans struct{ spans []span }

func (s *stallSpans) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, _ := plt.Transforms(&c)
	for _, sp := range s.spans {
		x0, x1 := tx(sp.X0), tx(sp.X1)
		if x1-x0 < px(4) {
			mid := (x0 + x1) / 2
			x0, x1 = mid-px(2), mid+px(2)
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 > x0 {
			c.FillPolygon(stallColor(), rect(x0, c.Min.Y, x1, c.Max.Y))
		}
	}
}

func (s *stallSpans) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(stallColor(), rect(c.Min.X, c.Min.Y, c.Max.X, c.Max.Y))
}

// vlines draws labelled vertical lines (drill events).
type vlines struct {
	marks  []mark
	labels bool
}

func (v *vlines) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, _ := plt.Transforms(&c)
	ls := draw.LineStyle{Color: drillColor(), Width: px(2), Dashes: []vg.Length{px(8), px(4)}}
	sty := draw.TextStyle{Color: drillColor(), Font: font.From(plot.DefaultFont, vg.Points(10)),
		Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
	for i, m := range v.marks {
		x := tx(m.X)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		if v.labels {
			y := c.Max.Y - px(40) - vg.Length(i%4)*px(16)
			w := sty.Width(m.Label)
			lx := x + px(4)
			if lx+w > c.Max.X { // keep the label inside: put it left of the line
				lx = x - px(4) - w
			}
			// A light box under the label: a data line crossing it no
			// longer strikes the text through.
			h := sty.Height(m.Label)
			c.FillPolygon(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xd8}, rect(lx-px(2), y-h-px(1), lx+w+px(2), y+px(1)))
			c.FillText(sty, vg.Point{X: lx, Y: y}, m.Label)
		}
	}
}

func (v *vlines) Thumbnail(c *draw.Canvas) {
	x := c.Center().X
	c.StrokeLine2(draw.LineStyle{Color: drillColor(), Width: px(2), Dashes: []vg.Length{px(8), px(4)}}, x, c.Min.Y, x, c.Max.Y)
}

// stackLayer is one filled band of a stacked area chart.
type stackLayer struct {
	xs, lo, hi []float64
	buckets    int
	color      color.RGBA
}

func (s *stackLayer) Plot(c draw.Canvas, plt *plot.Plot) {
	tx, ty := plt.Transforms(&c)
	idx := minMaxIndex(s.xs, s.hi, s.buckets)
	var top, bot []vg.Point
	for _, i := range idx {
		top = append(top, vg.Point{X: tx(s.xs[i]), Y: ty(s.hi[i])})
		bot = append(bot, vg.Point{X: tx(s.xs[i]), Y: ty(s.lo[i])})
	}
	if len(top) == 0 {
		return
	}
	// Fill in pieces, for the same reason lines are stroked in chunks.
	for a := 0; a < len(top)-1; a += 63 {
		b := min(a+64, len(top))
		poly := append([]vg.Point{}, top[a:b]...)
		for i := b - 1; i >= a; i-- {
			poly = append(poly, bot[i])
		}
		c.FillPolygon(shade(s.color, 0.35), c.ClipPolygonXY(poly))
	}
	c.StrokeLines(draw.LineStyle{Color: s.color, Width: px(1.5)}, chunks(c.ClipLinesXY(top))...)
}

func (s *stackLayer) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(s.xs) == 0 {
		return 0, 1, 0, 1
	}
	ymax = 0
	for _, v := range s.hi {
		ymax = max(ymax, v)
	}
	return s.xs[0], s.xs[len(s.xs)-1], 0, ymax
}

// Thumbnail shows both shades a layer is drawn in: the light fill and the
// dark line along its top.
func (s *stackLayer) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(shade(s.color, 0.35), rect(c.Min.X, c.Min.Y, c.Max.X, c.Max.Y))
	c.StrokeLine2(draw.LineStyle{Color: s.color, Width: px(3)}, c.Min.X, c.Max.Y-px(1.5), c.Max.X, c.Max.Y-px(1.5))
}
