package scenarios

import (
	"strings"
	"testing"
	"time"
)

// TestSteadyDecode checks until_steady: and precondition:.
func TestSteadyDecode(t *testing.T) {
	src := mixScenario("    rw: randwrite\n    bs: 4k\n    precondition: true\n" +
		"    until_steady: {metric: iops, window: 5 × 2s, max_excursion: 20%, max_slope: 10%, timeout: 1m}\n")
	s, probs := load(t, src, nil)
	if probs != nil {
		t.Fatal(probs)
	}
	if len(s.Phases) != 2 || s.Phases[0].Name != "p[precondition]" || s.Phases[0].RangePasses != 2 || s.Phases[0].RW != Write || s.Phases[0].BS != 128<<10 {
		t.Fatalf("phases %+v", s.Phases)
	}
	st := s.Phases[1].Steady
	if st == nil || st.Rounds != 5 || st.Round != 2*time.Second || st.MaxExcursion != 0.2 || st.MaxSlope != 0.1 || s.Phases[1].Duration != time.Minute {
		t.Fatalf("steady %+v duration %v", st, s.Phases[1].Duration)
	}
	roundTrip(t, s)
	// The defaults are SNIA's: 5 rounds of a minute, 20% and 10%.
	s, probs = load(t, mixScenario("    rw: randread\n    bs: 4k\n    until_steady: {timeout: 2h}\n"), nil)
	if probs != nil {
		t.Fatal(probs)
	}
	if st := s.Phases[0].Steady; *st != (Steady{Metric: "iops", Rounds: 5, Round: time.Minute, MaxExcursion: 0.2, MaxSlope: 0.1}) {
		t.Errorf("defaults %+v", st)
	}
}

// TestBadSteady checks the messages for until_steady and precondition.
func TestBadSteady(t *testing.T) {
	tests := []struct{ name, phase, want string }{
		{"window form", "    rw: randread\n    bs: 4k\n    until_steady: {window: five minutes, timeout: 1h}\n",
			`s.yaml:8:28: window in until_steady of phase "p" must be ROUNDS × LENGTH like "5 × 60s", got "five minutes"`},
		{"window round", "    rw: randread\n    bs: 4k\n    until_steady: {window: 5 × 1500ms, timeout: 1h}\n",
			`s.yaml:8:28: window in until_steady of phase "p": a round (1.5s) must be a whole number of the scenario's interval (1s)`},
		{"no timeout", "    rw: randread\n    bs: 4k\n    until_steady: {metric: iops}\n",
			`s.yaml:7:19: until_steady of phase "p" needs timeout (the longest the phase may run unsettled, 2h) or a duration on the phase`},
		{"short timeout", "    rw: randread\n    bs: 4k\n    until_steady: {timeout: 1m}\n",
			`s.yaml:8:19: until_steady of phase "p": the timeout (1m) is shorter than one window (5 × 1m)`},
		{"with curve", "    rw: randread\n    bs: 4k\n    until_steady: {timeout: 1h}\n    curve: {points: [50%]}\n",
			`s.yaml:9:5: phase "p" sets until_steady; a swept phase or a curve runs for set times, so bring the target to steady state in a phase before it`},
	}
	for _, tc := range tests {
		src := mixScenario(tc.phase)
		if tc.name == "no timeout" {
			src = strings.Replace(src, "    duration: 10s\n", "", 1)
		}
		_, probs := load(t, src, nil)
		if !containsLine(probs, tc.want) {
			t.Errorf("%s: want\n  %s\ngot\n  %s", tc.name, tc.want, strings.Join(probs, "\n  "))
		}
	}
	src := strings.Replace(mixScenario("    rw: randread\n    bs: 4k\n    precondition: true\n"), "allow_write: true", "allow_write: false", 1)
	_, probs := load(t, src, nil)
	want := `s.yaml:8:5: precondition in phase "p" writes target "lun0", which does not allow writes; add allow_write: true to it if its data may be destroyed`
	if !containsLine(probs, want) {
		t.Errorf("precondition without allow_write: %v", probs)
	}
}

// TestJudgeSteady applies SNIA's rule to windows of rounds.
func TestJudgeSteady(t *testing.T) {
	st := &Steady{Rounds: 5, MaxExcursion: 0.2, MaxSlope: 0.1}
	tests := []struct {
		name   string
		values []float64
		steady bool
	}{
		// Flat within ±5%: steady.
		{"flat", []float64{100, 104, 98, 101, 97}, true},
		// Only the last five count.
		{"settled late", []float64{300, 200, 100, 104, 98, 101, 97}, true},
		// 30% range: too wide.
		{"excursion", []float64{100, 130, 100, 110, 100}, false},
		// Within 20% but rising steadily: slope 14% across the window.
		{"slope", []float64{92, 96, 100, 104, 110}, false},
		// Too few rounds yet.
		{"short", []float64{100, 100, 100}, false},
	}
	for _, tc := range tests {
		if got, avg, ex, sl := JudgeSteady(st, tc.values); got != tc.steady {
			t.Errorf("%s: steady %v (avg %.1f excursion %.3f slope %.3f), want %v", tc.name, got, avg, ex, sl, tc.steady)
		}
	}
}
