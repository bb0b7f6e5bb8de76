package workload

import (
	"strings"
	"testing"
	"time"

	"lunbench/scenarios/lab/stallbox"
)

// TestEndPassStallOnStallBox runs a verified phase with a drill on the
// stall box and freezes the box while the verify pass at the phase end
// reads it, on both engines. A pass that keeps completing reads between
// short freezes (each under half the threshold) reports no stall; a pass
// whose reads are frozen for 1.5 s reports one, marked as the phase-end
// pass's, spanning the freeze, while the phase's figures, its drill and
// the drill's own pass are untouched by it; a drill too late in the phase
// for a pass of its own has the stall noted, not counted.
func TestEndPassStallOnStallBox(t *testing.T) {
	for _, engine := range []string{"threads", "io_uring"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "io_uring" {
				skipNoURing(t)
			}
			t.Run("keeps reading", func(t *testing.T) { testEndPassKeepsReading(t, engine) })
			t.Run("frozen", func(t *testing.T) { testEndPassFrozen(t, engine) })
		})
	}
	// Which drill a stall is noted on does not depend on the engine.
	t.Run("late drill (threads)", testEndPassLateDrill)
}

// testEndPassKeepsReading freezes the box for 3/8 of the threshold at a
// time, and lets it run until a read completes and for 1/8 more: a gap
// of 1/2 the threshold plus the box's time to serve a read again after a
// freeze, which on a loaded 2-core machine can take a few hundred ms.
func testEndPassKeepsReading(t *testing.T, engine string) {
	const threshold = 600 * time.Millisecond
	b := stallbox.New(t, 512)
	f := &passFreezer{box: b, when: "phase end", pause: threshold * 3 / 8, run: threshold / 8}
	res, took := runFrozenPass(t, verifyStallScenario(t, b.Dev, engine, threshold), f)
	if took < threshold || f.pauses < 2 {
		t.Fatalf("the pass took %v with %d freezes: too short to show that its reads count (want over %v)", took, f.pauses, threshold)
	}
	if len(res.Stalls) != 0 {
		t.Errorf("stalls %+v, want none: the pass kept reading", res.Stalls)
	}
	t.Logf("phase-end pass of %v with %d freezes of %v: %d stalls", took.Round(time.Millisecond), f.pauses, f.pause, len(res.Stalls))
}

func testEndPassFrozen(t *testing.T, engine string) {
	const threshold = 300 * time.Millisecond
	b := stallbox.New(t, 64)
	f := &passFreezer{box: b, when: "phase end", pause: 1500 * time.Millisecond}
	sc := verifyStallScenario(t, b.Dev, engine, threshold)
	res, took := runFrozenPass(t, sc, f)
	if len(res.Stalls) != 1 {
		t.Fatalf("stalls %+v, want the phase-end pass's one", res.Stalls)
	}
	s := res.Stalls[0]
	if !s.PhaseEnd {
		t.Errorf("stall %+v: want the phase-end pass's", s)
	}
	freeze := checkFreezeSpan(t, f, s, threshold)
	var seen bool
	for _, e := range f.ev {
		seen = seen || e.Kind == EvStallStart && e.Time.Before(s.End) && strings.Contains(e.Detail, "verify pass at the phase end")
	}
	if !seen {
		t.Errorf("no stall_start naming the phase-end pass while it lasted")
	}
	checkEndPassApart(t, res, f, freeze, sc.Phases[0].Duration)
	t.Logf("%s: freeze of %v (phase-end pass of %v) measured as a stall of %v (error %v), starting %v after the pass's event",
		engine, freeze.Round(time.Microsecond), took.Round(time.Millisecond), s.Dur.Round(time.Microsecond),
		(s.Dur - freeze).Round(time.Microsecond), s.Start.Sub(f.began).Round(time.Microsecond))
}

// checkEndPassApart checks that a phase-end pass frozen for freeze left
// the phase's figures and its drill alone: the measured window ends
// before the pass began and is the phase's duration long (the drill's
// pass taken out), no I/O of the phase's waited out the freeze, and the
// drill has no stall and no note.
func checkEndPassApart(t *testing.T, res *Result, f *passFreezer, freeze, duration time.Duration) {
	t.Helper()
	// The measured time may run past the planned end by the drain of the
	// I/O in flight: a few of the box's I/Os, far less than the freeze.
	over := freeze / 3
	for _, p := range res.Phases {
		secs := time.Duration(p.Seconds * float64(time.Second))
		if p.End.After(f.began) || secs < duration-over || secs > duration+over || p.Lat.Max >= freeze/2 {
			t.Errorf("phase %s %s: measured %v..%v (%v, pass began %v), max latency %v; want before the pass, %v ± %v, under %v",
				p.Target, p.Op, p.Start, p.End, secs, f.began, p.Lat.Max, duration, over, freeze/2)
		}
	}
	if len(res.Drills) != 1 {
		t.Fatalf("drills %+v, want one", res.Drills)
	}
	if dt := res.Drills[0].Targets[0]; dt.Stalled || dt.Note != "" {
		t.Errorf("drill %+v: the phase-end pass's stall is no drill's", dt)
	}
}

// testEndPassLateDrill: the drill recovers 3.6 s into a 4 s phase, too
// late for its own pass (due a threshold and a second later), so the
// phase-end pass reads back what its fault left. Its stall is noted on the
// drill, and stays out of the drill's figures.
func testEndPassLateDrill(t *testing.T) {
	const threshold = 300 * time.Millisecond
	b := stallbox.New(t, 64)
	f := &passFreezer{box: b, when: "phase end", pause: 1500 * time.Millisecond}
	sc := verifyStallScenario(t, b.Dev, "threads", threshold)
	sc.Phases[0].Drills[0].At = 3500 * time.Millisecond
	res, _ := runFrozenPass(t, sc, f)
	for _, v := range res.Verify {
		if v.When == "drill d" {
			t.Fatalf("the drill's own pass ran (%+v): it cannot show the phase-end pass as its read-back", v)
		}
	}
	if len(res.Stalls) != 1 || !res.Stalls[0].PhaseEnd || len(res.Drills) != 1 {
		t.Fatalf("stalls %+v, drills %+v; want the phase-end pass's one stall, one drill", res.Stalls, res.Drills)
	}
	s, dt := res.Stalls[0], res.Drills[0].Targets[0]
	checkFreezeSpan(t, f, s, threshold)
	want := "its verify pass ran at the phase end and stalled " + s.Dur.Round(time.Millisecond).String()
	if dt.Stalled || dt.Stall != 0 || dt.Note != want {
		t.Errorf("drill %+v: want no stall of its own and the note %q", dt, want)
	}
	t.Logf("late drill: %q", dt.Note)
}
