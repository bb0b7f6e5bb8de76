package workload

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenLoopRateEndToEnd paces 4k random reads of a sparse O_DIRECT file
// (which answers in a few µs, far above these rates) at 20,000 IOPS with
// one worker (a 50 µs slot, which time.Sleep could not keep: this phase
// reached 10–20% of its rate with it) and with eight, and checks what the
// pacer owes and what it achieved:
//   - every slot of the schedule is issued or counted missed: ops + missed
//     is rate × seconds to 1% (plus one slot per worker at each end, and
//     the canary's starvation share, below);
//   - the achieved rate is at least half the rate asked (see below), and
//     is logged with the share of the time a canary thread that asks to
//     wake every ms went unrun past pacerCatchUp (10 ms), the only way a
//     worker skips slots.
func TestOpenLoopRateEndToEnd(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lb15r-pace.dat")
	const rate = 20000.0
	src := "name: pace\ntargets: [{name: f, path: " + path + ", size: 64MiB}]\nphases:\n"
	for _, qd := range []int{1, 8} {
		src += fmt.Sprintf("  - {name: qd%d, rw: randread, bs: 4k, qd: %d, rate_iops: %g, duration: 2s}\n", qd, qd, rate)
	}
	stopCanary := make(chan struct{})
	starved := make(chan float64)
	go func() { starved <- starvation(stopCanary) }()
	_, res := runScenario(t, src)
	close(stopCanary)
	share := <-starved
	t.Logf("canary: unrun past %v for %.2f%% of the time", time.Duration(pacerCatchUp), 100*share)
	if len(res.Phases) != 2 {
		t.Fatalf("%d phase results, want 2", len(res.Phases))
	}
	for i, pr := range res.Phases {
		qd := []float64{1, 8}[i]
		want := rate * pr.Seconds
		owed := float64(pr.Ops + pr.Missed)
		t.Logf("%s: asked %.0f IOPS, achieved %.0f (%.2f%%), %d slots missed, schedule kept to %.3f%%",
			pr.Phase, rate, pr.IOPS, 100*pr.IOPS/rate, pr.Missed, 100*owed/want)
		// A worker unrun at the phase's end owes slots that no Next call
		// counted: the starvation share widens this bound, and 20 ms of
		// slots for the phase's end (a worker the host ran late then).
		if math.Abs(owed-want) > want*(0.01+share)+2*qd+rate*0.02 {
			t.Errorf("%s: %d I/Os + %d missed = %.0f slots in %.3fs, want %.0f ± 1%%", pr.Phase, pr.Ops, pr.Missed, owed, pr.Seconds, want)
		}
		// The rate itself depends on the host running the workers: on
		// this loaded 2-core VM a worker lost the CPU for more than the
		// catch-up window far more often than the sleeping canary did
		// (make test at load 25: canary 0.9%, 23% of qd8's slots
		// missed; another run 3% and 14% of qd1's). So the bound is what
		// no host load excuses: half the rate, which time.Sleep pacing
		// missed at one worker even at load 5 (it reached 10%; at qd 8
		// 63%, which this bound does not catch); the figures are logged.
		if pr.IOPS < rate*0.5 {
			t.Errorf("%s: achieved %.0f IOPS of %.0f asked (%d slots missed)", pr.Phase, pr.IOPS, rate, pr.Missed)
		}
	}
}

// starvation returns the share of the time until stop during which a
// thread that sleeps 1 ms at a time went unrun for longer than
// pacerCatchUp past its wake-up.
func starvation(stop <-chan struct{}) float64 {
	c := NewClock(time.Now())
	start := c.Now()
	var starved int64
	for {
		select {
		case <-stop:
			return float64(starved) / float64(c.Now()-start)
		default:
		}
		t0 := c.Now()
		osWait{}.Sleep(int64(time.Millisecond))
		if late := c.Now() - t0 - int64(time.Millisecond); late > pacerCatchUp {
			starved += late - pacerCatchUp
		}
	}
}
