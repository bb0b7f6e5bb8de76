package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/report/live"
	"lunbench/scenarios"
	"lunbench/workload"
)

// TestLiveVerdict feeds snapshots to the live verdict and checks what the
// dashboard is told.
func TestLiveVerdict(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	rule := func(metric string, cmp scenarios.Cmp, th float64, phase, target string) scenarios.Criterion {
		return scenarios.Criterion{Metric: metric, Cmp: cmp, Threshold: th, Phase: phase, Target: target,
			Text: metric + " " + string(cmp)}
	}
	iv := func(phase, target string, op workload.Op, errs uint64, maxLat time.Duration, ramp bool) workload.Interval {
		return workload.Interval{Phase: phase, Target: target, Op: op, Errors: errs, Ramp: ramp, Ops: 100,
			Lat: workload.LatencySummary{Max: maxLat}}
	}
	ivs := func(v ...workload.Interval) *workload.Snapshot { return &workload.Snapshot{Phase: "p", Intervals: v} }
	stall := func(phase, target string, since time.Duration, dur time.Duration) *workload.Snapshot {
		return &workload.Snapshot{Phase: phase, Stalls: []workload.StallState{{Target: target, Since: t0.Add(since), For: dur, InFlight: 4}}}
	}
	tests := []struct {
		name  string
		rules []scenarios.Criterion
		snaps []*workload.Snapshot
		want  string // "" = no live verdict at all; else a prefix of the text
		fail  bool
	}{
		// Errors break errors == 0 at once, naming the figure and target.
		{"errors", []scenarios.Criterion{rule("errors", scenarios.EQ, 0, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 0, time.Millisecond, false)), ivs(iv("p", "lun0", workload.Write, 3, time.Millisecond, false))},
			"FAIL errors == (3 on lun0)", true},
		// Errors during the ramp are not counted, as in the phase results.
		{"ramp errors", []scenarios.Criterion{rule("errors", scenarios.EQ, 0, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 5, time.Millisecond, true))},
			"no rule broken yet (1 checked live", false},
		// read_errors ignores write errors.
		{"read errors", []scenarios.Criterion{rule("read_errors", scenarios.LE, 1, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Write, 5, time.Millisecond, false))},
			"no rule broken", false},
		// A rule for all targets is checked per target, not on the sum.
		{"per target", []scenarios.Criterion{rule("errors", scenarios.LE, 2, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 2, 0, false), iv("p", "lun1", workload.Read, 2, 0, false))},
			"no rule broken", false},
		// A phase's rule ignores the other phases.
		{"other phase", []scenarios.Criterion{rule("errors", scenarios.EQ, 0, "a", "")},
			[]*workload.Snapshot{ivs(iv("b", "lun0", workload.Read, 9, 0, false))},
			"no rule broken", false},
		// One slow I/O breaks max_latency for good.
		{"max latency", []scenarios.Criterion{rule("max_latency", scenarios.LE, 1, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 0, 2*time.Second, false)), ivs(iv("p", "lun0", workload.Read, 0, time.Millisecond, false))},
			"FAIL max_latency <= (2s on lun0)", true},
		// A stall still going on breaks max_stall once it lasts longer.
		{"max stall", []scenarios.Criterion{rule("max_stall", scenarios.LE, 2, "", "")},
			[]*workload.Snapshot{stall("p", "lun0", 0, time.Second), stall("p", "lun0", 0, 2500*time.Millisecond)},
			"FAIL max_stall <= (2.5s on lun0)", true},
		// ... and not before.
		{"short stall", []scenarios.Criterion{rule("max_stall", scenarios.LE, 2, "", "")},
			[]*workload.Snapshot{stall("p", "lun0", 0, time.Second)},
			"no rule broken", false},
		// A stall seen in many snapshots counts once; a second one counts.
		{"stalls", []scenarios.Criterion{rule("stalls", scenarios.LE, 1, "", "")},
			[]*workload.Snapshot{stall("p", "lun0", 0, time.Second), stall("p", "lun0", 0, 2*time.Second), stall("p", "lun0", 5*time.Second, time.Second)},
			"FAIL stalls <= (2 on lun0)", true},
		// Rates, percentiles and >= rules wait for the end: no live verdict.
		{"not monotonic", []scenarios.Criterion{rule("iops", scenarios.GE, 100, "", ""), rule("p99", scenarios.LE, 0.002, "", ""), rule("errors", scenarios.GE, 0, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 0, 0, false))}, "", false},
		// Two broken rules: the first is shown, the others counted.
		{"two broken", []scenarios.Criterion{rule("errors", scenarios.EQ, 0, "", ""), rule("max_latency", scenarios.LT, 1, "", "")},
			[]*workload.Snapshot{ivs(iv("p", "lun0", workload.Read, 1, 3*time.Second, false))},
			"FAIL errors == (1 on lun0) +1 more", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var text string
			var failed bool
			calls := 0
			v := newLiveVerdict(&scenarios.Scenario{Criteria: tc.rules}, func(s string, f bool) { text, failed, calls = s, f, calls+1 })
			if tc.want == "" {
				if v != nil {
					t.Fatalf("a live verdict for rules that cannot break early")
				}
				return
			}
			for _, s := range tc.snaps {
				v.Add(s)
			}
			if !strings.HasPrefix(text, tc.want) || failed != tc.fail {
				t.Errorf("verdict %q failed %v; want %q… failed %v", text, failed, tc.want, tc.fail)
			}
			if calls > len(tc.snaps)+1 {
				t.Errorf("set called %d times for %d snapshots: only on change", calls, len(tc.snaps))
			}
		})
	}
}

// TestLiveVerdictOnDashboard checks the wiring: a broken rule shows red in
// the dashboard's header as soon as the snapshot breaking it arrives.
func TestLiveVerdictOnDashboard(t *testing.T) {
	sim := tcell.NewSimulationScreen("UTF-8")
	sim.Init()
	sim.SetSize(80, 24)
	defer sim.Fini()
	dash := live.New(sim, live.Options{Scenario: "t"})
	sc := &scenarios.Scenario{Criteria: []scenarios.Criterion{{Metric: "errors", Cmp: scenarios.EQ, Threshold: 0, Text: "errors == 0"}}}
	sinks := liveVerdictSinks(sc, dash)
	if len(sinks) != 1 {
		t.Fatalf("%d sinks", len(sinks))
	}
	s := &workload.Snapshot{Phase: "p", PhaseCount: 1, Elapsed: time.Second,
		Intervals: []workload.Interval{{Phase: "p", Target: "lun0", Errors: 2, Ops: 10}}}
	dash.Add(s)
	sinks[0].Add(s)
	dash.Draw()
	got := screenText(sim)
	if !strings.Contains(got, "verdict: FAIL errors == 0 (2 on lun0)") {
		t.Fatalf("header without the broken rule:\n%s", got)
	}
	cells, w, _ := sim.GetContents()
	i := strings.Index(strings.Split(got, "\n")[1], "verdict")
	if fg, bg, _ := cells[w+i].Style.Decompose(); bg != tcell.ColorRed && fg != tcell.ColorRed {
		t.Errorf("verdict not red: fg %v bg %v", fg, bg)
	}
}

// TestLineVerdict: in line mode a broken rule is printed once when it
// breaks and again only when what is broken changes.
func TestLineVerdict(t *testing.T) {
	var b strings.Builder
	set := lineVerdict(&b)
	for _, c := range []struct {
		text   string
		failed bool
	}{
		{"no rule broken yet (1 checked live)", false}, // nothing to say
		{"FAIL errors == 0 (3 on lun0)", true},         // printed
		{"FAIL errors == 0 (3 on lun0)", true},         // unchanged: not again
		{"FAIL errors == 0 (9 on lun0)", true},         // changed: printed
	} {
		set(c.text, c.failed)
	}
	want := "  ! FAIL errors == 0 (3 on lun0)\n  ! FAIL errors == 0 (9 on lun0)\n"
	if b.String() != want {
		t.Fatalf("printed %q, want %q", b.String(), want)
	}
}
