package report

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"lunbench/workload"
)

// copyFixture copies testdata/<name> into a temporary directory, so that
// rendering never writes into testdata.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestRenderCharts(t *testing.T) {
	dir := copyFixture(t, "run1")
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		// minInk is the least share of pixels that must not be white.
		minInk float64
	}{
		{"throughput.png", 0.2},           // phase bands cover most of the frame
		{"iops.png", 0.2},                 // same decorations as throughput
		{"latency.png", 0.2},              // per-interval percentiles on bands
		{"latency_percentiles.png", 0.01}, // curves on white
		{"paths.png", 0.2},                // the fixture has two path devices
		{"device.png", 0.2},               // three panels of the lun device
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img := readPNG(t, filepath.Join(dir, tt.file))
			if b := img.Bounds(); b.Dx() != 1600 || b.Dy() != 900 {
				t.Fatalf("size %dx%d, want 1600x900", b.Dx(), b.Dy())
			}
			ink, colours := 0, map[color.RGBA]bool{}
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y += 2 {
				for x := b.Min.X; x < b.Max.X; x += 2 {
					r, g, bl, _ := img.At(x, y).RGBA()
					if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
						ink++
					}
					colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0}] = true
				}
			}
			share := float64(ink) / float64(b.Dx()*b.Dy()/4)
			if share < tt.minInk {
				t.Errorf("only %.1f%% of pixels inked, want at least %.0f%%", share*100, tt.minInk*100)
			}
			if len(colours) < 8 {
				t.Errorf("%d colours: looks blank", len(colours))
			}
		})
	}
}

func TestNoDataNoChart(t *testing.T) {
	dir := copyFixture(t, "run1")
	if err := os.Remove(filepath.Join(dir, "diskstats.csv")); err != nil {
		t.Fatal(err)
	}
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"paths.png", "device.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written without diskstats.csv", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "throughput.png")); err != nil {
		t.Errorf("throughput.png: %v", err)
	}
}

func TestRenderMissingDir(t *testing.T) {
	err := Render(filepath.Join(t.TempDir(), "nope"), Options{})
	var in *InputError
	if err == nil || !asInputError(err, &in) {
		t.Fatalf("Render of a missing dir: %v, want an InputError", err)
	}
}

func asInputError(err error, in **InputError) bool {
	e, ok := err.(*InputError)
	*in = e
	return ok
}

// column counts the pixels of column x, inside rows y0..y1, that match.
func column(img image.Image, x, y0, y1 int, match func(r, g, b uint32) bool) int {
	n := 0
	for y := y0; y < y1; y++ {
		r, g, b, _ := img.At(x, y).RGBA()
		if match(r>>8, g>>8, b>>8) {
			n++
		}
	}
	return n
}

func TestStallAndDrillDrawnWhereTheDataSays(t *testing.T) {
	d, err := loadRunData(filepath.Join("testdata", "run1"))
	if err != nil {
		t.Fatal(err)
	}
	red := func(r, g, b uint32) bool { return r > 200 && g < 190 && b < 190 && r-g > 50 }
	purple := func(r, g, b uint32) bool { return r > 0x60 && r < 0x98 && g < 0x40 && b > 0x90 && b < 0xc0 }
	tests := []struct {
		name  string
		iops  bool
		x     float64 // seconds since the run's start
		match func(r, g, b uint32) bool
		want  bool
	}{
		{"stall middle is red", false, 26.5, red, true},          // stall 25 s to 28 s in run.json
		{"before the stall is not red", false, 22.5, red, false}, // read phase, I/O flowing
		{"write phase is not red", false, 10, red, false},        // no stall there
		{"drill inject line", false, 24, purple, true},           // drill_inject at 24 s
		{"drill recover line", false, 30, purple, true},          // drill_recover at 30 s
		{"no drill line elsewhere", false, 35, purple, false},    // nothing at 35 s
		{"iops stall too", true, 26.5, red, true},                // same decorations on iops.png
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := throughputChart(d, Options{}.withDefaults(), tt.iops)
			img, xpx := ch.draw(1600, 900)
			x := xpx(tt.x)
			n := 0
			for dx := -1; dx <= 1; dx++ {
				n = max(n, column(img, x+dx, 150, 800, tt.match))
			}
			if got := n > 100; got != tt.want {
				t.Errorf("column %d (x=%gs): %d matching pixels, want match=%v", x, tt.x, n, tt.want)
			}
		})
	}
}

func TestMinMaxIndex(t *testing.T) {
	nan := math.NaN()
	long := func(n int, f func(i int) float64) ([]float64, []float64) {
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range xs {
			xs[i], ys[i] = float64(i), f(i)
		}
		return xs, ys
	}
	tests := []struct {
		name    string
		n       int
		y       func(i int) float64
		buckets int
		keep    []int // indices that must survive
		maxLen  int
	}{
		// A short series is drawn as it is.
		{"short", 10, func(i int) float64 { return float64(i) }, 100, []int{0, 5, 9}, 10},
		// A single-interval peak in a day of flat data survives.
		{"peak", 86400, func(i int) float64 {
			if i == 40000 {
				return 1e6
			}
			return 100
		}, 3200, []int{40000}, 3*3200 + 10},
		// A one-second stall (zero throughput) is not averaged away.
		{"drop to zero", 86400, func(i int) float64 {
			if i == 50001 {
				return 0
			}
			return 100
		}, 3200, []int{50001}, 3*3200 + 10},
		// A gap stays a gap.
		{"gap", 86400, func(i int) float64 {
			if i == 7 {
				return nan
			}
			return 1
		}, 3200, []int{7}, 3*3200 + 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs, ys := long(tt.n, tt.y)
			idx := minMaxIndex(xs, ys, tt.buckets)
			if len(idx) > tt.maxLen {
				t.Errorf("%d points kept, want at most %d", len(idx), tt.maxLen)
			}
			got := map[int]bool{}
			for i, v := range idx {
				got[v] = true
				if i > 0 && v <= idx[i-1] {
					t.Fatalf("indices not increasing at %d", i)
				}
			}
			for _, k := range tt.keep {
				if !got[k] {
					t.Errorf("index %d dropped", k)
				}
			}
		})
	}
}

func TestLongRunRendersFast(t *testing.T) {
	if testing.Short() {
		t.Skip("24 h synthetic run")
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 86400
	d := &runData{run: &RunJSON{Scenario: "soak", Start: t0, End: t0.Add(n * time.Second), IntervalSec: 1}, t0: t0}
	d.ivs = make([]IntervalRow, 0, 2*n)
	for i := 0; i < n; i++ {
		for _, op := range []workload.Op{workload.Read, workload.Write} {
			d.ivs = append(d.ivs, IntervalRow{Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i+1) * time.Second),
				Phase: "soak", Target: "lun1", Op: op, IOPS: 1000 + float64(i%7), MiBs: 100 + float64(i%13),
				P50Us: 500, P99Us: 2000, P999Us: 5000, MaxUs: 9000})
		}
	}
	d.run.Stalls = []workload.Stall{{Phase: "soak", Target: "lun1", Start: t0.Add(40000 * time.Second), End: t0.Add(40001 * time.Second), Dur: time.Second}}
	start := time.Now()
	opt := Options{}.withDefaults()
	for _, ch := range []*chart{throughputChart(d, opt, false), throughputChart(d, opt, true), latencyChart(d, opt)} {
		img, xpx := ch.draw(opt.Width, opt.Height)
		if ch.file == "throughput.png" {
			// A 1 s stall in 24 h is narrower than a pixel yet must show.
			red := func(r, g, b uint32) bool { return r > 200 && g < 190 && b < 190 }
			if column(img, xpx(40000.5), 150, 800, red) < 100 {
				t.Errorf("1 s stall in a 24 h run not visible")
			}
		}
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("three charts of a 24 h run took %v", el)
	}
	t.Logf("three charts of a 24 h run: %v", time.Since(start))
}

func TestStallSpans(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	fromRun := workload.Stall{Target: "a", Start: at(10), End: at(13), Dur: 3 * time.Second}
	start := workload.Event{Time: at(10.5), Kind: workload.EvStallStart, Target: "a", Dur: 500 * time.Millisecond}
	end := workload.Event{Time: at(13), Kind: workload.EvStallEnd, Target: "a", Dur: 3 * time.Second}
	tests := []struct {
		name   string
		stalls []workload.Stall
		events []workload.Event
		want   []span
	}{
		// run.json is the exact record.
		{"run.json", []workload.Stall{fromRun}, nil, []span{{10, 13, "a"}}},
		// A run killed before run.json was final: the events still place it.
		{"events only", nil, []workload.Event{start, end}, []span{{10, 13, "a"}}},
		// Both: drawn once.
		{"both", []workload.Stall{fromRun}, []workload.Event{start, end}, []span{{10, 13, "a"}}},
		// Still stalled when the run ended: to the end of the run.
		{"unfinished", nil, []workload.Event{start}, []span{{10, 60, "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &runData{run: &RunJSON{Start: t0, End: at(60), Stalls: tt.stalls}, events: tt.events, t0: t0}
			got := d.stallSpans()
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i].X0-tt.want[i].X0) > 1e-6 || math.Abs(got[i].X1-tt.want[i].X1) > 1e-6 || got[i].Label != tt.want[i].Label {
					t.Errorf("span %d: got %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestRenderRunJSONOnly(t *testing.T) {
	// A run that died at once leaves run.json and little else: the
	// documents are still written, and no empty chart frames.
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "run1", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.html", "junit.xml", "latency_percentiles.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"throughput.png", "iops.png", "latency.png", "paths.png", "device.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written without data", f)
		}
	}
}

// TestDeviceChartDrawsStallsInFlightAndSharedNote checks the device chart
// of run1 where the pixels say: the stall (25 s to 28 s) shaded red in its
// panels, the in-flight line drawn, and, for a file target's filesystem
// device, the note that the disk is shared.
func TestDeviceChartDrawsStallsInFlightAndSharedNote(t *testing.T) {
	d, err := loadRunData(filepath.Join("testdata", "run1"))
	if err != nil {
		t.Fatal(err)
	}
	red := func(r, g, b uint32) bool { return r > 200 && g < 190 && b < 190 && r-g > 50 }
	ch := deviceChart(d, Options{}.withDefaults())
	img, xpx := ch.draw(1600, 900)
	if n := column(img, xpx(26.5), 100, 850, red); n < 300 {
		t.Errorf("stall column: %d red pixels over the three panels, want the stall shaded in each", n)
	}
	if n := column(img, xpx(10), 100, 850, red); n > 20 {
		t.Errorf("write phase: %d red pixels, want no shading", n)
	}
	teal := inFlightColor()
	found := 0
	for y := 300; y < 600; y++ {
		for x := 100; x < 1300; x += 3 {
			if sameRGB(img.At(x, y), teal) {
				found++
			}
		}
	}
	if found < 50 {
		t.Errorf("in-flight line: %d pixels of its colour in the middle panel", found)
	}
	if strings.Contains(ch.panels[0].Title.Text, "shared") {
		t.Errorf("a LUN's device is not shared, yet the panel says %q", ch.panels[0].Title.Text)
	}
	for i := range d.disk {
		d.disk[i].FS = true // as for a file target: the filesystem's disk
	}
	if ch := deviceChart(d, Options{}.withDefaults()); !strings.Contains(ch.panels[0].Title.Text, "filesystem device dm-3: shared; other processes' I/O included") {
		t.Errorf("filesystem device panel title %q, want the shared-disk note", ch.panels[0].Title.Text)
	}
}

func TestFitText(t *testing.T) {
	sty := draw.TextStyle{Font: font.From(plot.DefaultFont, vg.Points(11)), Handler: plot.DefaultTextHandler}
	room := sty.Width("loop7 (box) w_await")
	for _, tc := range []struct{ in, want string }{
		// What fits is kept whole.
		{"loop7 (box) w_await", "loop7 (box) w_await"},
		{"vda", "vda"},
		// What does not is cut, with an ellipsis, to fit.
		{"vda (/var/tmp/lb16r-look.dat) w_await", ""},
	} {
		got := fitText(sty, tc.in, room)
		if tc.want != "" && got != tc.want {
			t.Errorf("fitText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.want == "" && (!strings.HasSuffix(got, "…") || sty.Width(got) > room || !strings.HasPrefix(tc.in, strings.TrimSuffix(got, "…"))) {
			t.Errorf("fitText(%q) = %q: want a prefix with an ellipsis at most %v wide (is %v)", tc.in, got, room, sty.Width(got))
		}
	}
}

// TestLongDeviceChartIsMeansOverEnvelope: hours of %util sampled every
// second are a solid band unless drawn as bucket means over an envelope.
func TestLongDeviceChartIsMeansOverEnvelope(t *testing.T) {
	// Two hours at 1 s are well over 3 × the chart's buckets: a long run.
	dir := t.TempDir()
	s := soak24h()
	s.Seconds, s.Targets = 7200, []string{"lun0"}
	s.write(t, dir)
	d, err := loadRunData(dir)
	if err != nil {
		t.Fatal(err)
	}
	ch := deviceChart(d, Options{}.withDefaults())
	if ch == nil || !strings.HasSuffix(ch.title, "(lines: mean per bucket; light: min/max)") {
		t.Fatalf("device chart of a 2 h run: %+v, want a title naming means and envelopes", ch)
	}
	// The envelope of %util (grey 0x333333 lightened 75%) fills a band.
	img, _ := ch.draw(1600, 900)
	env := shade(color.RGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}, 0.75)
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if img.RGBAAt(x, y) == env {
				n++
			}
		}
	}
	if n < 10000 {
		t.Errorf("%d pixels of the %%util envelope's colour, want a band (10,000 or more)", n)
	}
}
