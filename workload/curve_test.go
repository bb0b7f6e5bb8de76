package workload

import (
	"path/filepath"
	"testing"
)

// TestSweepAndCurveEndToEnd runs a queue-depth sweep and a latency-vs-load
// curve against a real O_DIRECT file: each sub-phase is a phase of its own
// in the results, and each curve point is paced at its share of the
// maximum the curve's first run measured. The curve's maximum is held to
// at most qd / think = 1000 IOPS, a pace a loaded 2-core machine keeps.
func TestSweepAndCurveEndToEnd(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lbwl-curve.dat")
	src := "name: c\ntargets: [{name: f, path: " + path + ", size: 64MiB}]\nphases:\n" +
		"  - {name: s, rw: randread, bs: 4k, duration: 500ms, sweep: {qd: [1, 4]}}\n" +
		"  - {name: c, rw: randread, bs: 4k, qd: 2, think: 2ms, duration: 1s, curve: {points: [25%, 50%], duration: 1s}}\n"
	_, res := runScenario(t, src)
	got := map[string]PhaseResult{}
	for _, pr := range res.Phases {
		got[pr.Phase] = pr
	}
	for _, name := range []string{"s[qd=1]", "s[qd=4]", "c[max]", "c[load=25%]", "c[load=50%]"} {
		pr, ok := got[name]
		if !ok || pr.Ops == 0 || pr.Sub == nil {
			t.Fatalf("phase %s: %+v", name, pr)
		}
	}
	maxIOPS := got["c[max]"].IOPS
	for _, name := range []string{"c[load=25%]", "c[load=50%]"} {
		pr := got[name]
		want := pr.Sub.Value * maxIOPS
		t.Logf("%s: paced at %.0f (%.0f%% of %.0f), achieved %.0f IOPS, p99 %v", name, pr.RateIOPS, pr.Sub.Value*100, maxIOPS, pr.IOPS, pr.Lat.P99)
		if pr.RateIOPS != want {
			t.Errorf("%s: rate %.1f, want %.1f", name, pr.RateIOPS, want)
		}
		// Slots a starved timer let pass are counted as missed (and
		// their latency charged): issued plus missed keeps the pace.
		if pr.IOPS > want*1.05+20 || float64(pr.Ops+pr.Missed)/pr.Seconds < want*0.85 {
			t.Errorf("%s: achieved %.0f IOPS (%d missed) paced at %.0f", name, pr.IOPS, pr.Missed, want)
		}
	}
}
