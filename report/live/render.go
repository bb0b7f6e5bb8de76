package live

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/collect"
	"lunbench/report"
	"lunbench/workload"
)

// styles are the frame's palette; in monochrome the alerts use reverse
// and bold, so a stall or a dead path still stands out.
type styles struct {
	base, dim, bold, title     tcell.Style
	alert, warn, good, rd, wr  tcell.Style
	deadRow, stallCol, keyName tcell.Style
}

func newStyles(noColor bool) styles {
	b := tcell.StyleDefault
	if noColor {
		return styles{
			base: b, dim: b.Dim(true), bold: b.Bold(true), title: b.Reverse(true).Bold(true),
			alert: b.Reverse(true).Bold(true), warn: b.Bold(true), good: b,
			rd: b, wr: b.Dim(true), deadRow: b.Reverse(true), stallCol: b.Dim(true), keyName: b.Bold(true),
		}
	}
	return styles{
		base: b, dim: b.Foreground(tcell.ColorGray), bold: b.Bold(true),
		title:    b.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite).Bold(true),
		alert:    b.Background(tcell.ColorRed).Foreground(tcell.ColorWhite).Bold(true),
		warn:     b.Foreground(tcell.ColorYellow).Bold(true),
		good:     b.Foreground(tcell.ColorGreen),
		rd:       b.Foreground(tcell.ColorTeal),
		wr:       b.Foreground(tcell.ColorOlive),
		deadRow:  b.Background(tcell.ColorMaroon).Foreground(tcell.ColorWhite).Bold(true),
		stallCol: b.Foreground(tcell.ColorRed),
		keyName:  b.Foreground(tcell.ColorAqua).Bold(true),
	}
}

// canvas draws clipped text on the screen, or on a column of it from x0
// (w wide) for side-by-side tables.
type canvas struct {
	s    tcell.Screen
	x0   int
	w, h int
}

// split returns the canvas's right part from column x.
func (c canvas) split(x int) canvas {
	return canvas{s: c.s, x0: c.x0 + x, w: c.w - x, h: c.h}
}

// text writes str at x, y clipped to the screen and to x+limit (limit < 0:
// no limit), ending a clipped string with …; it returns the column after
// the text.
func (c canvas) text(x, y, limit int, str string, st tcell.Style) int {
	if y < 0 || y >= c.h {
		return x
	}
	end := c.w
	if limit >= 0 {
		end = min(end, x+limit)
	}
	wrote := false
	for _, r := range str {
		if x >= end {
			if wrote && limit != 1 {
				c.s.SetContent(c.x0+end-1, y, '…', nil, st)
			}
			break
		}
		if x >= 0 {
			c.s.SetContent(c.x0+x, y, r, nil, st)
			wrote = true
		}
		x++
	}
	return x
}

// put writes one rune at x, y clipped to the canvas. Charts and bars are
// drawn cell by cell; going through text would allocate a string a cell.
func (c canvas) put(x, y int, r rune, st tcell.Style) {
	if x >= 0 && x < c.w && y >= 0 && y < c.h {
		c.s.SetContent(c.x0+x, y, r, nil, st)
	}
}

func (c canvas) fill(x, y, n int, r rune, st tcell.Style) {
	for i := 0; i < n; i++ {
		c.put(x+i, y, r, st)
	}
}

// Draw renders one frame now, outside Run's redraw loop: for callers
// (and tests) that need the screen up to date at a given moment.
func (d *Dashboard) Draw() { d.draw() }

// draw renders one frame from the current state.
func (d *Dashboard) draw() {
	d.render(d.state())
	d.screen.Show()
	d.frames.Add(1)
}

func (d *Dashboard) render(st state) {
	w, h := d.screen.Size()
	c := canvas{s: d.screen, w: w, h: h}
	sty := newStyles(d.opt.NoColor)
	d.screen.Clear()
	if w <= 0 || h <= 0 {
		return
	}
	if w < 40 || h < 10 {
		c.text(0, 0, -1, "terminal too small", sty.warn)
		c.text(0, 1, -1, fmt.Sprintf("%d×%d, need 40×10", w, h), sty.warn)
		return
	}
	y := d.header(c, st, sty)
	y = d.banner(c, y, st, sty)
	body := h - 1 - y
	switch d.view {
	case viewOverview:
		d.overview(c, y, body, st, sty)
	case viewLatency:
		d.latency(c, y, body, st, sty)
	case viewPaths:
		c.text(0, y, -1, " paths", sty.bold)
		pathsTable(c, y+1, body-1, st, d.opt.Targets, sty)
	case viewEvents:
		c.text(0, y, -1, " events", sty.bold)
		eventsLog(c, y+1, body-1, st, sty)
	}
	d.footer(c, st, sty)
	if d.help {
		d.helpBox(c, sty)
	}
}

// header draws two lines: scenario and phase with its progress, then the
// run's time and the verdict so far.
func (d *Dashboard) header(c canvas, st state, sty styles) int {
	c.fill(0, 0, c.w, ' ', sty.title)
	x := c.text(0, 0, -1, " lunbench ", sty.title)
	if d.opt.Watch {
		c.text(x, 0, -1, "· watch "+d.opt.Scenario, sty.title)
		d.runLine(c, st, sty)
		return 2
	}
	if d.opt.Scenario != "" {
		x = c.text(x, 0, -1, "· "+d.opt.Scenario+"  ", sty.title)
	}
	s := st.snap
	if s == nil {
		c.text(x, 0, -1, "waiting for the first snapshot…", sty.title)
		d.runLine(c, st, sty)
		return 2
	}
	word := "phase "
	if c.w < 100 {
		word = "" // room for the progress bar
	}
	x = c.text(x, 0, -1, fmt.Sprintf("%s%d/%d %s", word, s.PhaseIndex+1, s.PhaseCount, s.Phase), sty.title)
	if s.Ramp {
		x = c.text(x, 0, -1, " (ramp)", sty.title)
	}
	x += 2
	if s.PhaseLength > 0 {
		frac := float64(s.PhaseElapsed) / float64(s.PhaseLength)
		rest := fmt.Sprintf(" %3.0f%%  %s/%s  -%s", math.Min(frac, 1)*100,
			report.Clock(s.PhaseElapsed), report.Clock(s.PhaseLength), report.Clock(max(0, s.PhaseLength-s.PhaseElapsed)))
		// The figures matter more than the bar: it takes what is left.
		if barW := min(40, c.w-x-len([]rune(rest))-1); barW >= 4 {
			x = bar(c, x, 0, barW, frac, sty.title)
		}
		c.text(x, 0, -1, rest, sty.title)
	} else {
		c.text(x, 0, -1, report.Clock(s.PhaseElapsed)+" (bounded by bytes)", sty.title)
	}
	d.runLine(c, st, sty)
	return 2
}

func (d *Dashboard) runLine(c canvas, st state, sty styles) {
	x := 1
	if s := st.snap; s != nil && d.opt.Watch {
		x = c.text(x, 1, -1, "watching "+report.Clock(s.Elapsed), sty.bold) + 3
	} else if s != nil {
		x = c.text(x, 1, -1, "run "+report.Clock(s.Elapsed), sty.bold)
		if d.opt.RunLength > 0 {
			x = c.text(x, 1, -1, fmt.Sprintf("/%s  -%s", report.Clock(d.opt.RunLength),
				report.Clock(max(0, d.opt.RunLength-s.Elapsed))), sty.bold)
		}
		x += 3
	}
	if st.drill {
		x = c.text(x, 1, -1, " DRILL ", sty.warn.Reverse(true)) + 2
	}
	// Nothing is claimed until someone evaluates: an empty verdict shows
	// nothing rather than a reassurance nobody checked.
	if st.verdict != "" {
		vs := sty.good
		if st.failed {
			vs = sty.alert
		}
		c.text(x, 1, -1, "verdict: "+st.verdict, vs)
	}
}

// bar draws a progress bar with eighth blocks.
func bar(c canvas, x, y, w int, frac float64, st tcell.Style) int {
	frac = math.Max(0, math.Min(frac, 1))
	eighths := int(frac * float64(w*8))
	for i := 0; i < w; i++ {
		n := min(8, max(0, eighths-i*8))
		r := '·'
		if n > 0 {
			r = []rune(" ▏▎▍▌▋▊▉█")[n]
		}
		c.put(x+i, y, r, st)
	}
	return x + w
}

// banner draws the stall line: a live stall in alert colours, then the
// last stall's exact length from its stall_end event for a minute.
func (d *Dashboard) banner(c canvas, y int, st state, sty styles) int {
	s := st.snap
	switch {
	case len(st.stalls) > 0:
		var parts []string
		for _, sl := range st.stalls {
			part := fmt.Sprintf("%.1f s on %s%s", sl.For.Seconds(), sl.Target, d.onHost(sl.Target))
			if sl.InFlight >= 0 {
				part += fmt.Sprintf(" (%d in flight)", sl.InFlight)
			}
			parts = append(parts, part)
		}
		c.fill(0, y, c.w, ' ', sty.alert)
		c.text(1, y, -1, "▲ I/O STALLED "+strings.Join(parts, ", "), sty.alert)
	case d.statusText() != "":
		c.text(1, y, -1, d.statusText(), sty.warn)
	case d.quitting:
		c.text(1, y, -1, fmt.Sprintf("stopping: %d I/Os in flight, writing results…", inFlight(s)), sty.warn)
	case st.lastEnd != nil && (s == nil || s.Time.Sub(st.lastEnd.Time) < time.Minute):
		e := st.lastEnd
		c.text(1, y, -1, fmt.Sprintf("I/O resumed on %s%s after a %.3f s stall (at %s)", e.Target, d.onHost(e.Target), e.Dur.Seconds(),
			e.Time.Format("15:04:05")), sty.warn)
	default:
		c.text(1, y, -1, "no stall", sty.dim)
	}
	return y + 1
}

// statusText is the run's status after its I/O ended, if any.
func (d *Dashboard) statusText() string {
	if p := d.status.Load(); p != nil {
		return *p
	}
	return ""
}

// inFlight is the I/Os in flight over every target at the last snapshot.
func inFlight(s *workload.Snapshot) int {
	n := 0
	if s != nil {
		for _, sl := range s.Slices {
			n += sl.InFlight
		}
	}
	return n
}

// overview fits the chart, the targets, the paths and the events into
// rows lines below y; the chart and the events share what is left.
func (d *Dashboard) overview(c canvas, y, rows int, st state, sty styles) {
	figs := withHostTotals(figures(st), d.opt.Hosts, d.hostOrder())
	nT := len(figs)
	nP := len(st.disk)
	tRows := 1 + max(nT, 1)
	if d.opt.Watch {
		tRows = 0 // the devices table says it all
	}
	pRows := 0
	if nP > 0 {
		pRows = 1 + nP
	}
	// A wide terminal puts the two tables side by side, leaving the
	// height to the chart and the events.
	const targetsW, pathsW = 76, 80
	if c.w >= targetsW+pathsW && nP > 0 && !d.opt.Watch {
		tRows = max(tRows, pRows)
		left := rows - tRows
		evH := 0
		if left >= 7 {
			evH = max(2, left/3)
		}
		chartH := left - evH
		if chartH >= 3 {
			d.throughput(c, y, chartH, st, sty)
		}
		y += max(chartH, 0)
		tc := c
		tc.w = targetsW
		targetsTable(tc, y, tRows, figs, d.opt.Targets, sty)
		pathsTable(c.split(targetsW), y, tRows, st, d.opt.Targets, sty)
		eventsLog(c, y+tRows, evH, st, sty)
		return
	}
	left := rows - tRows - pRows
	// The chart needs 5 lines (two panels of 2 and an axis); shrink the
	// paths table before the chart disappears.
	if left < 5 && pRows > 0 {
		pRows = max(2, pRows-(5-left))
		left = rows - tRows - pRows
	}
	chartH := left
	evH := 0
	if left >= 7 {
		evH = max(2, left/3)
		chartH = left - evH
	}
	if chartH >= 3 {
		d.throughput(c, y, chartH, st, sty)
	}
	y += max(chartH, 0)
	if tRows > 0 {
		targetsTable(c, y, tRows, figs, d.opt.Targets, sty)
	}
	y += tRows
	if pRows > 0 {
		pathsTable(c, y, pRows, st, d.opt.Targets, sty)
		y += pRows
	}
	if evH > 0 {
		eventsLog(c, y, evH, st, sty)
	}
}

// latency charts p99 and max over time, reads above writes, each half on
// a log scale (a 200 ms outlier on a linear one flattened sub-millisecond
// p99 into one block), above the per target × op table.
func (d *Dashboard) latency(c canvas, y, rows int, st state, sty styles) {
	if d.opt.Watch {
		d.awaitChart(c, y, rows, st, sty)
		return
	}
	figs := figures(st)
	tRows := 1 + max(len(figs), 1)
	chartH := rows - tRows
	if chartH >= 5 {
		win := windows()[d.window]
		cols := c.w - gutter - 1
		ph := (chartH - 1) / 2
		var stalled []bool
		for i, op := range []workload.Op{workload.Read, workload.Write} {
			p99, stl := bucket(st, win, cols, func(p *point) float64 { return float64(p.p99[op]) })
			mx, _ := bucket(st, win, cols, func(p *point) float64 { return float64(p.max[op]) })
			stalled = stl
			h := ph
			cs := sty.rd
			if i == 1 {
				h, cs = chartH-1-ph, sty.wr
			}
			logPanel(c, y+i*ph, h, op.String(), p99, mx, stalled, cs, sty)
		}
		axis(c, y+chartH-1, win, stalled, sty)
	}
	targetsTable(c, y+max(chartH, 0), tRows, figs, d.opt.Targets, sty)
}

// logPanel draws p99 as bars on a log scale from the decade under the
// smallest value to the decade over the largest, and the max of each
// column as a ╴ mark above its bar; the panel's name and what it shows
// head it, the scale's ends are in the gutter.
func logPanel(c canvas, y, h int, name string, p99, mx []float64, stalled []bool, st tcell.Style, sty styles) {
	if h <= 1 {
		return
	}
	lo, hi := math.Inf(1), 0.0
	for i := range p99 {
		for _, v := range []float64{p99[i], mx[i]} {
			if v > 0 && !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = float64(100*time.Microsecond), float64(10*time.Millisecond)
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi*1.0001)))
	level := func(v float64) int { // eighths of a cell above the panel's foot
		if !(v > 0) || math.IsNaN(v) {
			return 0
		}
		return max(1, int(math.Round(math.Log10(v/lo)/math.Log10(hi/lo)*float64(h*8))))
	}
	c.text(0, y, gutter-1, fmt.Sprintf("%*s", gutter-1, report.Lat(time.Duration(hi))), sty.dim)
	c.text(0, y+h-1, gutter-1, fmt.Sprintf("%*s", gutter-1, report.Lat(time.Duration(lo))), sty.dim)
	for row := 0; row < h; row++ {
		c.put(gutter-1, y+row, '│', sty.dim)
	}
	blocks := []rune(" ▁▂▃▄▅▆▇█")
	for i := range p99 {
		x := gutter + i
		bar, top := level(p99[i]), level(mx[i])
		for row := 0; row < h; row++ {
			base := (h - 1 - row) * 8
			r, cs := blocks[min(8, max(0, bar-base))], st
			if r == ' ' && top > base && top <= base+8 && top > bar {
				r = '╴' // the column's max, in its cell
			}
			if r == ' ' && stalled[i] {
				r, cs = '░', sty.stallCol
			}
			c.put(x, y+row, r, cs)
		}
	}
	c.text(gutter+1, y, -1, " "+name+" p99 █  max ╴  (log scale) ", st.Bold(true))
}

// awaitChart is the latency view of `lunbench watch`: diskstats gives a
// mean per interval (await), not a distribution, so one panel charts the
// worst device's await over the window, above the devices table.
func (d *Dashboard) awaitChart(c canvas, y, rows int, st state, sty styles) {
	pRows := min(1+max(len(st.disk), 1), rows/2)
	chartH := rows - pRows
	if chartH >= 3 {
		win := windows()[d.window]
		vals, stalled := bucket(st, win, c.w-gutter-1, func(p *point) float64 { return float64(p.mean) })
		top := niceCeil(maxOf(vals)/float64(time.Millisecond)) * float64(time.Millisecond)
		panel(c, y, chartH-1, "await", report.Lat(time.Duration(top)), vals, top, stalled, sty.rd, sty)
		axis(c, y+chartH-1, win, stalled, sty)
	}
	pathsTable(c, y+max(chartH, 0), pRows, st, d.opt.Targets, sty)
}

// gutter is the width of the chart's y-axis labels.
const gutter = 11

func (d *Dashboard) throughput(c canvas, y, h int, st state, sty styles) {
	win := windows()[d.window]
	cols := c.w - gutter - 1
	rd, stalled := bucket(st, win, cols, func(p *point) float64 { return p.r })
	wr, _ := bucket(st, win, cols, func(p *point) float64 { return p.w })
	top := max(maxOf(rd), maxOf(wr))
	unit, div := byteUnit(top)
	scale := niceCeil(top/div) * div
	label := fmt.Sprintf("%s %s", round(scale/div), unit)
	ph := (h - 1) / 2
	panel(c, y, ph, "read", label, rd, scale, stalled, sty.rd, sty)
	panel(c, y+ph, h-1-ph, "write", label, wr, scale, stalled, sty.wr, sty)
	axis(c, y+h-1, win, stalled, sty)
}

// bucket averages a series over the window into cols columns, weighting
// each snapshot by how much of a column it covers, so both narrow and wide
// windows read right. Columns without data are NaN.
func bucket(st state, win time.Duration, cols int, f func(*point) float64) (vals []float64, stalled []bool) {
	vals = make([]float64, max(cols, 0))
	stalled = make([]bool, len(vals))
	if cols <= 0 || st.snap == nil {
		for i := range vals {
			vals[i] = math.NaN()
		}
		return vals, stalled
	}
	now := st.snap.Elapsed
	colDur := float64(win) / float64(cols)
	start := float64(now - win)
	weight := make([]float64, cols)
	for _, p := range st.hist {
		a, b := float64(p.elapsed-p.dur), float64(p.elapsed)
		if b <= start || a > float64(now) {
			continue
		}
		c0 := max(0, int((a-start)/colDur))
		c1 := min(cols-1, int((b-start)/colDur))
		for ci := c0; ci <= c1; ci++ {
			lo := math.Max(a, start+float64(ci)*colDur)
			hi := math.Min(b, start+float64(ci+1)*colDur)
			if hi <= lo {
				continue
			}
			vals[ci] += f(p) * (hi - lo)
			weight[ci] += hi - lo
			stalled[ci] = stalled[ci] || p.stalled
		}
	}
	for i := range vals {
		if weight[i] > 0 {
			vals[i] /= weight[i]
		} else {
			vals[i] = math.NaN()
		}
	}
	return vals, stalled
}

// panel draws one series as bars of eighth blocks, h lines high; stalled
// columns are shaded through the whole panel.
func panel(c canvas, y, h int, name, top string, vals []float64, scale float64, stalled []bool, st tcell.Style, sty styles) {
	if h <= 0 {
		return
	}
	c.text(0, y, gutter-1, fmt.Sprintf("%*s", gutter-1, top), sty.dim)
	if h > 1 {
		c.text(0, y+h-1, gutter-1, name, st.Bold(true))
	} else {
		c.text(0, y, 5, name, st.Bold(true))
	}
	for row := 0; row < h; row++ {
		c.put(gutter-1, y+row, '│', sty.dim)
	}
	blocks := []rune(" ▁▂▃▄▅▆▇█")
	for i, v := range vals {
		x := gutter + i
		var eighths int
		if !math.IsNaN(v) && scale > 0 {
			eighths = int(math.Round(v / scale * float64(h*8)))
			if v > 0 && eighths == 0 {
				eighths = 1 // a trickle is not nothing
			}
		}
		for row := 0; row < h; row++ {
			level := eighths - (h-1-row)*8
			r := blocks[min(8, max(0, level))]
			cs := st
			if r == ' ' && stalled[i] {
				r, cs = '░', sty.stallCol
			}
			c.put(x, y+row, r, cs)
		}
	}
}

// axis draws the time axis: -window at the left, now at the right, and a
// red ▲ under columns where I/O stalled, except under those labels.
func axis(c canvas, y int, win time.Duration, stalled []bool, sty styles) {
	c.text(0, y, -1, strings.Repeat(" ", gutter-1)+"└", sty.dim)
	cols := len(stalled)
	c.fill(gutter, y, cols, '─', sty.dim)
	// Markers first: the labels are written over them (the stalled columns
	// stay shaded ░ in the panels above).
	for i, s := range stalled {
		if s {
			c.put(gutter+i, y, '▲', sty.stallCol.Bold(true))
		}
	}
	c.text(gutter, y, -1, "-"+short(win), sty.dim)
	if cols > 30 {
		c.text(gutter+cols/2-2, y, -1, "-"+short(win/2), sty.dim)
	}
	c.text(gutter+cols-3, y, -1, "now", sty.dim)
}

func short(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%gs", d.Seconds())
}

// fig is one row of the per target × op table.
type fig struct {
	target        string
	op            workload.Op
	iops, bps     float64
	p50, p99, max time.Duration
	inflight      int
	errors        uint64
}

// figures prefers the last completed interval (1 s, steadier) and takes
// in-flight counts from the last slice (250 ms, current).
func figures(st state) []fig {
	var out []fig
	src := st.ivs
	if len(src) == 0 && st.snap != nil {
		src = st.snap.Slices
	}
	for _, iv := range src {
		f := fig{target: iv.Target, op: iv.Op, p50: iv.Lat.P50, p99: iv.Lat.P99, max: iv.Lat.Max,
			inflight: iv.InFlight, errors: iv.Errors}
		if sec := iv.End.Sub(iv.Start).Seconds(); sec > 0 {
			f.iops, f.bps = float64(iv.Ops)/sec, float64(iv.Bytes)/sec
		}
		out = append(out, f)
	}
	if st.snap != nil {
		for i := range out {
			for _, sl := range st.snap.Slices {
				if sl.Target == out[i].target && sl.Op == out[i].op {
					out[i].inflight = sl.InFlight
				}
			}
		}
	}
	return out
}

func targetsTable(c canvas, y, rows int, figs []fig, tn map[string]string, sty styles) {
	if rows <= 0 {
		return
	}
	// The target column takes what the line has beyond the figures'
	// 63 columns: 16 at 80.
	tw := min(max(12, c.w-64), 30)
	c.text(0, y, -1, fmt.Sprintf(" %-*s %-5s %8s %7s %7s %7s %7s %5s %6s", tw, "target", "op", "IOPS", "MiB/s", "p50", "p99", "max", "infl", "errors"), sty.bold.Underline(true))
	if len(figs) == 0 {
		c.text(1, y+1, -1, "no I/O yet", sty.dim)
	}
	for i, f := range figs {
		if i+1 >= rows {
			break
		}
		st := sty.base
		if f.errors > 0 {
			st = sty.warn
		}
		if strings.HasPrefix(f.target, hostTotalPrefix) {
			st = st.Bold(true)
		}
		p50, p99 := report.Lat(f.p50), report.Lat(f.p99)
		if strings.HasPrefix(f.target, hostTotalPrefix) {
			// Percentiles do not add up from rows; the results have the
			// exact merged ones.
			p50, p99 = "-", "-"
		}
		c.text(0, y+1+i, -1, fmt.Sprintf(" %-*s %-5s %8s %7s %7s %7s %7s %5d %6d", tw, clip(targetWithDevice(tn, f.target), tw), f.op,
			report.Thousands(f.iops), trim(f.bps/(1<<20)), p50, p99, report.Lat(f.max),
			f.inflight, f.errors), st)
	}
}

// dead reports whether a path state means the path carries no I/O.
func dead(state string) bool {
	switch state {
	case "", "running", "live", "active", "LOGGED_IN", "up":
		return false
	}
	return true
}

func pathsTable(c canvas, y, rows int, st state, tn map[string]string, sty styles) {
	if rows <= 0 {
		return
	}
	// The target column grows from 8 with the width a state needs beside
	// it: "✖ transport-offline" must fit at 80 columns.
	tw := min(max(8, c.w-72), 14)
	c.text(0, y, -1, fmt.Sprintf(" %-9s %-*s %6s %6s %6s %7s %5s %4s  %s", "device", tw, "target", "r/s", "w/s", "MiB/s", "await", "%util", "infl", "state"), sty.bold.Underline(true))
	if len(st.disk) == 0 {
		c.text(1, y+1, -1, "no disk statistics yet", sty.dim)
		return
	}
	for i, ds := range st.disk {
		if i+1 >= rows {
			break
		}
		if i+2 == rows && i+1 < len(st.disk) {
			c.text(1, y+1+i, -1, fmt.Sprintf("… %d more: tab to the paths view", len(st.disk)-i), sty.dim)
			break
		}
		state := st.pathState[ds.Device]
		shown := state
		if shown == "" {
			shown = "-"
		}
		rowSty := sty.base
		switch {
		case dead(state):
			rowSty = sty.deadRow
			shown = "✖ " + state
		case ds.InFlight > 0 && ds.RPS+ds.WPS == 0:
			rowSty, shown = sty.warn, "stuck"
		}
		await := 0.0
		if n := ds.RPS + ds.WPS; n > 0 {
			await = (ds.RAwait*ds.RPS + ds.WAwait*ds.WPS) / n
		}
		line := fmt.Sprintf(" %-9s %-*s %6s %6s %6s %7s %5.1f %4d  %s", device(ds), tw, clip(targetName(tn, ds.Target), tw),
			report.Thousands(ds.RPS), report.Thousands(ds.WPS), trim((ds.RkBPS+ds.WkBPS)/1024),
			trim(await)+"ms", ds.Util, ds.InFlight, shown)
		if rowSty != sty.base {
			c.fill(0, y+1+i, c.w, ' ', rowSty)
		}
		c.text(0, y+1+i, -1, line, rowSty)
	}
}

// device names the row; a path sits indented under its LUN, and the
// filesystem holding a file target is marked.
func device(ds collect.DiskStat) string {
	switch ds.Role {
	case collect.RolePath:
		return "└ " + clip(ds.Device, 7)
	case collect.RoleFS:
		return clip(ds.Device, 6) + " fs"
	}
	return clip(ds.Device, 9)
}

// eventsLog shows the newest events that fit, oldest first.
func eventsLog(c canvas, y, rows int, st state, sty styles) {
	if rows <= 0 {
		return
	}
	evs := st.events
	if len(evs) > rows {
		evs = evs[len(evs)-rows:]
	}
	if len(evs) == 0 {
		c.text(1, y, -1, "no events yet", sty.dim)
	}
	for i, e := range evs {
		es := sty.base
		switch e.Kind {
		case workload.EvStallStart, workload.EvIOError, workload.EvDeviceGone:
			es = sty.stallCol.Bold(true)
		case workload.EvStallEnd, workload.EvDrillInject, workload.EvDrillMark, workload.EvDrillRecover:
			es = sty.warn
		case workload.EvPathState, workload.EvSessionState, workload.EvMapChange:
			if i := strings.LastIndex(e.Detail, "→"); i >= 0 && dead(strings.TrimSpace(e.Detail[i+len("→"):])) {
				es = sty.stallCol.Bold(true)
			}
		}
		who := e.Target
		if who == "" {
			who = e.Phase
		}
		if e.Path != "" {
			who = strings.TrimPrefix(who+" "+e.Path, " ")
		}
		detail := e.Detail
		if e.Kind == workload.EvStallEnd && e.Dur > 0 {
			detail = fmt.Sprintf("stalled %.3f s; %s", e.Dur.Seconds(), detail)
		}
		if e.Host != "" {
			detail = "[" + e.Host + "] " + detail // a run over several hosts
		}
		c.text(0, y+i, -1, fmt.Sprintf(" %s %-13s %-14s %s", e.Time.Format("15:04:05"), e.Kind, clip(who, 14), detail), es)
	}
}

func (d *Dashboard) footer(c canvas, st state, sty styles) {
	y := c.h - 1
	if d.confirm {
		c.fill(0, y, c.w, ' ', sty.alert)
		c.text(1, y, -1, "drill in progress — press q again to stop (n/Esc: keep running)", sty.alert)
		return
	}
	x := 1
	key := func(k, what string) {
		x = c.text(x, y, -1, k, sty.keyName)
		x = c.text(x, y, -1, " "+what+"  ", sty.dim)
	}
	key("q", "quit")
	key("m", "mark fault")
	key("tab", "view: "+viewName(d.view))
	key("+/-", "window "+short(windows()[d.window]))
	key("?", "help")
}

// helpBox draws the help in a bordered box over the view, clearing the
// box and a blank cell around it, so nothing of the view shows through.
func (d *Dashboard) helpBox(c canvas, sty styles) {
	lines := []string{
		"lunbench live dashboard",
		"",
		"q, Ctrl-C  stop the run (results are written;",
		"           press twice while a drill runs)",
		"m          mark a fault now (drill_mark event)",
		"tab        next view: overview, latency,",
		"           paths, events (shift-tab: back)",
		"+ / -      widen / narrow the chart window",
		"?, Esc     close this help",
		"",
		"In a chart, ░ (and ▲ on the time axis) marks",
		"the columns where I/O stalled.",
	}
	bw, bh := 52, len(lines)+4
	x0, y0 := max(0, (c.w-bw)/2), max(0, (c.h-bh)/2)
	for row := -1; row <= bh; row++ { // the margin: a blank cell all round
		c.fill(x0-1, y0+row, bw+2, ' ', sty.base)
	}
	for row := 0; row < bh; row++ {
		c.fill(x0, y0+row, bw, ' ', sty.title)
	}
	c.put(x0, y0, '┌', sty.title)
	c.fill(x0+1, y0, bw-2, '─', sty.title)
	c.put(x0+bw-1, y0, '┐', sty.title)
	for row := 1; row < bh-1; row++ {
		c.put(x0, y0+row, '│', sty.title)
		c.put(x0+bw-1, y0+row, '│', sty.title)
	}
	c.put(x0, y0+bh-1, '└', sty.title)
	c.fill(x0+1, y0+bh-1, bw-2, '─', sty.title)
	c.put(x0+bw-1, y0+bh-1, '┘', sty.title)
	for i, l := range lines {
		c.text(x0+3, y0+2+i, bw-6, l, sty.title)
	}
}

// byteUnit picks the unit for a byte rate.
func byteUnit(v float64) (string, float64) {
	switch {
	case v >= 1000<<20:
		return "GiB/s", 1 << 30
	case v >= 1000<<10:
		return "MiB/s", 1 << 20
	default:
		return "KiB/s", 1 << 10
	}
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so the axis
// reads as a round number; 0 stays 1 so an idle chart has a scale.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) && v > m {
			m = v
		}
	}
	return m
}

// trim formats a figure with three significant digits or so.
func trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// round formats an axis value without trailing zeros: 1, 2.5, 500.
func round(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// targetName is how a row names its target: by the scenario's name when the
// row carries the target's path, else by the basename of the path (a
// watched device), never by a long path clipped to its first letters.
func targetName(tn map[string]string, t string) string {
	if _, ok := tn[t]; ok {
		return t
	}
	for name, path := range tn {
		if path == t {
			return name
		}
	}
	return filepath.Base(t)
}

// targetWithDevice is the target's name and its device's (or file's)
// basename: "lun0 (mpatha)"; the name alone when they are the same.
func targetWithDevice(tn map[string]string, t string) string {
	name := targetName(tn, t)
	path, ok := tn[name]
	if !ok || filepath.Base(path) == name {
		return name
	}
	return name + " (" + filepath.Base(path) + ")"
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
