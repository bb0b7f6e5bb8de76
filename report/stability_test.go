package report

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lunbench/workload"
)

// cvRows makes one phase × target × op's intervals with the given MiB/s.
func cvRows(phase, target string, op workload.Op, mibs ...float64) []IntervalRow {
	var out []IntervalRow
	t0 := time.Unix(1000, 0)
	for i, v := range mibs {
		out = append(out, IntervalRow{Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i+1) * time.Second),
			Phase: phase, Target: target, Op: op, MiBs: v})
	}
	return out
}

func TestCVMeasureAndWarnings(t *testing.T) {
	rows := append(cvRows("steady", "lun0", workload.Read, 100, 100, 100, 100),
		cvRows("swing", "lun0", workload.Write, 10, 190, 10, 190)...)
	m := CVMeasure(rows)
	for _, tc := range []struct {
		metric, phase string
		ok            bool
	}{
		{"throughput_cv", "steady", true},      // flat: no variation
		{"throughput_cv", "swing", true},       // value checked below
		{"read_throughput_cv", "swing", false}, // no reads in that phase
		{"throughput_cv", "", true},            // the worst over the run, checked below
		{"p99", "swing", false},                // not this measure's metric
	} {
		_, ok := m(tc.metric, tc.phase, "lun0")
		if ok != tc.ok {
			t.Errorf("%s %s: ok %v, want %v", tc.metric, tc.phase, ok, tc.ok)
		}
	}
	if v, _ := m("throughput_cv", "swing", "lun0"); math.Abs(v-0.9) > 0.001 {
		t.Errorf("CV of 10,190,10,190 = %.4f, want 0.9 (population stddev 90 / mean 100)", v)
	}
	if v, _ := m("throughput_cv", "", "lun0"); math.Abs(v-0.9) > 0.001 {
		t.Errorf("worst CV over the run = %.4f, want the swinging phase's 0.9", v)
	}
	series := ThroughputStats(rows)
	w := cvWarnings(series, nil)
	if len(w) != 1 || !strings.Contains(w[0], "throughput of swing on lun0 (write) was unsteady: CV 90.0% over") {
		t.Errorf("warnings without a criterion = %q, want one for the swinging phase", w)
	}
	// Several unsteady series: one warning naming each.
	two := append([]SeriesStats(nil), series...)
	for _, s := range series {
		if s.CV > DefaultCVWarn {
			s.Target = "lun1"
			two = append(two, s)
		}
	}
	w = cvWarnings(two, nil)
	if len(w) != 1 || !strings.Contains(w[0], "unsteady in 2 series: swing on lun0 (write): CV 90.0%") ||
		!strings.Contains(w[0], "; swing on lun1 (write): CV 90.0%") {
		t.Errorf("warnings for two unsteady series = %q, want one naming both", w)
	}
	if w := cvWarnings(series, []CriterionResult{{Metric: "throughput_cv", Threshold: 2}}); len(w) != 0 {
		t.Errorf("with a throughput_cv criterion the criteria table judges it; got warnings %q", w)
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct {
		span, want float64
	}{
		{15, 2},     // aqu-sz 0..15: 0, 2, 4 ... not 0, 2.5 (shown as 3), 5
		{180, 25},   // 0, 25, 50 ... 175 are exact
		{8, 1},      // whole steps
		{1.5, 0.2},  // below 1: 0.2, never 0.25
		{2000, 250}, // 2.5 × 100 is exact
	} {
		if got := niceStep(tc.span); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceStep(%g) = %g, want %g", tc.span, got, tc.want)
		}
	}
}

func TestSummaryFitsWidth(t *testing.T) {
	r := &RunJSON{Verdict: Pass}
	for _, ph := range []string{"seq-write-1m", "rand-read-4k-long-name"} {
		r.Phases = append(r.Phases, workload.PhaseResult{Phase: ph, Target: "scratch", Op: workload.Write, IOPS: 24233, MBps: 1643.9,
			Lat: workload.LatencySummary{Mean: 658700 * time.Nanosecond, P50: 382500 * time.Nanosecond, P99: 23230 * time.Microsecond,
				P999: 45840 * time.Microsecond, Max: 60560 * time.Microsecond}})
	}
	// A drill's line and its budget's explanation are prose longer than
	// any terminal: they wrap at word boundaries.
	r.Drills = []workload.DrillResult{{Phase: "seq-write-1m", Name: "freeze", Injected: true, Targets: []workload.DrillTarget{{
		Target: "scratch", Stalled: true, Resumed: true, Stall: 11584 * time.Millisecond, Resume: 16350 * time.Millisecond,
		Before: 70.6 * (1 << 20), After: 141 * (1 << 20), AfterRatio: 2,
		Budget: &workload.Budget{Reason: "/var/tmp/lb16r-look.dat is a file, not an iSCSI LUN; this host has no iSCSI session " +
			"(no /sys/class/iscsi_session: the kernel's iSCSI transport is not loaded)"}}}}}
	for _, tc := range []struct {
		width   int
		dropped string
	}{
		{0, ""},                           // no terminal: every column
		{132, ""},                         // wide terminal: every column
		{80, "mean, p50, p99.9 left out"}, // 80 columns: the spare columns go
		{70, "mean, p50, p99.9 left out"}, // narrower still: the long phase name is shortened with …
	} {
		var b strings.Builder
		PrintSummaryWidth(&b, r, tc.width)
		for _, l := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(l); tc.width > 0 && n > tc.width {
				t.Errorf("width %d: line of %d columns: %q", tc.width, n, l)
			}
		}
		if flat := strings.Join(strings.Fields(b.String()), " "); !strings.Contains(flat, "this host has no iSCSI session (no /sys/class/iscsi_session: the kernel's iSCSI transport is not loaded)") {
			t.Errorf("width %d: the budget's explanation lost words:\n%s", tc.width, b.String())
		}
		if got := strings.Contains(b.String(), "left out"); got != (tc.dropped != "") || (got && !strings.Contains(b.String(), tc.dropped)) {
			t.Errorf("width %d: want note %q in\n%s", tc.width, tc.dropped, b.String())
		}
	}
}

func TestManualMarksAreDrawnLikeDrills(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := &runData{run: &RunJSON{}, t0: t0, events: []workload.Event{
		{Time: t0.Add(2 * time.Second), Kind: workload.EvDrillInject, Detail: "pull"},          // a scripted inject
		{Time: t0.Add(5 * time.Second), Kind: workload.EvDrillMark, Detail: "cable pulled"},    // the operator's m key
		{Time: t0.Add(6 * time.Second), Kind: workload.EvPhaseStart, Phase: "p"},               // not a mark
		{Time: t0.Add(9 * time.Second), Kind: workload.EvDrillRecover, Detail: "plug back in"}, // a scripted recover
	}}
	got := d.drillMarks()
	want := []string{"inject: pull", "mark: cable pulled", "recover: plug back in"}
	if len(got) != len(want) {
		t.Fatalf("marks %+v, want %q", got, want)
	}
	for i, m := range got {
		if m.Label != want[i] {
			t.Errorf("mark %d = %q, want %q", i, m.Label, want[i])
		}
	}
	if got[1].X != 5 {
		t.Errorf("manual mark at x=%g, want 5 (s)", got[1].X)
	}
}
