package remote

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"lunbench/report"
	"lunbench/workload"
)

// TestEstimatePicksMinRTT: of several samples, the one with the smallest
// round trip sets the offset, and half of it is the uncertainty.
func TestEstimatePicksMinRTT(t *testing.T) {
	const ms = int64(time.Millisecond)
	e := Estimate([]ClockSample{
		// A slow round trip (40 ms) with an asymmetric delay: off by 15 ms.
		{Sent: 0, Agent: 5*ms + 35*ms, Received: 40 * ms},
		// A fast one (2 ms): the agent is 5 s ahead.
		{Sent: 100 * ms, Agent: 100*ms + 5000*ms + 1*ms, Received: 102 * ms},
		// Another slow one.
		{Sent: 200 * ms, Agent: 200*ms + 5000*ms + 2*ms, Received: 210 * ms},
	})
	if e.Offset != 5*time.Second || e.Uncertainty != time.Millisecond || e.MinRTT != 2*time.Millisecond || e.Samples != 3 {
		t.Errorf("estimate %+v", e)
	}
}

// TestClockOffsetCorrected: one agent's clock is 5 s ahead (the test-only
// skew), the other's is right. The coordinator measures the offset over
// the channel, and on the merged timeline both hosts start their phase at
// the barrier, together, inside the run.
func TestClockOffsetCorrected(t *testing.T) {
	d := diskDir(t)
	sc := parse(t, `name: clock
hosts: [{name: skewed}, {name: right}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 4MiB, host: skewed}
  - {name: b, path: `+filepath.Join(d, "b.dat")+`, size: 4MiB, host: right}
phases:
  - {name: p, rw: randread, bs: 4k, qd: 1, rate_iops: 200, duration: 1s}
`)
	const skew = 5 * time.Second
	t0 := time.Now()
	out, dir := run(t, context.Background(), sc, map[string]time.Duration{"skewed": skew}, false)
	t1 := time.Now()
	byName := map[string]HostSummary{}
	for _, h := range out.Hosts {
		byName[h.Name] = h
	}
	for name, want := range map[string]time.Duration{"skewed": skew, "right": 0} {
		c := byName[name].Clock
		// The estimate's own bound, plus the scheduler's noise on a
		// shared machine between reading the clock and writing the line.
		slack := c.Uncertainty + 2*time.Millisecond
		if err := c.Offset - want; err < -slack || err > slack {
			t.Errorf("%s: offset %v, want %v ± %v", name, c.Offset, want, slack)
		}
		t.Logf("%s: measured offset %v (true %v), uncertainty %v, error %v", name, c.Offset, want, c.Uncertainty, c.Offset-want)
	}
	evs, err := report.ReadEvents(dir)
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]time.Time{}
	for _, e := range evs {
		if e.Kind == workload.EvPhaseStart {
			starts[e.Host] = e.Time
		}
		if e.Host != "" && (e.Time.Before(t0) || e.Time.After(t1)) {
			t.Errorf("event %s of %s at %v lies outside the run (%v .. %v): not on the coordinator's timeline", e.Kind, e.Host, e.Time, t0, t1)
		}
	}
	gap := starts["skewed"].Sub(starts["right"])
	// The barrier's start is one moment for both; what is left is the
	// clock estimate's error and each agent's wake-up.
	if len(starts) != 2 || gap < -50*time.Millisecond || gap > 50*time.Millisecond {
		t.Errorf("phase starts on the merged timeline: %v (gap %v)", starts, gap)
	}
	t.Logf("phase start gap between the hosts on the merged timeline: %v (uncorrected it would be %v)", gap, skew+gap)
	for _, p := range out.Run.Phases {
		if p.Start.Before(t0) || p.End.After(t1) {
			t.Errorf("phase result %s/%s %v..%v outside the run", p.Phase, p.Target, p.Start, p.End)
		}
	}
}
