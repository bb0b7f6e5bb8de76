package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"lunbench/workload"
)

// Options configure Render.
type Options struct {
	// Width and Height are each chart's size in pixels; 1600×900 when zero.
	Width, Height int
	// Buckets is how many time buckets a long series is reduced to for
	// drawing (each keeps its minimum and maximum); Width when zero.
	Buckets int
}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = 1600
	}
	if o.Height <= 0 {
		o.Height = 900
	}
	if o.Buckets <= 0 {
		o.Buckets = o.Width
	}
	return o
}

// InputError reports a results directory that is missing or cannot be
// read as one (run.json absent or invalid); other Render errors are
// failures to write.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Render rebuilds, from the results directory alone, the charts (PNG),
// report.md, the self-contained report.html and junit.xml.
func Render(dir string, opt Options) error {
	opt = opt.withDefaults()
	d, err := loadRunData(dir)
	if err != nil {
		return &InputError{err}
	}
	if d.unfinished = unfinished(dir, d.run); d.unfinished != "" {
		d.notRun = fillUnfinished(dir, d)
	}
	charts, err := writeCharts(dir, d, opt)
	if err != nil {
		return err
	}
	if err := writeDocuments(dir, d, charts); err != nil {
		return err
	}
	return writeJUnitFile(dir, d)
}

// runData is everything read back from a results directory.
type runData struct {
	run    *RunJSON
	ivs    []IntervalRow
	events []workload.Event
	disk   []diskRow
	// diskNames holds diskRow's target and device names.
	diskNames []string
	scenario  []byte
	topology  []byte
	hists     map[phaseKey]*hdr.Histogram
	t0        time.Time
	// unfinished says why the run did not finish ("" if it did), and
	// notRun lists the scenario's phases that never started.
	unfinished string
	notRun     []string
	rebuilt    bool // run.Phases rebuilt from intervals.csv and hlogs
	// opKeys and opRows cache opSeries.
	opKeys []phaseKey
	opRows map[phaseKey][]*IntervalRow
}

type phaseKey struct {
	Phase, Target string
	Op            workload.Op
}

// diskRow is the part of a diskstats.csv row the charts use. It holds no
// pointer (names are indexes into runData.diskNames, the time is in
// nanoseconds): a 24 h run has 432,000 of them, and the garbage collector
// need not look inside.
type diskRow struct {
	// UnixNano is the sample's time.
	UnixNano int64
	// Target and Device index runData.diskNames.
	Target, Device uint32
	// Path is the role "path" (a multipath leg); FS the role "fs" (the
	// disk under a file target's filesystem, shared with the rest of the
	// host); neither is "lun".
	Path, FS       bool
	Rs, Ws         float64
	RkBs, WkBs     float64
	RAwait, WAwait float64
	AquSz, Util    float64
	// InFlight is the requests in flight at the sample's time.
	InFlight float64
	// Interval is the length of the time the rates cover, ending at the
	// sample's time.
	Interval float64
}

func (r *diskRow) time() time.Time { return time.Unix(0, r.UnixNano) }

// loadRunData reads all of a results directory the report uses.
func loadRunData(dir string) (*runData, error) { return loadRun(dir, true) }

// loadRunCore reads what every use of a results directory needs:
// run.json (required), intervals.csv and the hlog files.
func loadRunCore(dir string) (*runData, error) { return loadRun(dir, false) }

// loadRun reads a results directory; all of it with full, else only
// run.json, intervals.csv and the hlog files. The files are read
// concurrently: each is parsed on one core.
func loadRun(dir string, full bool) (*runData, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("results %s: not a directory", dir)
	}
	r, err := ReadRun(dir)
	if err != nil {
		return nil, err
	}
	d := &runData{run: r, t0: r.Start}
	var wg sync.WaitGroup
	var ivErr, evErr, diskErr error
	wg.Go(func() { d.ivs, ivErr = ReadIntervals(dir) })
	wg.Go(func() { d.hists = readHists(dir, r) })
	if full {
		wg.Go(func() { d.disk, d.diskNames, diskErr = readDiskStats(filepath.Join(dir, "diskstats.csv")) })
		d.events, evErr = ReadEvents(dir)
		if b, err := os.ReadFile(filepath.Join(dir, "scenario.yaml")); err == nil {
			d.scenario = b
		}
		if b, err := os.ReadFile(filepath.Join(dir, "topology.json")); err == nil {
			d.topology = b
		}
	}
	wg.Wait()
	for _, err := range []error{ivErr, evErr, diskErr} {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if d.t0.IsZero() && len(d.ivs) > 0 {
		d.t0 = d.ivs[0].Start
	}
	return d, nil
}

// readDiskStats reads the columns of diskstats.csv the charts draw,
// keeping what is whole of a file cut short.
func readDiskStats(path string) (rows []diskRow, names []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr := newCSVLines(f)
	head, err := cr.header()
	if err != nil {
		if err == io.EOF {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"time", "target", "device", "role"} {
		if _, ok := col[h]; !ok {
			return nil, nil, fmt.Errorf("%s: missing column %q", path, h)
		}
	}
	idx := func(k string) int {
		if i, ok := col[k]; ok {
			return i
		}
		return -1
	}
	cTime, cTarget, cDevice, cRole := col["time"], col["target"], col["device"], col["role"]
	cR, cW, cRA, cWA := idx("rkB/s"), idx("wkB/s"), idx("r_await"), idx("w_await")
	cAqu, cUtil, cIv := idx("aqu-sz"), idx("%util"), idx("interval_s")
	cRs, cWs, cInf := idx("r/s"), idx("w/s"), idx("inflight")
	var out []diskRow
	if st, err := f.Stat(); err == nil {
		out = make([]diskRow, 0, st.Size()/150+16) // rows are about 160 bytes
	}
	index := map[string]uint32{}
	name := func(s string) uint32 {
		if i, ok := index[s]; ok {
			return i
		}
		s = strings.Clone(s)
		index[s] = uint32(len(names))
		names = append(names, s)
		return index[s]
	}
	for {
		rec, err := cr.next()
		if err != nil {
			break // EOF or a torn last line
		}
		fl := func(i int) float64 {
			if i < 0 || i >= len(rec) {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		t, err := time.Parse(time.RFC3339Nano, rec[cTime])
		if err != nil {
			continue
		}
		out = append(out, diskRow{UnixNano: t.UnixNano(), Target: name(rec[cTarget]), Device: name(rec[cDevice]), Path: rec[cRole] == "path",
			FS: rec[cRole] == "fs", Rs: fl(cRs), Ws: fl(cWs), InFlight: fl(cInf), RkBs: fl(cR), WkBs: fl(cW), RAwait: fl(cRA), WAwait: fl(cWA),
			AquSz: fl(cAqu), Util: fl(cUtil), Interval: nz(fl(cIv))})
	}
	return out, names, nil
}

// readHists reads each phase × target × op's latency histogram: the whole
// phase's (PhaseHlogName, written at the run's end) when there is one, else
// the merge of every interval of its hlog file (a killed run); a file that
// is missing or unreadable is simply left out.
func readHists(dir string, r *RunJSON) map[phaseKey]*hdr.Histogram {
	// Decoding is the slow part of a long run's report (one histogram per
	// interval): the files are decoded on all cores.
	hs := make([]*hdr.Histogram, len(r.Phases))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(r.Phases)) {
		wg.Go(func() {
			for i := range next {
				p := r.Phases[i]
				f, err := os.Open(filepath.Join(dir, "hist", PhaseHlogName(p.Phase, p.Target, p.Op)))
				if err != nil {
					f, err = os.Open(filepath.Join(dir, "hist", hlogSafe(fmt.Sprintf("%s_%s_%s", p.Phase, p.Target, p.Op))+".hlog"))
				}
				if err != nil {
					continue
				}
				hs[i] = readHlog(f)
				f.Close()
			}
		})
	}
	for i := range r.Phases {
		next <- i
	}
	close(next)
	wg.Wait()
	out := map[phaseKey]*hdr.Histogram{}
	for i, p := range r.Phases {
		if h := hs[i]; h != nil && h.TotalCount() > 0 {
			out[phaseKey{p.Phase, p.Target, p.Op}] = h
		}
	}
	return out
}

func readHlog(rd io.Reader) (h *hdr.Histogram) {
	defer func() {
		if recover() != nil { // a torn file must not take the report down
			h = nil
		}
	}()
	lr := hdr.NewHistogramLogReader(bufio.NewReader(rd))
	for {
		ih, err := lr.NextIntervalHistogram()
		if err != nil || ih == nil {
			return h
		}
		if h == nil {
			// The file's own geometry: results written before 1 ns
			// precision keep their 1 µs buckets and report as before.
			h = workload.NewHistogramLike(ih)
		}
		h.Merge(ih)
	}
}

// The colours every chart uses: one per op, red for stalls.
func opColor(op workload.Op) color.RGBA {
	if op == workload.Write {
		return color.RGBA{R: 0xe6, G: 0x6a, B: 0x00, A: 0xff}
	}
	return color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
}

func stallColor() color.NRGBA { return color.NRGBA{R: 0xe0, G: 0x10, B: 0x10, A: 0x70} }

func drillColor() color.RGBA { return color.RGBA{R: 0x7b, G: 0x1f, B: 0xa2, A: 0xff} }

func bandColor(i int) color.RGBA {
	if i%2 == 0 {
		return color.RGBA{R: 0xee, G: 0xee, B: 0xee, A: 0xff}
	}
	return color.RGBA{R: 0xf8, G: 0xf8, B: 0xf8, A: 0xff}
}

func pathColor(i int) color.RGBA {
	cs := [...]color.RGBA{
		{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
		{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, {R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
		{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	}
	return cs[i%len(cs)]
}

// phaseColor is the n-th phase's colour in the percentile chart: ten
// hues far apart (Tableau 10 without its red, kept for stalls).
func phaseColor(n int) color.RGBA {
	cs := [...]color.RGBA{
		{R: 0x4e, G: 0x79, B: 0xa7, A: 0xff}, {R: 0xf2, G: 0x8e, B: 0x2b, A: 0xff}, {R: 0x59, G: 0xa1, B: 0x4f, A: 0xff},
		{R: 0xb0, G: 0x7a, B: 0xa1, A: 0xff}, {R: 0x76, G: 0xb7, B: 0xb2, A: 0xff}, {R: 0xed, G: 0xc9, B: 0x48, A: 0xff},
		{R: 0x9c, G: 0x75, B: 0x5f, A: 0xff}, {R: 0xff, G: 0x9d, B: 0xa7, A: 0xff}, {R: 0x33, G: 0x33, B: 0x33, A: 0xff},
		{R: 0xba, G: 0xb0, B: 0xac, A: 0xff},
	}
	return cs[n%len(cs)]
}

// dashes tells targets (or phases) apart within one op's colour.
func dashes(i int) []vg.Length {
	switch i % 4 {
	case 1:
		return []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		return []vg.Length{vg.Points(2), vg.Points(2)}
	case 3:
		return []vg.Length{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}
	}
	return nil
}

// shade mixes c toward white by f (0 = c, 1 = white).
func shade(c color.RGBA, f float64) color.RGBA {
	m := func(v uint8) uint8 { return uint8(float64(v) + (255-float64(v))*f) }
	return color.RGBA{R: m(c.R), G: m(c.G), B: m(c.B), A: c.A}
}

// A chart is one PNG: one or more panels stacked with a shared time axis
// and one legend to the right of them.
type chart struct {
	file   string
	title  string
	panels []*plot.Plot
	legend []legendItem
	// labelW is the pixels kept right of the panels for direct labels.
	labelW float64
}

// oneTimeLabel leaves the time axis's label under the last panel only.
func (ch *chart) oneTimeLabel() {
	for _, p := range ch.panels[:max(len(ch.panels)-1, 0)] {
		p.X.Label.Text = ""
	}
}

type legendItem struct {
	name  string
	thumb plot.Thumbnailer
}

// chartFile names a written chart for the documents.
type chartFile struct {
	File, Title string
	PNG         []byte
}

// writeCharts draws every chart the data supports and writes it as a PNG.
func writeCharts(dir string, d *runData, opt Options) ([]chartFile, error) {
	d.opSeries() // made once here: the builders below run concurrently
	return writeChartFiles(dir, chartBuilders(d, opt), opt)
}

// writeChartFiles builds, draws and writes each chart (a builder that
// returns nil has no data and no file) as a PNG in dir. Charts are
// independent, so they are drawn on all cores: that halves the time of a
// 24 h run's report on two.
func writeChartFiles(dir string, builders []func() *chart, opt Options) ([]chartFile, error) {
	type result struct {
		file chartFile
		ok   bool
		err  error
	}
	res := make([]result, len(builders))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(builders)) {
		wg.Go(func() {
			for i := range next {
				ch := builders[i]()
				if ch == nil {
					continue
				}
				img, _ := ch.draw(opt.Width, opt.Height)
				var buf bytes.Buffer
				// BestSpeed: a third of the default's time, for files
				// about 20% larger (charts are mostly flat colour).
				enc := png.Encoder{CompressionLevel: png.BestSpeed}
				if err := enc.Encode(&buf, img); err != nil {
					res[i].err = err
					continue
				}
				if err := WriteAtomic(filepath.Join(dir, ch.file), buf.Bytes()); err != nil {
					res[i].err = fmt.Errorf("chart %s: %w", ch.file, err)
					continue
				}
				res[i] = result{file: chartFile{File: ch.file, Title: ch.title, PNG: buf.Bytes()}, ok: true}
			}
		})
	}
	for i := range builders {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []chartFile
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
		if r.ok {
			out = append(out, r.file)
		}
	}
	return out, nil
}

// chartBuilders lists the charts of a run in the order the documents show them.
func chartBuilders(d *runData, opt Options) []func() *chart {
	return append([]func() *chart{
		func() *chart { return throughputChart(d, opt, false) },
		func() *chart { return throughputChart(d, opt, true) },
		func() *chart { return latencyChart(d, opt) },
		func() *chart { return percentileChart(d) },
		func() *chart { return pathsChart(d, opt) },
		func() *chart { return deviceChart(d, opt) },
	}, append(append(curveCharts(d), sweepCharts(d)...), steadyCharts(d)...)...)
}

// dpi is the charts' resolution; px converts pixels to points at it.
const dpi = 96

func px(n float64) vg.Length { return vg.Length(n * 72 / dpi) }

// draw renders the chart; xPixel maps a data x of the first panel to its
// image column (for tests).
func (ch *chart) draw(w, h int) (*image.RGBA, func(x float64) int) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cv := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(dpi))
	dc := draw.New(cv)
	// Title across the top, legend in a column to the right: neither
	// overlaps the data.
	title := draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-px(44), 0)
	tsty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(15)), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
	title.FillText(tsty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: (title.Min.Y + title.Max.Y) / 2}, ch.title)
	legendW := vg.Length(0)
	if len(ch.legend) > 0 {
		legendW = px(250)
	}
	area := draw.Crop(dc, px(8), -legendW-px(ch.labelW), px(8), -px(48))
	tiles := draw.Tiles{Rows: len(ch.panels), Cols: 1, PadY: px(16)}
	grid := make([][]*plot.Plot, len(ch.panels))
	for i, p := range ch.panels {
		grid[i] = []*plot.Plot{p}
	}
	cs := plot.Align(grid, tiles, area)
	for i, p := range ch.panels {
		p.Draw(cs[i][0])
	}
	if len(ch.legend) > 0 {
		lc := draw.Crop(dc, dc.Max.X-dc.Min.X-legendW+px(12), 0, px(8), -px(56))
		leg := plot.NewLegend()
		leg.Left, leg.Top = true, true
		leg.ThumbnailWidth = px(40)
		leg.TextStyle.Font.Size = vg.Points(11)
		leg.Padding = px(6)
		for _, it := range ch.legend {
			leg.Add(it.name, it.thumb)
		}
		leg.Draw(lc)
	}
	out := cv.Image().(*image.RGBA)
	p0 := ch.panels[0]
	data := p0.DataCanvas(cs[0][0])
	xf, _ := p0.Transforms(&data)
	return out, func(x float64) int { return int(math.Round(float64(xf(x)) * dpi / 72)) }
}

// newPanel makes a panel with the house look: mm:ss time axis, grid.
func newPanel(ylabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text = "elapsed (mm:ss)"
	p.X.Tick.Marker = clockTicks{}
	p.Y.Tick.Marker = thousandsTicks{}
	p.Y.Label.Text = ylabel
	// Tick labels at 11 pt stay legible when report.html scales a chart
	// to the page's width (to about 80%).
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	return p
}

// title names the run: scenario, targets, start.
func (d *runData) title(what string) string {
	var names []string
	for _, t := range d.run.Targets {
		names = append(names, t.Name)
	}
	if len(names) == 0 {
		names = uniqueTargets(d.ivs)
	}
	s := fmt.Sprintf("%s — scenario %s", what, d.run.Scenario)
	if len(names) > 0 {
		s += ", target " + strings.Join(names, ", ")
	}
	if !d.t0.IsZero() {
		s += ", " + d.t0.UTC().Format("2006-01-02 15:04:05Z")
	}
	return s
}

func uniqueTargets(ivs []IntervalRow) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range ivs {
		if !seen[r.Target] {
			seen[r.Target] = true
			out = append(out, r.Target)
		}
	}
	return out
}

func (d *runData) x(t time.Time) float64 { return t.Sub(d.t0).Seconds() }

// span is a shaded stretch of time.
type span struct {
	X0, X1 float64
	Label  string
}

// phaseSpans returns each phase's time span, from the phase events or
// else from the phase results.
func (d *runData) phaseSpans() []span {
	var out []span
	open := map[string]int{}
	for _, e := range d.events {
		switch e.Kind {
		case workload.EvPhaseStart:
			open[e.Phase] = len(out)
			out = append(out, span{X0: d.x(e.Time), X1: math.NaN(), Label: e.Phase})
		case workload.EvPhaseEnd:
			if i, ok := open[e.Phase]; ok {
				out[i].X1 = d.x(e.Time)
				delete(open, e.Phase)
			}
		}
	}
	if len(out) == 0 {
		idx := map[string]int{}
		for _, p := range d.run.Phases {
			i, ok := idx[p.Phase]
			if !ok {
				idx[p.Phase] = len(out)
				out = append(out, span{X0: d.x(p.Start), X1: d.x(p.End), Label: p.Phase})
				continue
			}
			out[i].X0 = min(out[i].X0, d.x(p.Start))
			out[i].X1 = max(out[i].X1, d.x(p.End))
		}
	}
	end := d.endX()
	for i := range out {
		if math.IsNaN(out[i].X1) {
			out[i].X1 = end
		}
	}
	return out
}

// endX is the last moment the run has data for.
func (d *runData) endX() float64 {
	end := 0.0
	if !d.run.End.IsZero() {
		end = d.x(d.run.End)
	}
	for _, r := range d.ivs {
		end = max(end, d.x(r.End))
	}
	for _, e := range d.events {
		end = max(end, d.x(e.Time))
	}
	return end
}

// stallSpans returns the stalls from run.json, plus those only the events
// know of (a run killed before run.json was final).
func (d *runData) stallSpans() []span {
	var out []span
	known := map[string][]span{}
	for _, s := range d.run.Stalls {
		end := s.End
		if end.IsZero() || s.Unresolved {
			end = s.Start.Add(s.Dur)
		}
		sp := span{X0: d.x(s.Start), X1: d.x(end), Label: s.Target}
		if sp.X1 <= sp.X0 {
			sp.X1 = d.endX()
		}
		out = append(out, sp)
		known[s.Target] = append(known[s.Target], sp)
	}
	covered := func(target string, x float64) bool {
		for _, sp := range known[target] {
			if x >= sp.X0-0.5 && x <= sp.X1+0.5 {
				return true
			}
		}
		return false
	}
	open := map[string]float64{}
	for _, e := range d.events {
		switch e.Kind {
		case workload.EvStallStart:
			open[e.Target] = d.x(e.Time.Add(-e.Dur))
		case workload.EvStallEnd:
			x1 := d.x(e.Time)
			x0, ok := open[e.Target]
			if e.Dur > 0 {
				x0, ok = d.x(e.Time.Add(-e.Dur)), true
			}
			delete(open, e.Target)
			if ok && !covered(e.Target, x1) {
				out = append(out, span{X0: x0, X1: x1, Label: e.Target})
			}
		}
	}
	for tg, x0 := range open {
		if !covered(tg, x0) {
			out = append(out, span{X0: x0, X1: d.endX(), Label: tg})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].X0 < out[j].X0 })
	return out
}

// mark is a labelled moment.
type mark struct {
	X      float64
	Label  string
	Target string
}

// drillMarks are the drills' injects and recoveries and the operator's
// manual marks, each a labelled moment.
func (d *runData) drillMarks() []mark {
	var out []mark
	for _, e := range d.events {
		var l string
		switch e.Kind {
		case workload.EvDrillInject:
			l = "inject"
		case workload.EvDrillRecover:
			l = "recover"
		case workload.EvDrillMark:
			// A manual fault (the dashboard's m, lunbench mark) is an
			// event of the same weight as a scripted inject.
			l = "mark"
		default:
			continue
		}
		if e.Detail != "" {
			l += ": " + e.Detail
		}
		if len(l) > 40 {
			l = l[:39] + "…"
		}
		out = append(out, mark{X: d.x(e.Time), Label: l, Target: e.Target})
	}
	return out
}

// decorate adds the data to a time panel between its decorations: phase
// bands and grid under it; stall spans, drill lines and phase names over
// it, so a filled area cannot hide them.
func (d *runData) decorate(p *plot.Plot, legend *[]legendItem, withLabels bool, data ...plot.Plotter) {
	d.decorateFor(p, "", legend, withLabels, data...)
}

// decorateFor is decorate for a panel of one target ("" = all): other
// targets' stalls and drills are left out.
func (d *runData) decorateFor(p *plot.Plot, target string, legend *[]legendItem, withLabels bool, data ...plot.Plotter) {
	spans := d.phaseSpans()
	p.Add(&bands{spans: spans}, gridLines{})
	p.Add(data...)
	p.X.Min, p.X.Max = 0, max(d.endX(), 1)
	if p.X.Max >= 3600 && p.X.Label.Text != "" {
		p.X.Label.Text = "elapsed (h:mm:ss)"
	}
	var stalls []span
	for _, s := range d.stallSpans() {
		if target == "" || s.Label == target {
			stalls = append(stalls, s)
		}
	}
	if len(stalls) > 0 {
		p.Add(&stallSpans{spans: stalls})
	}
	var marks []mark
	for _, m := range d.drillMarks() {
		if target == "" || m.Target == "" || m.Target == target {
			marks = append(marks, m)
		}
	}
	if len(marks) > 0 {
		p.Add(&vlines{marks: marks, labels: withLabels})
	}
	if withLabels {
		p.Add(&bands{spans: spans, labels: true})
		reserveLabelBand(p)
	}
	if legend != nil {
		if len(stalls) > 0 {
			*legend = append(*legend, legendItem{"stall (in flight, none completing)", &stallSpans{}})
		}
		if len(marks) > 0 {
			*legend = append(*legend, legendItem{"drill or manual mark", &vlines{}})
		}
	}
}

// opSeries groups the intervals by target × op, in time order. The
// grouping is made once per runData: three charts use it, and a 24 h run
// has hundreds of thousands of rows.
func (d *runData) opSeries() (keys []phaseKey, rows map[phaseKey][]*IntervalRow) {
	if d.opRows != nil {
		return d.opKeys, d.opRows
	}
	keys, rows = groupBy(d.ivs, func(r *IntervalRow) (phaseKey, bool) { return phaseKey{Target: r.Target, Op: r.Op}, true })
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Target != keys[j].Target {
			return keys[i].Target < keys[j].Target
		}
		return keys[i].Op < keys[j].Op
	})
	for _, k := range keys {
		rs := rows[k]
		less := func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) }
		if !sort.SliceIsSorted(rs, less) { // they are, as written
			sort.SliceStable(rs, less)
		}
	}
	d.opKeys, d.opRows = keys, rows
	return keys, rows
}

// groupBy splits the rows that key accepts into groups, keys in the order
// first seen, each group in row order. Groups point into rows and are
// allocated at their exact size: copying a 24 h run's rows group by
// group doubled the report's memory.
func groupBy[T any, K comparable](rows []T, key func(*T) (K, bool)) ([]K, map[K][]*T) {
	var keys []K
	count := map[K]int{}
	for i := range rows {
		if k, ok := key(&rows[i]); ok {
			if _, seen := count[k]; !seen {
				keys = append(keys, k)
			}
			count[k]++
		}
	}
	groups := make(map[K][]*T, len(keys))
	for _, k := range keys {
		groups[k] = make([]*T, 0, count[k])
	}
	for i := range rows {
		if k, ok := key(&rows[i]); ok {
			groups[k] = append(groups[k], &rows[i])
		}
	}
	return keys, groups
}

func (d *runData) step() float64 {
	if d.run.IntervalSec > 0 {
		return d.run.IntervalSec
	}
	return 1
}

// timeSeries makes x (interval mid-points) and y from rows, with a NaN
// wherever intervals are missing, so the line breaks instead of
// bridging a gap.
func (d *runData) timeSeries(rs []*IntervalRow, y func(*IntervalRow) float64) (xs, ys []float64) {
	step := d.step()
	last := math.Inf(-1)
	xs, ys = make([]float64, 0, len(rs)+8), make([]float64, 0, len(rs)+8)
	for _, r := range rs {
		x0, x1 := d.x(r.Start), d.x(r.End)
		if x0-last > 0.5*step && !math.IsInf(last, -1) {
			xs, ys = append(xs, (last+x0)/2), append(ys, math.NaN())
		}
		xs, ys = append(xs, (x0+x1)/2), append(ys, y(r))
		last = x1
	}
	return xs, ys
}

func targetIndex(d *runData) map[string]int {
	idx := map[string]int{}
	for _, t := range uniqueTargets(d.ivs) {
		idx[t] = len(idx)
	}
	return idx
}

// throughputChart is MiB/s (or IOPS) over time per target × op, one
// panel per target (a second target drawn dashed over the first vanished
// under it), each panel decorated with its own target's stalls and drills.
// A long run is drawn as bucket means over a light min/max envelope.
func throughputChart(d *runData, opt Options, iops bool) *chart {
	keys, rows := d.opSeries()
	if len(keys) == 0 {
		return nil
	}
	ch := &chart{file: "throughput.png", title: d.title("Throughput")}
	ylabel := "throughput (MiB/s)"
	if iops {
		ch.file, ch.title = "iops.png", d.title("IOPS")
		ylabel = "IOPS (I/Os per second)"
	}
	targets := uniqueTargets(d.ivs)
	envelope := false
	for _, tg := range targets {
		p := newPanel(ylabel)
		if len(targets) > 1 {
			p.Title.Text = tg
		}
		var data []plot.Plotter
		var legend []legendItem
		for _, k := range keys {
			if k.Target != tg {
				continue
			}
			xs, ys := d.timeSeries(rows[k], func(r *IntervalRow) float64 {
				if iops {
					return r.IOPS
				}
				return r.MiBs
			})
			s, env := meanOverEnvelope(xs, ys, draw.LineStyle{Color: opColor(k.Op), Width: px(2.5)}, shade(opColor(k.Op), 0.7), opt)
			if env != nil {
				data = append(data, env)
				envelope = true
			}
			data = append(data, s)
			legend = append(legend, legendItem{k.Op.String(), s})
		}
		d.decorateFor(p, tg, &legend, true, data...)
		for _, it := range legend { // every panel draws an op alike: one entry
			ch.legend = appendLegend(ch.legend, it)
		}
		p.Y.Min = 0
		p.Y.Max *= 1.04
		ch.panels = append(ch.panels, p)
	}
	if envelope {
		ch.title += " (lines: mean per bucket; light: min/max)"
	}
	ch.oneTimeLabel()
	return ch
}

// logY puts the y axis on a log scale of seconds from the decade below lo
// to hi.
func logY(p *plot.Plot, lo, hi float64) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = latencyTicks{}
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.Y.Max = hi
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min * 10
	}
}

// maxX is where the percentile chart puts the maximum.
const maxX = 5

// nines maps a percentile to the "nines" axis: 90 → 1, 99 → 2, 99.9 → 3.
func nines(q float64) float64 { return -math.Log10(1 - q/100) }

// percentileChart draws each phase × target × op's latency against
// percentile on a nines axis, from the merged hlog files or else from
// the summary in run.json.
func percentileChart(d *runData) *chart {
	if len(d.run.Phases) == 0 {
		return nil
	}
	ch := &chart{file: "latency_percentiles.png", title: d.title("Latency by percentile"), labelW: 150}
	labels := &endLabels{}
	p := newNinesPanel()
	multiT := len(d.run.Targets) > 1
	lo, hi := math.Inf(1), math.Inf(-1)
	phaseNo := map[string]int{}
	for _, pr := range d.run.Phases {
		if _, ok := phaseNo[pr.Phase]; !ok {
			phaseNo[pr.Phase] = len(phaseNo)
		}
		qs, vs := d.percentileCurve(pr)
		if len(qs) == 0 {
			continue
		}
		for _, v := range vs {
			lo, hi = min(lo, v), max(hi, v)
		}
		// A colour per phase (phases of one op used to share the op's
		// colour); writes dashed, reads solid.
		n := phaseNo[pr.Phase]
		var dash []vg.Length
		if pr.Op == workload.Write {
			dash = []vg.Length{vg.Points(7), vg.Points(3)}
		}
		sty := draw.LineStyle{Color: phaseColor(n), Width: px(2.5), Dashes: dash}
		name := pr.Phase + " " + pr.Op.String()
		if multiT {
			name = pr.Phase + " " + pr.Target + " " + pr.Op.String()
		}
		it := addNinesCurve(p, qs, vs, sty, n, name)
		ch.legend = append(ch.legend, it)
		labels.add(it.thumb.(*both).l, name)
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	logY(p, lo, hi*1.3)
	p.Add(labels)
	ch.panels = []*plot.Plot{p}
	return ch
}

// newNinesPanel is a panel of latency (log scale) against percentile on
// the nines axis, from 50% to the max.
func newNinesPanel() *plot.Plot {
	p := plot.New()
	p.X.Label.Text = "percentile (log scale of nines; max at the right)"
	p.Y.Label.Text = "latency (log scale)"
	p.X.Tick.Marker = ninesTicks{}
	p.X.Min, p.X.Max = nines(50), maxX
	p.Add(gridLines{})
	return p
}

// percentileCurve is a phase × target × op's latency (seconds) against
// the nines axis: from the merged hlog files when there are any, else
// from the summary in run.json; the exact max at the right. Empty when
// nothing was measured.
func (d *runData) percentileCurve(pr workload.PhaseResult) (qs, vs []float64) {
	if h := d.hists[phaseKey{pr.Phase, pr.Target, pr.Op}]; h != nil {
		// 20 points per nine, landing exactly on 90, 99, 99.9, 99.99.
		xs := []float64{nines(50)}
		for n := 7; n <= 80; n++ {
			xs = append(xs, float64(n)/20)
		}
		for _, x := range xs {
			q := 100 * (1 - math.Pow(10, -x))
			v := float64(h.ValueAtPercentile(q)) / 1e9
			if pr.Lat.Max > 0 {
				v = min(v, pr.Lat.Max.Seconds())
			}
			qs, vs = append(qs, x), append(vs, v)
		}
	} else {
		l := pr.Lat
		for i, v := range []time.Duration{l.P50, l.P90, l.P99, l.P999, l.P9999} {
			if v > 0 {
				qs, vs = append(qs, nines([]float64{50, 90, 99, 99.9, 99.99}[i])), append(vs, v.Seconds())
			}
		}
	}
	if len(qs) > 0 && pr.Lat.Max > 0 { // the exact max, one step right of 99.99%
		qs, vs = append(qs, maxX), append(vs, pr.Lat.Max.Seconds())
	}
	return qs, vs
}

// addNinesCurve draws a percentile curve on a nines panel, with the n-th
// marker shape at the five nines the tables quote and at the max, and
// returns its legend entry.
func addNinesCurve(p *plot.Plot, qs, vs []float64, sty draw.LineStyle, n int, name string) legendItem {
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}, draw.PlusGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}
	s := &line{xs: qs, ys: vs, style: sty}
	var mx, my []float64
	for _, x := range []float64{nines(50), 1, 2, 3, 4, maxX} {
		for i := range qs {
			if math.Abs(qs[i]-x) < 1e-6 {
				mx, my = append(mx, x), append(my, vs[i])
			}
		}
	}
	pts := &points{xs: mx, ys: my, glyph: draw.GlyphStyle{Color: sty.Color, Radius: px(5), Shape: glyphs[n%len(glyphs)]}}
	p.Add(s, pts)
	return legendItem{name, &both{s, pts}}
}

// pathsChart stacks per-path throughput per target from diskstats.csv.
func pathsChart(d *runData, opt Options) *chart {
	pkeys, prows := groupBy(d.disk, func(r *diskRow) ([2]uint32, bool) { return [2]uint32{r.Target, r.Device}, r.Path })
	byTarget := map[string]map[string][]*diskRow{}
	var targets []string
	for _, k := range pkeys {
		tg, dev := d.diskNames[k[0]], d.diskNames[k[1]]
		if byTarget[tg] == nil {
			byTarget[tg] = map[string][]*diskRow{}
			targets = append(targets, tg)
		}
		byTarget[tg][dev] = prows[k]
	}
	if len(targets) == 0 {
		return nil
	}
	sort.Strings(targets)
	ch := &chart{file: "paths.png"}
	var names []string
	for _, tg := range targets {
		names = append(names, d.targetName(tg))
	}
	// The title names the targets drawn: those with paths, not every
	// target of the run.
	ch.title = fmt.Sprintf("Throughput per path (stacked, read + write) — scenario %s, target %s", d.run.Scenario, strings.Join(names, ", "))
	if !d.t0.IsZero() {
		ch.title += ", " + d.t0.UTC().Format("2006-01-02 15:04:05Z")
	}
	long := false
	colorOf := map[string]color.RGBA{}
	for ti, tg := range targets {
		p := newPanel("MiB/s")
		name := d.targetName(tg)
		p.Title.Text = name
		if name != tg {
			p.Title.Text = name + " (" + tg + ")"
		}
		var devs []string
		for dev := range byTarget[tg] {
			devs = append(devs, dev)
		}
		sort.Strings(devs)
		// Stack on a common time grid: the sampler writes every path of a
		// target at the same instant.
		// Walk the sorted rows rather than index them by time in maps: a
		// 24 h run has 86,400 instants per path.
		var times []int64
		for _, dev := range devs {
			rs := byTarget[tg][dev]
			if less := func(i, j int) bool { return rs[i].UnixNano < rs[j].UnixNano }; !sort.SliceIsSorted(rs, less) {
				sort.SliceStable(rs, less)
			}
			for _, r := range rs {
				times = append(times, r.UnixNano)
			}
		}
		slices.Sort(times)
		times = slices.Compact(times)
		var layers []*stackLayer
		var base []float64
		for _, dev := range devs {
			xs, vals := pathSeries(d, byTarget[tg][dev], times)
			if n := opt.Buckets / 4; len(xs) > 3*opt.Buckets && n > 0 {
				// A long run: the mean per bucket, stacked, so the bands
				// keep their shape instead of becoming noise.
				xs, vals = bucketMeans(xs, vals, n)
				for i := range vals {
					vals[i] = nz(vals[i])
				}
				long = true
			}
			if base == nil {
				base = make([]float64, len(xs))
			}
			l := &stackLayer{buckets: opt.Buckets, xs: xs, lo: make([]float64, len(xs)), hi: make([]float64, len(xs))}
			for i, v := range vals {
				l.lo[i] = base[i]
				base[i] += v
				l.hi[i] = base[i]
			}
			c, ok := colorOf[dev]
			if !ok {
				c = pathColor(len(colorOf))
				colorOf[dev] = c
				ch.legend = append(ch.legend, legendItem{"path " + dev, l})
			}
			l.color = c
			layers = append(layers, l)
		}
		var data []plot.Plotter
		for i := len(layers) - 1; i >= 0; i-- {
			data = append(data, layers[i])
		}
		var leg *[]legendItem
		if ti == 0 {
			leg = &ch.legend
		}
		d.decorateFor(p, name, leg, true, data...)
		p.Y.Min = 0
		p.Y.Max *= 1.04
		ch.panels = append(ch.panels, p)
	}
	if long {
		ch.title += " (mean per bucket)"
	}
	ch.oneTimeLabel()
	return ch
}

// pathSeries is one path's MiB/s (read + write) at each of the target's
// sample times, 0 where the path has no sample; x is the middle of what
// the rate covers.
func pathSeries(d *runData, rs []*diskRow, times []int64) (xs, vals []float64) {
	xs, vals = make([]float64, 0, len(times)), make([]float64, 0, len(times))
	j := 0
	for _, t := range times {
		for j < len(rs) && rs[j].UnixNano < t {
			j++
		}
		// The last row at t counts (a repeated sample replaces the one before).
		var val, half float64
		for k := j; k < len(rs) && rs[k].UnixNano == t; k++ {
			val, half = (nz(rs[k].RkBs)+nz(rs[k].WkBs))/1024, rs[k].Interval/2
		}
		xs, vals = append(xs, d.x(time.Unix(0, t))-half), append(vals, val)
	}
	return xs, vals
}

// meanOverEnvelope is how a series is drawn: as it is when it has few
// points, else (a long run: more than three points a pixel, where the
// min/max line becomes a solid band) the mean of each of Buckets/4
// buckets in style, over the min/max envelope drawn thin in light (env,
// to add first; dips to zero still show in it).
func meanOverEnvelope(xs, ys []float64, style draw.LineStyle, light color.RGBA, opt Options) (s *line, env *line) {
	n := opt.Buckets / 4
	if len(xs) <= 3*opt.Buckets || n <= 0 {
		return &line{xs: xs, ys: ys, buckets: opt.Buckets, style: style}, nil
	}
	env = &line{xs: xs, ys: ys, buckets: opt.Buckets, style: draw.LineStyle{Color: light, Width: px(1)}}
	s = &line{style: style}
	s.xs, s.ys = bucketMeans(xs, ys, n)
	return s, env
}

// targetName maps diskstats.csv's target column (the name, or the path
// the user gave) to the target's name.
func (d *runData) targetName(t string) string {
	for _, tr := range d.run.Targets {
		if tr.Name == t {
			return t
		}
	}
	for _, tr := range d.run.Targets {
		if tr.Device.Path == t || tr.Device.Resolved == t {
			return tr.Name
		}
	}
	return t
}

func nz(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
