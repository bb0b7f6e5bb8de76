package report

import (
	"bytes"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/workload"
)

// compareFixtureRun describes the compare fixtures under
// testdata/compare: results directories written by synthRun through the
// writers a real run uses (Dir, collect.DiskStatsCSV), two phases × one
// target × read and write, 20 s each. Rewrite them with
//
//	go test ./report/ -run Compare -update
func compareFixtureRun(name string) synthRun {
	s := compareBase()
	switch name {
	case "slow": // 20% less throughput and IOPS, 20% more latency
		s.Seed, s.TputFactor, s.LatFactor = 2, 0.8, 1.2
	case "slowlat": // 20% more latency, throughput as the baseline
		s.Seed, s.LatFactor = 6, 1.2
	case "killed": // as noise, but killed: run.json has no phase results
		s.Seed, s.TputFactor, s.LatFactor, s.Killed = 7, 0.97, 1.03, true
	case "noise": // 3% worse everywhere: noise, not a regression at 10%
		s.Seed, s.TputFactor, s.LatFactor = 3, 0.97, 1.03
	case "partial": // only the first phase: a run cut short
		s.Seed, s.Phases = 4, s.Phases[:1]
	case "stall": // as the baseline but a 1.5 s stall in each phase
		s.Seed, s.StallEvery, s.StallLen = 5, 20, 1500*time.Millisecond
	}
	return s
}

// compareBase is the baseline fixture, "base".
func compareBase() synthRun {
	return synthRun{Scenario: "nightly", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Phases: []string{"seq-read", "rand-4k"},
		Seconds: 20, Targets: []string{"lun0"}, MiBs: 300, BS: 65536, P50: 400 * time.Microsecond, P99: 1500 * time.Microsecond,
		P999: 4 * time.Millisecond, Noise: 0.01, Seed: 1}
}

// compareFixture returns testdata/compare/<name>, rewriting it first
// under -update.
func compareFixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("testdata", "compare", name)
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		compareFixtureRun(name).write(t, dir)
	}
	return dir
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		runs      []string
		threshold float64
		// regressions lists "run metric" pairs expected to regress (in
		// every phase that both runs have); nil: none.
		regressions []string
		notCompared int
	}{
		// A planted 20% drop in throughput and rise in latency.
		{"slow", []string{"base", "slow"}, 0.10, []string{"B throughput", "B iops", "B p50", "B p99", "B p99.9"}, 0},
		// 20% more latency alone (p99 among them) is a regression too.
		{"slow latency", []string{"base", "slowlat"}, 0.10, []string{"B p50", "B p99", "B p99.9"}, 0},
		// 3% worse everywhere is noise at 10%.
		{"noise", []string{"base", "noise"}, 0.10, nil, 0},
		// 3% is a regression when the threshold is 2%.
		{"tight threshold", []string{"base", "noise"}, 0.02, []string{"B throughput", "B iops", "B p50", "B p99", "B p99.9"}, 0},
		// 20% passes a 25% threshold.
		{"loose threshold", []string{"base", "slow"}, 0.25, nil, 0},
		// A phase missing from the other run: listed, not a crash, not a regression.
		{"missing phase", []string{"base", "partial"}, 0.10, nil, 2},
		// The missing phase the other way round: not in the baseline.
		{"missing in baseline", []string{"partial", "base"}, 0.10, nil, 2},
		// A stall where the baseline had none regresses whatever the threshold.
		{"new stall", []string{"base", "stall"}, 0.10, []string{"B max_stall"}, 0},
		// Three runs: only C regresses.
		{"three runs", []string{"base", "noise", "slow"}, 0.10, []string{"C throughput", "C iops", "C p50", "C p99", "C p99.9"}, 0},
		// A run against itself changes nothing.
		{"itself", []string{"base", "base"}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dirs []string
			for _, r := range tt.runs {
				dirs = append(dirs, compareFixture(t, r))
			}
			c, err := Compare(dirs, tt.threshold)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, row := range c.Rows {
				for i, cell := range row.Cells {
					if cell.Regression {
						got[c.Runs[i].Label+" "+row.Metric]++
					}
				}
			}
			for _, w := range tt.regressions {
				if got[w] == 0 {
					t.Errorf("%s: not marked as a regression (got %v)", w, got)
				}
				delete(got, w)
			}
			if len(got) > 0 {
				t.Errorf("unexpected regressions %v", got)
			}
			if (c.Regressions > 0) != (len(tt.regressions) > 0) {
				t.Errorf("Regressions = %d", c.Regressions)
			}
			if len(c.NotCompared) != tt.notCompared {
				t.Errorf("not compared: got %v, want %d", c.NotCompared, tt.notCompared)
			}
		})
	}
}

// TestCompareKilledRun compares a run killed before run.json had its
// results: throughput and IOPS come from intervals.csv, latency
// percentiles (no hlogs in the fixture) are not measured, not a crash
// and not a regression.
func TestCompareKilledRun(t *testing.T) {
	c, err := Compare([]string{compareFixture(t, "base"), compareFixture(t, "killed")}, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if c.Regressions != 0 || len(c.NotCompared) != 0 {
		t.Errorf("regressions %d, not compared %v", c.Regressions, c.NotCompared)
	}
	seen := map[string]bool{}
	for _, row := range c.Rows {
		b := row.Cells[1]
		switch row.Metric {
		case "throughput", "iops":
			if b.Missing || b.Change == nil || *b.Change > -0.02 || *b.Change < -0.04 {
				t.Errorf("%s %s %s: %+v, want about -3%%", row.Phase, row.Op, row.Metric, b)
			}
		case "p99":
			if !b.NotMeasured {
				t.Errorf("%s %s p99: %+v, want not measured", row.Phase, row.Op, b)
			}
		}
		seen[row.Metric] = true
	}
	if !seen["throughput"] || !seen["p99"] {
		t.Errorf("rows: %v", seen)
	}
}

func TestCompareChange(t *testing.T) {
	c, err := Compare([]string{compareFixture(t, "base"), compareFixture(t, "slow")}, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range c.Rows {
		if row.Metric != "p99" {
			continue
		}
		// run.json holds the latency summary exactly: +20% to the rounding of a nanosecond.
		if ch := row.Cells[1].Change; ch == nil || *ch < 0.199 || *ch > 0.201 {
			t.Errorf("%s %s p99 change %v, want +20%%", row.Phase, row.Op, ch)
		}
	}
}

// TestCompareTableGolden pins the printed table: three runs, one of them
// missing a phase.
func TestCompareTableGolden(t *testing.T) {
	c, err := Compare([]string{compareFixture(t, "base"), compareFixture(t, "slow"), compareFixture(t, "partial")}, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "compare", "table.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("table differs from %s (rerun with -update if intended):\n%s", golden, b.String())
	}
}

func TestCompareBadInput(t *testing.T) {
	empty := t.TempDir()
	notDir := filepath.Join(empty, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := compareFixture(t, "base")
	tests := []struct {
		name      string
		dirs      []string
		threshold float64
		want      string // in the error
	}{
		// One directory is nothing to compare with.
		{"one run", []string{base}, 0.1, "at least two"},
		// A directory that does not exist is named.
		{"no such dir", []string{base, filepath.Join(empty, "nope")}, 0.1, "nope"},
		// A directory without run.json is not a results directory.
		{"no run.json", []string{base, empty}, 0.1, "run.json"},
		// A file is not a results directory.
		{"a file", []string{base, notDir}, 0.1, "not a directory"},
		// A negative threshold makes no sense.
		{"negative threshold", []string{base, base}, -0.1, "threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.dirs, tt.threshold)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10%", 0.10, true}, // the usual form
		{"10", 0.10, true},  // the % is optional
		{"2.5%", 0.025, true},
		{"0", 0, true},       // any worsening at all
		{"-5%", 0, false},    // negative
		{"ten", 0, false},    // not a number
		{"", 0, false},       // empty
		{"NaN%", 0, false},   // not a number either
		{"1e400%", 0, false}, // infinite
	}
	for _, tt := range tests {
		got, err := ParseThreshold(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (got < tt.want-1e-12 || got > tt.want+1e-12)) {
			t.Errorf("ParseThreshold(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCompareCharts(t *testing.T) {
	c, err := Compare([]string{compareFixture(t, "base"), compareFixture(t, "slow"), compareFixture(t, "partial")}, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cmp")
	if err := c.WriteCharts(out, Options{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"throughput_seq-read.png", "latency_seq-read.png", "throughput_rand-4k.png", "latency_rand-4k.png"}
	if strings.Join(c.Charts, " ") != strings.Join(want, " ") {
		t.Errorf("charts %v, want %v", c.Charts, want)
	}
	for _, f := range want {
		img := readPNG(t, filepath.Join(out, f))
		if b := img.Bounds(); b.Dx() != 1600 || b.Dy() != 900 {
			t.Errorf("%s: %v, want 1600×900", f, b)
		}
		// Both the read colour and a lighter shade of it (B) are drawn.
		read := opColor(workload.Read)
		n := 0
		for y := 0; y < 900; y += 2 {
			for x := 0; x < 1300; x += 2 {
				if sameRGB(img.At(x, y), read) {
					n++
				}
			}
		}
		if n < 50 {
			t.Errorf("%s: baseline's read line not drawn (%d pixels)", f, n)
		}
	}
}

func sameRGB(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 == uint32(want.R) && g>>8 == uint32(want.G) && b>>8 == uint32(want.B)
}

func TestDefaultCompareDir(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	// Next to the baseline run, in the results root; a trailing slash changes nothing.
	if got, want := DefaultCompareDir("results/2026-01-01T00-00-00Z_a/", now), filepath.Join("results", "compare-2026-03-04T05-06-07Z"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestBucketMeans(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		xs, ys []float64
		n      int
		want   []float64 // the means; NaN for a gap
	}{
		// Two buckets of two points each.
		{"even", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2, []float64{2, 6}},
		// A gap (NaN) does not pull a mean down.
		{"gap skipped", []float64{0, 1, 2, 3}, []float64{1, nan, 5, 7}, 2, []float64{1, 6}},
		// A bucket with nothing in it stays a gap.
		{"empty bucket", []float64{0, 3}, []float64{2, 4}, 3, []float64{2, nan, 4}},
		// No series, no line.
		{"empty", nil, nil, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := bucketMeans(tt.xs, tt.ys, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if !(got[i] == tt.want[i] || math.IsNaN(got[i]) && math.IsNaN(tt.want[i])) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestCompareDocuments checks compare.md and compare.html: the slow run's
// regressions are marked in the table, each chart is embedded, and the
// throughput chart marks the regression in red beside the run's mean.
func TestCompareDocuments(t *testing.T) {
	c, err := Compare([]string{compareFixture(t, "base"), compareFixture(t, "slow")}, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cmp")
	if err := c.WriteCharts(out, Options{}); err != nil {
		t.Fatal(err)
	}
	md := c.Markdown()
	for _, want := range []string{"> ❌ **REGRESSION:", "| seq-read | lun0 | read | throughput |", "**-20.", " REGRESSION**", "![Throughput compared — phase seq-read"} {
		if !strings.Contains(md, want) {
			t.Errorf("compare.md lacks %q:\n%s", want, md)
		}
	}
	page, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if n := strings.Count(html, `<img alt=`); n != len(c.Charts) {
		t.Errorf("compare.html embeds %d charts, want %d", n, len(c.Charts))
	}
	if !strings.Contains(html, `class="n bad">-20.`) {
		t.Errorf("compare.html does not mark the throughput regression")
	}
	// The regression's label is drawn in red right of the panel.
	img := readPNG(t, filepath.Join(out, "throughput_seq-read.png"))
	red := color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	n := 0
	for y := 0; y < 900; y++ {
		for x := 1000; x < 1600; x++ {
			if sameRGB(img.At(x, y), red) {
				n++
			}
		}
	}
	if n < 20 {
		t.Errorf("no red regression label beside the throughput panel (%d red pixels)", n)
	}
}
