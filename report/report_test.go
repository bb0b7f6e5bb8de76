package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload"
)

// TestFormat covers the units people read in summaries.
func TestFormat(t *testing.T) {
	cases := []struct{ got, want string }{
		{Lat(860 * time.Nanosecond), "0.86µs"},                // sub-microsecond, to 10 ns
		{Lat(2560 * time.Nanosecond), "2.56µs"},               // zram: three significant digits
		{Lat(12340 * time.Nanosecond), "12.3µs"},              // tens of µs: one decimal
		{Lat(85 * time.Microsecond), "85µs"},                  // microseconds, trailing zero trimmed
		{Lat(2500 * time.Microsecond), "2.5ms"},               // milliseconds
		{Lat(40*time.Second + 2*time.Millisecond), "40.002s"}, // a failover stall stays exact
		{Lat(0), "-"},                                   // nothing measured
		{Thousands(1234567), "1,234,567"},               // separators
		{Thousands(999), "999"},                         // none needed
		{MiBps(1.5 * (1 << 20)), "1.50 MiB/s"},          // small rates keep decimals
		{MiBps(1500 * (1 << 20)), "1500 MiB/s"},         // large ones do not
		{Clock(75 * time.Second), "01:15"},              // mm:ss
		{Clock(3*time.Hour + 5*time.Second), "3:00:05"}, // h:mm:ss
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func phaseResult(phase, target string, op workload.Op, iops float64, lats ...time.Duration) workload.PhaseResult {
	h := workload.NewHistogram()
	var maxLat time.Duration
	for _, l := range lats {
		h.RecordValue(int64(l))
		maxLat = max(maxLat, l)
	}
	return workload.PhaseResult{Phase: phase, Target: target, Op: op, IOPS: iops, BytesPerSec: iops * 4096,
		Ops: uint64(len(lats)), Hist: h, Lat: workload.LatencySummary{Max: maxLat, Mean: lats[0]}}
}

// TestEvaluate checks criteria against hand-made results.
func TestEvaluate(t *testing.T) {
	res := &workload.Result{
		Phases: []workload.PhaseResult{
			phaseResult("oltp", "lun0", workload.Read, 20000, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
			phaseResult("oltp", "lun0", workload.Write, 5000, 4*time.Millisecond),
			phaseResult("seq", "lun0", workload.Read, 900, 10*time.Millisecond),
		},
		Stalls: []workload.Stall{{Phase: "oltp", Target: "lun0", Dur: 1500 * time.Millisecond}},
	}
	res.Phases[1].Errors = 2
	sc := &scenarios.Scenario{Targets: []scenarios.Target{{Name: "lun0"}}, Phases: []scenarios.Phase{
		{Name: "oltp", Targets: []string{"lun0"}}, {Name: "seq", Targets: []string{"lun0"}}}}
	cases := []struct {
		c        scenarios.Criterion
		measured []float64 // one per phase × target evaluated
		pass     []bool
	}{
		// Per-op IOPS in one phase.
		{scenarios.Criterion{Phase: "oltp", Metric: "read_iops", Cmp: scenarios.GE, Threshold: 15000}, []float64{20000}, []bool{true}},
		// Plain iops sums both ops.
		{scenarios.Criterion{Phase: "oltp", Metric: "iops", Cmp: scenarios.GE, Threshold: 30000}, []float64{25000}, []bool{false}},
		// A percentile over the read histogram, capped at the exact max.
		{scenarios.Criterion{Phase: "oltp", Metric: "read_p99", Cmp: scenarios.LE, Threshold: 0.005}, []float64{0.003}, []bool{true}},
		// Run-wide errors are a total over phases.
		{scenarios.Criterion{Metric: "errors", Cmp: scenarios.EQ, Threshold: 0}, []float64{2}, []bool{false}},
		// Run-wide latency applies to each phase separately.
		{scenarios.Criterion{Metric: "max_latency", Cmp: scenarios.LE, Threshold: 0.005}, []float64{0.004, 0.010}, []bool{true, false}},
		// max_stall comes from the stall detector; a phase without stalls measures 0.
		{scenarios.Criterion{Metric: "max_stall", Cmp: scenarios.LE, Threshold: 1}, []float64{1.5, 0}, []bool{false, true}},
	}
	for _, c := range cases {
		sc.Criteria = []scenarios.Criterion{c.c}
		got := Evaluate(sc, res, Extra{})
		if len(got) != len(c.measured) {
			t.Fatalf("%s: %d results, want %d", c.c.Metric, len(got), len(c.measured))
		}
		for i, g := range got {
			if d := g.Measured - c.measured[i]; d > 1e-4*c.measured[i]+1e-9 || d < -1e-4*c.measured[i]-1e-9 || g.Pass != c.pass[i] {
				t.Errorf("%s #%d: measured %g pass %v, want %g %v", c.c.Metric, i, g.Measured, g.Pass, c.measured[i], c.pass[i])
			}
		}
	}
	// A metric this run could not measure fails with a note, never passes silently.
	sc.Criteria = []scenarios.Criterion{{Metric: "lost_writes", Cmp: scenarios.EQ}}
	if got := Evaluate(sc, res, Extra{}); got[0].Pass || got[0].Note == "" {
		t.Fatalf("unmeasured criterion: %+v", got[0])
	}
}

// TestDirRoundTrip writes a results directory and reads it back.
func TestDirRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run")
	d, err := CreateDir(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	h := workload.NewHistogram()
	h.RecordValue(int64(250 * time.Microsecond))
	iv := workload.Interval{Start: t0, End: t0.Add(time.Second), Phase: "p", Target: "t", Op: workload.Write,
		Ops: 1000, Bytes: 4096000, Errors: 1, InFlight: 4, Hist: h,
		Lat: workload.LatencySummary{P50: 250 * time.Microsecond, P99: time.Millisecond, Max: 40 * time.Second}}
	d.Add(&workload.Snapshot{Time: t0.Add(time.Second), Elapsed: time.Second, Intervals: []workload.Interval{iv}})
	d.Event(workload.Event{Time: t0, Kind: workload.EvStallEnd, Target: "t", Dur: 1525 * time.Millisecond})
	r := &RunJSON{Scenario: "x", Status: "finished", Verdict: Pass, Start: t0}
	if err := d.WriteRun(r); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadIntervals(path)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v err %v", rows, err)
	}
	g := rows[0]
	if g.Op != workload.Write || g.Ops != 1000 || g.IOPS != 1000 || g.P50Us != 250 || g.MaxUs != 40e6 || g.Errors != 1 || !g.Start.Equal(t0) {
		t.Fatalf("row read back: %+v", g)
	}
	evs, err := ReadEvents(path)
	if err != nil || len(evs) != 1 || evs[0].Kind != workload.EvStallEnd || evs[0].Dur != 1525*time.Millisecond {
		t.Fatalf("events read back: %+v %v", evs, err)
	}
	back, err := ReadRun(path)
	if err != nil || back.Verdict != Pass || back.Scenario != "x" {
		t.Fatalf("run.json read back: %+v %v", back, err)
	}
	if _, err := os.Stat(filepath.Join(path, "hist", "p_t_write.hlog")); err != nil {
		t.Fatal(err)
	}
	// A killed run may leave half a line: what is whole still reads.
	f, _ := os.OpenFile(filepath.Join(path, "intervals.csv"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("2026-11-23T10:00:01Z,2026-11-23T10:00:0")
	f.Close()
	if rows, err := ReadIntervals(path); err != nil || len(rows) != 1 {
		t.Fatalf("truncated tail: %d rows, %v", len(rows), err)
	}
}
