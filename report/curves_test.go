package report

import (
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload"
)

// curveRun is a curve "c" on target lun0 with a max run and three points,
// reads and writes, plus a phase that is no curve.
func curveRun() *workload.Result {
	pt := func(label string, share, iops float64, p99 time.Duration, op workload.Op) workload.PhaseResult {
		name := scenarios.SubName("c", scenarios.Sub{Key: "curve", Value: share, Label: label})
		return workload.PhaseResult{Phase: name, Target: "lun0", Op: op, Ops: 100, IOPS: iops,
			Sub: &scenarios.Sub{Parent: "c", Key: "curve", Value: share, Label: label}, Lat: workload.LatencySummary{P50: p99 / 4, P99: p99, P999: p99 * 2}}
	}
	return &workload.Result{Phases: []workload.PhaseResult{
		pt("max", 0, 70000, 9*time.Millisecond, workload.Read), pt("max", 0, 30000, 12*time.Millisecond, workload.Write),
		pt("30%", 0.3, 21000, 400*time.Microsecond, workload.Read), pt("30%", 0.3, 9000, 600*time.Microsecond, workload.Write),
		pt("60%", 0.6, 42000, 800*time.Microsecond, workload.Read), pt("60%", 0.6, 18000, 1100*time.Microsecond, workload.Write),
		pt("90%", 0.9, 63000, 3*time.Millisecond, workload.Read), pt("90%", 0.9, 27000, 5*time.Millisecond, workload.Write),
		{Phase: "other", Target: "lun0", Op: workload.Read, Ops: 5, IOPS: 999999},
	}}
}

// TestIOPSAtP99 reads the signed-off figure off a curve: the highest IOPS
// (reads and writes together) of a point whose worse p99 is in bounds.
func TestIOPSAtP99(t *testing.T) {
	res := curveRun()
	tests := []struct {
		name    string
		latency time.Duration
		target  string
		want    float64
		ok      bool
	}{
		// 60%: write p99 1.1 ms > 1 ms, so 30% (21k + 9k) is the figure.
		{"1ms", time.Millisecond, "lun0", 30000, true},
		// 60% qualifies at 1.2 ms: 42k + 18k.
		{"1.2ms", 1200 * time.Microsecond, "lun0", 60000, true},
		// The max run counts as a point too.
		{"20ms", 20 * time.Millisecond, "lun0", 100000, true},
		// No point is fast enough: measured, and 0.
		{"100us", 100 * time.Microsecond, "lun0", 0, true},
		// A target the curve did not run on: not measured.
		{"other target", time.Millisecond, "lun1", 0, false},
	}
	for _, tc := range tests {
		c := scenarios.Criterion{Phase: "c", Metric: "iops_at_p99", Cmp: scenarios.GE, Threshold: 1, Latency: tc.latency}
		v, ok, _ := iopsAtP99(c, tc.target, res)
		if v != tc.want || ok != tc.ok {
			t.Errorf("%s: %v %v, want %v %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}

// TestCurveRowsAndCharts checks the curve table and that the curve and
// sweep charts are drawn only for runs that have them.
func TestCurveRowsAndCharts(t *testing.T) {
	res := curveRun()
	r := &RunJSON{}
	r.Phases = res.Phases
	rows := curveRows(r)
	if len(rows) != 8 || rows[0].Point != "max" || rows[0].Paced != "closed loop" || rows[1].IOPS != "21,000" || rows[1].P99 != "400µs" || rows[4].Op != "write" {
		t.Fatalf("rows %+v", rows)
	}
	d := &runData{run: r}
	if cs := curveCharts(d); len(cs) != 1 || cs[0]() == nil {
		t.Errorf("curve charts: %d", len(cs))
	}
	if cs := sweepCharts(d); len(cs) != 0 {
		t.Errorf("a run without sweeps has %d sweep charts", len(cs))
	}
	r.Phases = append(r.Phases, workload.PhaseResult{Phase: "s[qd=1]", Target: "lun0", Op: workload.Read, IOPS: 5,
		Sub: &scenarios.Sub{Parent: "s", Key: "qd", Value: 1, Label: "1"}, Lat: workload.LatencySummary{P99: time.Millisecond}})
	if cs := sweepCharts(d); len(cs) != 1 || cs[0]() == nil {
		t.Errorf("sweep charts: %d", len(cs))
	}
}
