package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lunbench/workload"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestReportMarkdownGolden(t *testing.T) {
	dir := copyFixture(t, "run1")
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "run1.report.md", got)
}

func TestReportHTMLSelfContained(t *testing.T) {
	dir := copyFixture(t, "run1")
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	tests := []struct {
		name, want string
	}{
		{"verdict banner", `class="banner FAIL">Verdict: FAIL`}, // the fixture fails max_stall
		{"embedded chart", `src="data:image/png;base64,`},       // data URL, not a file link
		{"criterion row", "max_stall &lt;= 1s"},                 // escaped criterion text
		{"drill event", "drill_inject"},                         // events list
		{"scenario", "stall_threshold: 500ms"},                  // scenario.yaml as run
	}
	for _, tt := range tests {
		if !strings.Contains(html, tt.want) {
			t.Errorf("%s: report.html lacks %q", tt.name, tt.want)
		}
	}
	if n := strings.Count(html, `src="data:image/png;base64,`); n != 6 {
		t.Errorf("%d embedded images, want 6", n)
	}
	if strings.Contains(html, `src="throughput.png"`) {
		t.Errorf("report.html links a chart file instead of embedding it")
	}
}

func TestThroughputStats(t *testing.T) {
	row := func(phase string, op workload.Op, ramp bool, mibs float64) IntervalRow {
		return IntervalRow{Phase: phase, Target: "t", Op: op, Ramp: ramp, MiBs: mibs}
	}
	tests := []struct {
		name               string
		rows               []IntervalRow
		wantN              int
		mean, min, max, cv float64
	}{
		// Ramp intervals do not count.
		{"ramp excluded", []IntervalRow{row("p", workload.Read, true, 1000), row("p", workload.Read, false, 100), row("p", workload.Read, false, 100)},
			2, 100, 100, 100, 0},
		// A stalled interval pulls min to zero and shows in the CV.
		{"stall shows", []IntervalRow{row("p", workload.Write, false, 100), row("p", workload.Write, false, 0)},
			2, 50, 0, 100, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ThroughputStats(tt.rows)
			if len(s) != 1 {
				t.Fatalf("%d series, want 1", len(s))
			}
			g := s[0]
			if g.N != tt.wantN || g.Mean != tt.mean || g.Min != tt.min || g.Max != tt.max || g.CV != tt.cv {
				t.Errorf("got %+v", g)
			}
		})
	}
}
