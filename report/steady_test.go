package report

import (
	"strings"
	"testing"

	"lunbench/workload"
)

// TestSteadyRows checks the steady-state section and chart: one row per
// phase with until_steady:, saying whether it settled or timed out.
func TestSteadyRows(t *testing.T) {
	r := &RunJSON{Steady: []workload.SteadyResult{
		{Phase: "a", Metric: "iops", Steady: true, Rounds: []float64{900, 1000, 1010, 990}, RoundSec: 60, Window: 3,
			Avg: 1000, Excursion: 0.02, Slope: -0.01, MaxExcursion: 0.2, MaxSlope: 0.1},
		{Phase: "b", Metric: "throughput", Rounds: []float64{1 << 20, 2 << 20, 3 << 20}, RoundSec: 60, Window: 3,
			Avg: 2 << 20, Excursion: 1, Slope: 1, MaxExcursion: 0.2, MaxSlope: 0.1},
	}}
	rows := steadyRows(r)
	want := []docSteady{
		{"a", "iops", "steady after 4 rounds", "3 × 60s", "1,000 IOPS", "2.0% (≤ 20%)", "-1.0% (within ±10%)", true},
		{"b", "throughput", "not steady: ran 3 rounds to its timeout", "3 × 60s", "2.0 MiB/s", "100.0% (≤ 20%)", "+100.0% (within ±10%)", false},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	var b strings.Builder
	(&doc{Steady: rows}).markdownSteady(&b)
	if !strings.Contains(b.String(), "| b | throughput | not steady: ran 3 rounds to its timeout |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	d := &runData{run: r}
	if cs := steadyCharts(d); len(cs) != 2 || cs[0]() == nil || cs[1]() == nil {
		t.Errorf("charts: %d", len(cs))
	}
}
