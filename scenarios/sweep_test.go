package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSweepExpands checks the sub-phases a sweep makes: names, the swept
// value, the rest copied, the phase's rules on each.
func TestSweepExpands(t *testing.T) {
	tests := []struct {
		name, phase string
		names       []string
		check       func(p Phase, i int) bool
	}{
		// The example: one phase per queue depth.
		{"qd", "    rw: randread\n    bs: 4k\n    sweep: {qd: [1, 8, 32]}\n    expect: {read_p99: \"<= 5ms\"}\n",
			[]string{"p[qd=1]", "p[qd=8]", "p[qd=32]"}, func(p Phase, i int) bool { return p.QD == []int{1, 8, 32}[i] && p.BS == 4096 }},
		// Over rates: each point open loop.
		{"rate", "    rw: randread\n    bs: 4k\n    qd: 8\n    sweep: {rate_iops: [500, 1500.5]}\n",
			[]string{"p[rate_iops=500]", "p[rate_iops=1500.5]"}, func(p Phase, i int) bool { return p.RateIOPS == []float64{500, 1500.5}[i] && p.QD == 8 }},
		// Over block sizes.
		{"bs", "    rw: read\n    bs: 4k\n    sweep: {bs: [4k, 1M]}\n",
			[]string{"p[bs=4KiB]", "p[bs=1MiB]"}, func(p Phase, i int) bool { return p.BS == []int64{4096, 1 << 20}[i] }},
	}
	for _, tc := range tests {
		s, probs := load(t, mixScenario(tc.phase), nil)
		if probs != nil {
			t.Fatalf("%s: %v", tc.name, probs)
		}
		var names []string
		for i, p := range s.Phases {
			names = append(names, p.Name)
			if p.Sub == nil || p.Sub.Parent != "p" || !tc.check(p, i) {
				t.Errorf("%s: phase %d %+v", tc.name, i, p)
			}
		}
		if !reflect.DeepEqual(names, tc.names) {
			t.Errorf("%s: phases %v, want %v", tc.name, names, tc.names)
		}
		for _, c := range s.Criteria {
			if !strings.HasPrefix(c.Phase, "p[") {
				t.Errorf("%s: rule %q on phase %q", tc.name, c.Text, c.Phase)
			}
		}
		if tc.name == "qd" && len(s.Criteria) != 3 {
			t.Errorf("qd: %d rules, want one per sub-phase", len(s.Criteria))
		}
		roundTrip(t, s)
	}
}

// TestCurveExpands checks a curve: the max run, a point per share with
// the curve's duration, and iops_at_p99 on the phase as written.
func TestCurveExpands(t *testing.T) {
	src := mixScenario("    rw: randread\n    bs: 4k\n    qd: 16\n    curve: {points: [10%, 50%, 90%], duration: 5s}\n" +
		"    expect: {iops_at_p99: {latency: 1ms, min: 50000}}\n")
	s, probs := load(t, src, nil)
	if probs != nil {
		t.Fatal(probs)
	}
	want := []string{"p[max]", "p[load=10%]", "p[load=50%]", "p[load=90%]"}
	for i, p := range s.Phases {
		if p.Name != want[i] || p.Sub == nil || p.Sub.Key != "curve" || p.Sub.Value != []float64{0, 0.1, 0.5, 0.9}[i] {
			t.Errorf("phase %d: %s %+v", i, p.Name, p.Sub)
		}
		if wantDur := []time.Duration{10 * time.Second, 5 * time.Second}[min(i, 1)]; p.Duration != wantDur {
			t.Errorf("%s: duration %v, want %v", p.Name, p.Duration, wantDur)
		}
	}
	if len(s.Criteria) != 1 || s.Criteria[0].Phase != "p" || s.Criteria[0].Latency != time.Millisecond || s.Criteria[0].Threshold != 50000 {
		t.Errorf("criteria %+v", s.Criteria)
	}
	roundTrip(t, s)
}

// TestBadSweeps checks the messages for sweeps and curves written wrong.
func TestBadSweeps(t *testing.T) {
	tests := []struct{ name, phase, want string }{
		{"two keys", "    rw: randread\n    bs: 4k\n    sweep: {qd: [1], bs: [4k]}\n",
			`s.yaml:8:12: sweep of phase "p" takes one key, qd, rate_iops or bs`},
		{"qd range", "    rw: randread\n    bs: 4k\n    sweep: {qd: [1, 2000]}\n",
			`s.yaml:8:21: qd in sweep of phase "p" must be at most 1024, got 2000`},
		{"not a list", "    rw: randread\n    bs: 4k\n    sweep: {qd: 8}\n",
			`s.yaml:8:17: qd in sweep of phase "p" must be a list of values like [1, 2, 4], got 8`},
		{"both", "    rw: randread\n    bs: 4k\n    sweep: {qd: [1]}\n    curve: {points: [50%]}\n",
			`s.yaml:9:5: phase "p" sets both sweep and curve; set one`},
		{"curve with rate", "    rw: randread\n    bs: 4k\n    rate_iops: 100\n    curve: {points: [50%]}\n",
			`s.yaml:9:5: phase "p" has rate_iops or rate; a curve first runs the phase uncapped to find its maximum, then sets the rates itself`},
		{"curve rule", "    rw: randread\n    bs: 4k\n    curve: {points: [50%]}\n    expect: {read_p99: \"<= 1ms\"}\n",
			`s.yaml:9:14: read_p99 in expect of phase "p": a curve's expect takes iops_at_p99 (each point's figures are in the results)`},
		{"iops_at_p99 without curve", "    rw: randread\n    bs: 4k\n    expect: {iops_at_p99: {latency: 1ms, min: 5}}\n",
			`s.yaml:8:14: iops_at_p99 in expect of phase "p" reads a latency-vs-load curve; add curve: {points: [...]} to the phase`},
		{"iops_at_p99 scalar", "    rw: randread\n    bs: 4k\n    curve: {points: [50%]}\n    expect: {iops_at_p99: \">= 5\"}\n",
			`s.yaml:9:27: iops_at_p99 in expect of phase "p" must be a mapping like {latency: 1ms, min: 50000}, got ">= 5"`},
		{"sweep in defaults", "    rw: randread\n    bs: 4k\n", ""},
	}
	for _, tc := range tests {
		src := mixScenario(tc.phase)
		want := tc.want
		if tc.name == "sweep in defaults" {
			src = strings.Replace(src, "phases:", "defaults: {sweep: {qd: [1]}}\nphases:", 1)
			want = `s.yaml:3:12: "sweep" cannot be set in defaults; set it in each phase`
		}
		_, probs := load(t, src, nil)
		if !containsLine(probs, want) {
			t.Errorf("%s: want\n  %s\ngot\n  %s", tc.name, want, strings.Join(probs, "\n  "))
		}
	}
}
