package workload

import (
	"math"
	"path/filepath"
	"testing"
)

// TestArrivalEndToEnd runs a Poisson open-loop phase and a closed-loop
// phase with think time against a real O_DIRECT file. Bounds come from the
// configuration: a Poisson process of rate λ over T seconds counts λT ± a
// few √(λT); qd slots that each pause `think` after every I/O cannot
// exceed qd/think I/Os a second.
func TestArrivalEndToEnd(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lbwl-arrival.dat")
	const rate = 400.0
	const qd, think = 2, 0.005
	src := "name: a\ntargets: [{name: f, path: " + path + ", size: 16MiB}]\nphases:\n" +
		"  - {name: poisson, rw: randread, bs: 4k, qd: 4, rate_iops: 400, rate_process: poisson, duration: 2s}\n" +
		"  - {name: think, rw: randread, bs: 4k, qd: 2, think: 5ms, duration: 1s}\n"
	_, res := runScenario(t, src)
	for _, pr := range res.Phases {
		t.Logf("%s: %d I/Os (%d missed) in %.2fs: %.0f IOPS", pr.Phase, pr.Ops, pr.Missed, pr.Seconds, pr.IOPS)
		switch pr.Phase {
		case "poisson":
			want := rate * pr.Seconds
			// 5 standard deviations of a Poisson count, and 5% for
			// timer slack on a loaded machine.
			if got := float64(pr.Ops + pr.Missed); got < want*0.95-5*math.Sqrt(want) || got > want*1.05+5*math.Sqrt(want) {
				t.Errorf("poisson: %v I/Os (%d missed) in %.2fs, want %.0f", pr.Ops, pr.Missed, pr.Seconds, want)
			}
		case "think":
			if limit := qd / think * pr.Seconds; float64(pr.Ops) > limit*1.01 || pr.Ops < 10 {
				t.Errorf("think: %d I/Os in %.2fs; qd %d with %vs think allow at most %.0f", pr.Ops, pr.Seconds, qd, think, limit)
			}
		}
	}
}
