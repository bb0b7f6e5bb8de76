package live

import (
	"strings"
	"testing"
	"time"

	"lunbench/workload"
)

// TestHostRows: in a run over several hosts the targets table groups rows
// by host with a total per host and one over all hosts, and the stall
// banner names the stalled target's host.
func TestHostRows(t *testing.T) {
	s := newSim(t, 100, 30)
	d := New(s, Options{Scenario: "two", Now: at41, Hosts: map[string]string{"lunA": "web1", "lunB": "web2"}, HostOrder: []string{"web1", "web2"}})
	end := t0.Add(40 * time.Second)
	mk := func(target string, iops float64) workload.Interval {
		return workload.Interval{Start: end.Add(-time.Second), End: end, Phase: "p", Target: target, Op: workload.Read,
			Ops: uint64(iops), Bytes: uint64(iops) * 4096, Lat: workload.LatencySummary{P50: time.Millisecond, P99: 3 * time.Millisecond, Max: 9 * time.Millisecond}}
	}
	ivs := []workload.Interval{mk("lunB", 2000), mk("lunA", 1000)}
	d.Add(&workload.Snapshot{Time: end, Elapsed: 40 * time.Second, Phase: "p", PhaseCount: 1, Slices: ivs, Intervals: ivs,
		Stalls: []workload.StallState{{Target: "lunA", Since: end.Add(-2 * time.Second), For: 2 * time.Second, InFlight: 4}}})
	d.draw()
	text := strings.Join(lines(s), "\n")
	// Rows in host order, each host's total after its targets.
	order := []string{"lunA", "Σ web1", "lunB", "Σ web2", "Σ all hosts"}
	last := -1
	for _, w := range order {
		i := strings.Index(text, w)
		if i < 0 || i < last {
			t.Fatalf("row %q missing or out of order:\n%s", w, text)
		}
		last = i
	}
	allRow := ""
	for _, l := range lines(s) {
		if strings.Contains(l, "Σ all hosts") {
			allRow = l
		}
	}
	if !strings.Contains(allRow, "3,000") {
		t.Errorf("all hosts row %q lacks the summed 3,000 IOPS", allRow)
	}
	if !strings.Contains(text, "on lunA (host web1)") {
		t.Errorf("stall banner does not name the host:\n%s", text)
	}
}
