package workload

import (
	"path/filepath"
	"testing"
	"time"

	"lunbench/scenarios"
)

// TestSteadyWatch sums intervals into rounds and judges the window.
func TestSteadyWatch(t *testing.T) {
	st := &scenarios.Steady{Metric: "iops", Rounds: 3, Round: 2 * time.Second, MaxExcursion: 0.2, MaxSlope: 0.1}
	sw := newSteadyWatch("p", st, time.Second)
	// Two targets' intervals per second: 1000 + 1000 ops, then steady.
	t0 := time.Unix(0, 0)
	for i, ops := range []uint64{5000, 3000, 1000, 1000, 1000, 1000, 1000, 1000} {
		iv := Interval{Ops: ops, Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i+1) * time.Second)}
		if i == 7 {
			// A late tick: the interval ran 2 s, so its ops are spread
			// over 2 s of the round, not 1.
			iv.Ops, iv.End = 2000, iv.End.Add(time.Second)
		}
		other := iv
		sw.add([]Interval{iv, other})
		if want := i == 7; sw.settled() != want {
			t.Fatalf("interval %d: settled %v, rounds %v", i, sw.settled(), sw.res.Rounds)
		}
	}
	r := sw.result()
	// Round 4 is 2000 + 4000 ops over 1 s + 2 s.
	if len(r.Rounds) != 4 || r.Rounds[0] != 8000 || r.Rounds[3] != 2000 || r.Avg != 2000 || r.Excursion != 0 {
		t.Errorf("result %+v", r)
	}
}

// TestSteadyEndToEnd preconditions a real O_DIRECT file and runs a phase
// until steady, and another whose rule cannot hold until its timeout.
func TestSteadyEndToEnd(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lbwl-steady.dat")
	src := "name: st\ntargets: [{name: f, path: " + path + ", size: 32MiB, allow_write: true}]\nphases:\n" +
		"  - {name: s, rw: randwrite, bs: 4k, qd: 2, precondition: true, until_steady: {window: 3 × 1s, max_excursion: 60%, max_slope: 60%, timeout: 30s}}\n" +
		"  - {name: never, rw: randread, bs: 4k, qd: 2, until_steady: {window: 3 × 1s, max_excursion: 0%, max_slope: 0%, timeout: 4s}}\n"
	_, res := runScenario(t, src)
	var pre uint64
	for _, pr := range res.Phases {
		if pr.Phase == "s[precondition]" {
			pre += pr.Bytes
		}
	}
	if pre < 2*32<<20 || pre > 2*32<<20+8*128<<10 {
		t.Errorf("precondition wrote %d bytes, want twice the 32 MiB range", pre)
	}
	if len(res.Steady) != 2 {
		t.Fatalf("steady results %+v", res.Steady)
	}
	s, never := res.Steady[0], res.Steady[1]
	t.Logf("s: steady %v after %d rounds %v (excursion %.2f slope %.2f); never: steady %v after %d rounds",
		s.Steady, len(s.Rounds), s.Rounds, s.Excursion, s.Slope, never.Steady, len(never.Rounds))
	if !s.Steady || len(s.Rounds) < 3 || s.Excursion > 0.6 {
		t.Errorf("s: %+v", s)
	}
	if never.Steady || len(never.Rounds) < 3 || len(never.Rounds) > 4 {
		t.Errorf("never: %+v", never)
	}
}
