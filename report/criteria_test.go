package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	"lunbench/scenarios"
	"lunbench/workload"
	"lunbench/workload/verify"
)

// TestEvaluatePreflight checks preflight_errors and preflight_warnings
// against the preflight a run recorded.
func TestEvaluatePreflight(t *testing.T) {
	report := func(fs ...preflight.Finding) json.RawMessage {
		b, err := json.Marshal(preflight.Report{Findings: fs})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	errOn := func(target string) preflight.Finding {
		return preflight.Finding{Severity: preflight.Error, Check: "expect.paths", Target: target}
	}
	warn := preflight.Finding{Severity: preflight.Warn, Check: "iscsi.noop"}
	noISCSI := preflight.Finding{Severity: preflight.Info, Check: preflight.CheckNoInitiator}
	sc := &scenarios.Scenario{Targets: []scenarios.Target{{Name: "lun0", Path: "/dev/mapper/mpatha"}, {Name: "lun1", Path: "/dev/sdz"}}}
	tests := []struct {
		name     string
		extra    map[string]json.RawMessage // run.json's extra
		c        scenarios.Criterion
		measured float64
		pass     bool
		note     string // a substring of the note; "" for none
	}{
		// Errors anywhere on the host count run-wide.
		{"run-wide errors", map[string]json.RawMessage{"preflight": report(errOn("/dev/mapper/mpatha"), errOn(""), warn)},
			scenarios.Criterion{Metric: "preflight_errors", Cmp: scenarios.EQ}, 2, false, ""},
		// Warnings are counted apart from errors.
		{"warnings", map[string]json.RawMessage{"preflight": report(errOn(""), warn)},
			scenarios.Criterion{Metric: "preflight_warnings", Cmp: scenarios.LE, Threshold: 1}, 1, true, ""},
		// A target's criterion counts the findings about its path only.
		{"target", map[string]json.RawMessage{"preflight": report(errOn("/dev/mapper/mpatha"), errOn(""))},
			scenarios.Criterion{Metric: "preflight_errors", Target: "lun1", Cmp: scenarios.EQ}, 0, true, ""},
		// A clean preflight passes.
		{"clean", map[string]json.RawMessage{"preflight": report()},
			scenarios.Criterion{Metric: "preflight_errors", Cmp: scenarios.EQ}, 0, true, ""},
		// No initiator: nothing was checked, so the rule cannot pass.
		{"no initiator", map[string]json.RawMessage{"preflight": report(noISCSI)},
			scenarios.Criterion{Metric: "preflight_errors", Cmp: scenarios.EQ}, 0, false, "not measured: preflight could not check the host: no iSCSI initiator"},
		// No preflight recorded at all.
		{"not run", nil, scenarios.Criterion{Metric: "preflight_errors", Cmp: scenarios.EQ}, 0, false, "not measured: no host preflight was recorded with the run"},
		// A preflight block that is not a report.
		{"garbage", map[string]json.RawMessage{"preflight": json.RawMessage(`[1,2]`)},
			scenarios.Criterion{Metric: "preflight_warnings", Cmp: scenarios.EQ}, 0, false, "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc.Criteria = []scenarios.Criterion{tt.c}
			got := Evaluate(sc, &workload.Result{}, ExtraFor(&RunJSON{Extra: tt.extra}))
			if len(got) != 1 {
				t.Fatalf("%d results, want 1 (a host figure is not repeated per target): %+v", len(got), got)
			}
			g := got[0]
			if g.Measured != tt.measured || g.Pass != tt.pass || !strings.Contains(g.Note, tt.note) || (tt.note == "") != (g.Note == "") {
				t.Errorf("got measured %g pass %v note %q, want %g %v %q", g.Measured, g.Pass, g.Note, tt.measured, tt.pass, tt.note)
			}
			if g.Target != tt.c.Target {
				t.Errorf("target %q, want %q", g.Target, tt.c.Target)
			}
		})
	}
}

// drillFixture is a phase "failover" on lun0 and lun1 with one drill,
// vip-move, and what the engine measured of it.
func drillFixture() (*scenarios.Scenario, *workload.Result) {
	sc := &scenarios.Scenario{
		Targets: []scenarios.Target{{Name: "lun0"}, {Name: "lun1"}},
		Phases: []scenarios.Phase{{Name: "failover", Targets: []string{"lun0", "lun1"}, Verify: true,
			Drills: []scenarios.Drill{{Name: "vip-move"}, {Name: "never"}}}},
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
	res := &workload.Result{
		Drills: []workload.DrillResult{
			{Phase: "failover", Name: "vip-move", Injected: true, InjectAt: t0,
				Targets: []workload.DrillTarget{
					// A 12.5 s stall, back after 13 s at 85% of before.
					{Target: "lun0", Stalled: true, Stall: 12500 * time.Millisecond, Resume: 13 * time.Second, Resumed: true,
						Errors: 0, MaxLatency: 12600 * time.Millisecond, Before: 100 << 20, After: 85 << 20, AfterRatio: 0.85},
					// Never came back.
					{Target: "lun1", Stalled: true, Stall: 0, Resumed: false, Errors: 3, Before: 0},
				}},
			{Phase: "failover", Name: "never", Injected: false},
		},
		Verify: []verify.Summary{
			{Target: "lun0", Phase: "failover", When: "drill vip-move", Blocks: 100,
				Counts:   map[string]uint64{"ok": 97, "lost": 1, "unwritten": 1, "torn": 1},
				Findings: []verify.Finding{{Offset: 0, Class: verify.Unwritten}, {Offset: 4096, Class: verify.Lost}, {Offset: 8192, Class: verify.Torn}}},
			{Target: "lun1", Phase: "failover", When: "drill vip-move", Blocks: 50,
				Counts:   map[string]uint64{"ok": 49, "misdirected": 1},
				Findings: []verify.Finding{{Offset: 0, Class: verify.Misdirected}}},
			// The lost block is still lost at the phase end: one block.
			{Target: "lun0", Phase: "failover", When: "phase end", Blocks: 200,
				Counts:   map[string]uint64{"ok": 198, "lost": 1, "corrupt": 1},
				Findings: []verify.Finding{{Offset: 4096, Class: verify.Lost}, {Offset: 12288, Class: verify.Corrupt}}},
		},
	}
	return sc, res
}

// TestEvaluateDrills checks a drill's expect: per target against the
// engine's DrillResult.
func TestEvaluateDrills(t *testing.T) {
	type want struct {
		measured float64
		pass     bool
		note     string // substring; "" for none
	}
	tests := []struct {
		name  string
		drill string
		c     scenarios.Criterion
		want  []want // lun0, lun1
	}{
		// A stall is its gap; the second target measured 0 s but stalled.
		{"max_stall", "vip-move", scenarios.Criterion{Metric: "max_stall", Cmp: scenarios.LE, Threshold: 15},
			[]want{{12.5, true, ""}, {0, true, ""}}},
		// Resume counts from the inject; no resume fails with a reason.
		{"resume_within", "vip-move", scenarios.Criterion{Metric: "resume_within", Cmp: scenarios.LE, Threshold: 15},
			[]want{{13, true, ""}, {0, false, "did not resume"}}},
		// After/before ratio; nothing before means nothing to compare.
		{"throughput_after", "vip-move", scenarios.Criterion{Metric: "throughput_after", Cmp: scenarios.GE, Threshold: 0.9},
			[]want{{0.85, false, ""}, {0, false, "no throughput"}}},
		// Errors in the window.
		{"errors", "vip-move", scenarios.Criterion{Metric: "errors", Cmp: scenarios.EQ},
			[]want{{0, true, ""}, {3, false, ""}}},
		// The longest I/O of the window; none completed on lun1.
		{"max_latency", "vip-move", scenarios.Criterion{Metric: "max_latency", Cmp: scenarios.LE, Threshold: 20},
			[]want{{12.6, true, ""}, {0, false, "no I/O completed"}}},
		// Lost + unwritten from the drill's verify pass (the phase-end
		// pass does not count); lun1 has its own pass in run.json.
		{"lost_writes", "vip-move", scenarios.Criterion{Metric: "lost_writes", Cmp: scenarios.EQ},
			[]want{{2, false, ""}, {0, true, ""}}},
		// Torn + corrupt + misdirected.
		{"corrupt_blocks", "vip-move", scenarios.Criterion{Metric: "corrupt_blocks", Cmp: scenarios.EQ},
			[]want{{1, false, ""}, {1, false, ""}}},
		// A drill that was not injected fails every expectation.
		{"not injected", "never", scenarios.Criterion{Metric: "max_stall", Cmp: scenarios.LE, Threshold: 15},
			[]want{{0, false, "drill not injected"}, {0, false, "drill not injected"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, res := drillFixture()
			c := tt.c
			c.Text, c.Phase, c.Drill = c.Metric+" rule", "failover", tt.drill
			for i := range sc.Phases[0].Drills {
				if sc.Phases[0].Drills[i].Name == tt.drill {
					sc.Phases[0].Drills[i].Expect = []scenarios.Criterion{c}
				}
			}
			got := Evaluate(sc, res, Extra{})
			if len(got) != len(tt.want) {
				t.Fatalf("%d results, want %d", len(got), len(tt.want))
			}
			for i, g := range got {
				w := tt.want[i]
				if d := g.Measured - w.measured; d > 1e-9 || d < -1e-9 || g.Pass != w.pass ||
					!strings.Contains(g.Note, w.note) || (w.note == "") != (g.Note == "") {
					t.Errorf("%s: measured %g pass %v note %q, want %g %v %q", g.Target, g.Measured, g.Pass, g.Note, w.measured, w.pass, w.note)
				}
				if g.Drill != tt.drill || g.Phase != "failover" {
					t.Errorf("result names drill %q phase %q", g.Drill, g.Phase)
				}
			}
		})
	}
}

// TestEvaluateVerifyTotals checks run- and phase-level lost_writes,
// corrupt_blocks and unreadable_blocks over run.json's verify passes: the
// distinct blocks, never a sum of passes.
func TestEvaluateVerifyTotals(t *testing.T) {
	sc, res := drillFixture()
	tests := []struct {
		name string
		c    scenarios.Criterion
		res  *workload.Result
		want []float64 // per target, lun0 then lun1
		note string
	}{
		// Every pass of the run: lun0's drill pass and phase-end pass, the
		// block lost in both counted once.
		{"run lost_writes", scenarios.Criterion{Metric: "lost_writes", Cmp: scenarios.EQ}, res, []float64{2, 0}, ""},
		// corrupt + torn on lun0, misdirected on lun1.
		{"run corrupt_blocks", scenarios.Criterion{Metric: "corrupt_blocks", Cmp: scenarios.EQ}, res, []float64{2, 1}, ""},
		// A phase-level rule takes that phase's passes.
		{"phase", scenarios.Criterion{Phase: "failover", Metric: "corrupt_blocks", Cmp: scenarios.EQ}, res, []float64{2, 1}, ""},
		// Every block of lun0 unreadable in two passes that list none of
		// them: the worst pass (16), never the sum (32) nor more than the
		// device holds; lun1's one pass counts too.
		{"unreadable", scenarios.Criterion{Metric: "unreadable_blocks", Cmp: scenarios.EQ}, &workload.Result{Verify: []verify.Summary{
			{Target: "lun0", When: "drill d", Blocks: 16, Counts: map[string]uint64{"unreadable": 16}},
			{Target: "lun0", When: "phase end", Blocks: 16, Counts: map[string]uint64{"unreadable": 16}},
			{Target: "lun1", When: "phase end", Blocks: 16, Counts: map[string]uint64{"unreadable": 3}},
		}}, []float64{16, 3}, ""},
		// No verify pass: not measured, never a silent pass.
		{"no pass", scenarios.Criterion{Metric: "lost_writes", Cmp: scenarios.EQ}, &workload.Result{}, []float64{0, 0}, "not measured: no verify pass ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc.Criteria = []scenarios.Criterion{tt.c}
			got := Evaluate(sc, tt.res, Extra{})
			var ms []float64
			for _, g := range got {
				if g.Drill != "" {
					continue
				}
				ms = append(ms, g.Measured)
				if g.Note != tt.note {
					t.Errorf("%s: note %q, want %q", g.Target, g.Note, tt.note)
				}
			}
			if len(ms) != len(tt.want) || ms[0] != tt.want[0] || ms[1] != tt.want[1] {
				t.Errorf("measured %v, want %v", ms, tt.want)
			}
		})
	}
}
