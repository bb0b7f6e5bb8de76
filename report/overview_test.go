package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload"
)

// methodsRun is curveRun with a qd sweep, a block-size mix, a steady-state
// phase and the curve's iops_at_p99 criterion.
func methodsRun() *RunJSON {
	r := &RunJSON{}
	r.Phases = curveRun().Phases
	for i, qd := range []string{"1", "8"} {
		r.Phases = append(r.Phases, workload.PhaseResult{Phase: "s[qd=" + qd + "]", Target: "lun0", Op: workload.Read,
			IOPS: float64(1000 * (i + 1)), MBps: float64(4 * (i + 1)), Sub: &scenarios.Sub{Parent: "s", Key: "qd", Value: float64(i), Label: qd},
			Lat: workload.LatencySummary{P50: 100 * time.Microsecond, P99: time.Millisecond, P999: 2 * time.Millisecond}})
	}
	r.Phases = append(r.Phases, workload.PhaseResult{Phase: "mixed", Target: "lun0", Op: workload.Read,
		Sizes: []workload.SizeResult{{BS: 4096, Pct: 100, Ops: 10}}})
	r.Steady = []workload.SteadyResult{{Phase: "warm", Metric: "iops", Steady: true, Rounds: []float64{1, 1, 1, 1, 1}, RoundSec: 20, Window: 5}}
	r.Criteria = []CriterionResult{{Text: "iops_at_p99", Phase: "c", Target: "lun0", Metric: "iops_at_p99", Cmp: ">=",
		Threshold: 20000, ThresholdText: "20,000 IOPS at p99 <= 1ms", MeasuredText: "30,000", Pass: true}}
	return r
}

// TestMethodRows: the overview names each method the run had, where it
// is shown, and the curve's signed-off figure with its result.
func TestMethodRows(t *testing.T) {
	rows := methodRows(methodsRun())
	want := []struct{ method, has string }{
		{"block-size mix", "mixed: IOPS per size"},
		{"sweep", "s over qd (1, 8): table under Sweeps, chart sweep_s.png"},
		{"latency-vs-load curve", "signed-off figure 30,000 IOPS on lun0"},
		{"steady state", "warm: steady after 5 rounds of 20s; under Steady state, chart steady_warm.png"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		if rows[i].Method != w.method || !strings.Contains(rows[i].Detail, w.has) {
			t.Errorf("row %d: %+v, want %s containing %q", i, rows[i], w.method, w.has)
		}
	}
	if !strings.Contains(rows[2].Detail, "PASS") {
		t.Errorf("curve row without its result: %s", rows[2].Detail)
	}
	// A curve without the criterion says no figure was signed off.
	r := methodsRun()
	r.Criteria = nil
	if d := methodRows(r)[2].Detail; !strings.Contains(d, "no figure signed off") {
		t.Errorf("curve without iops_at_p99: %s", d)
	}
	// A run of plain phases has no overview.
	if rs := methodRows(&RunJSON{Phases: []workload.PhaseResult{{Phase: "p", Op: workload.Read}}}); len(rs) != 0 {
		t.Errorf("plain run: %+v", rs)
	}
}

// TestSweepSection: report.md and the console list one row per swept
// value with IOPS, MiB/s and p50/p99/p99.9, and the overview.
func TestSweepSection(t *testing.T) {
	r := methodsRun()
	d := &runData{run: r}
	md := buildDoc(d, nil).Markdown()
	for _, s := range []string{"## Workload and acceptance methods", "## Sweeps",
		"| s | qd | 8 | lun0 | read | 2,000 | 8.0 | 100µs | 1ms | 2ms |"} {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if strings.Index(md, "## Workload and acceptance methods") > strings.Index(md, "## Criteria") {
		t.Error("the overview comes after the criteria")
	}
	var con bytes.Buffer
	PrintSummary(&con, r)
	if !strings.Contains(con.String(), "workload and acceptance methods:") || !strings.Contains(con.String(), "signed-off figure 30,000 IOPS") {
		t.Errorf("console summary:\n%s", con.String())
	}
}
