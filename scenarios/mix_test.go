package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// mixScenario wraps phase lines (indented four spaces) into a scenario.
func mixScenario(phase string) string {
	return "name: t\ntargets: [{name: lun0, path: /dev/x, allow_write: true}]\nphases:\n  - name: p\n    duration: 10s\n" + phase
}

// TestSizeMixes checks what bs mixes decode to.
func TestSizeMixes(t *testing.T) {
	k, m := int64(1024), int64(1<<20)
	tests := []struct {
		name        string
		phase       string
		bs          int64
		read, write []SizeShare
		mean        float64
	}{
		// One mix for reads and writes, sorted by size.
		{"shared mix", "    rw: randrw\n    bs: {64k: 30%, 4k: 60%, 1M: 10%}\n", m,
			[]SizeShare{{4 * k, 60}, {64 * k, 30}, {m, 10}}, []SizeShare{{4 * k, 60}, {64 * k, 30}, {m, 10}},
			0.6*4096 + 0.3*65536 + 0.1*1048576},
		// fio's bssplit with a different split per op.
		{"per op", "    rw: randrw\n    read_pct: 75\n    bs: {read: {4k: 50%, 8k: 50%}, write: 64k}\n", 64 * k,
			[]SizeShare{{4 * k, 50}, {8 * k, 50}}, []SizeShare{{64 * k, 100}},
			0.75*6144 + 0.25*65536},
		// A read-only pattern keeps only the read sizes.
		{"reads drop write sizes", "    rw: randread\n    bs: {4k: 50%, 8k: 50%}\n", 8 * k,
			[]SizeShare{{4 * k, 50}, {8 * k, 50}}, nil, 6144},
		// One size at 100% is plain bs.
		{"single size", "    rw: read\n    bs: {8KiB: 100%}\n", 8 * k, nil, nil, 8192},
	}
	for _, tc := range tests {
		s, probs := load(t, mixScenario(tc.phase), nil)
		if probs != nil {
			t.Fatalf("%s: %v", tc.name, probs)
		}
		p := s.Phases[0]
		if p.BS != tc.bs || !reflect.DeepEqual(p.ReadSizes, tc.read) || !reflect.DeepEqual(p.WriteSizes, tc.write) {
			t.Errorf("%s: bs %d read %v write %v", tc.name, p.BS, p.ReadSizes, p.WriteSizes)
		}
		if got := p.MeanSize(); got != tc.mean {
			t.Errorf("%s: mean size %g, want %g", tc.name, got, tc.mean)
		}
		roundTrip(t, s)
	}
}

// TestRateWithMix converts a byte rate with the mix's mean size.
func TestRateWithMix(t *testing.T) {
	s, probs := load(t, mixScenario("    rw: randread\n    bs: {4k: 50%, 12k: 50%}\n    rate: 8MiB/s\n"), nil)
	if probs != nil {
		t.Fatal(probs)
	}
	if got := s.Phases[0].RateIOPS; got != 1024 {
		t.Errorf("rate_iops %g, want 1024 (8 MiB/s over a mean of 8 KiB)", got)
	}
}

// TestDistributions checks what offsets: decodes to.
func TestDistributions(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		want  *Distribution
		rw    string
		defs  bool // written in defaults
		noRun bool // the phase is sequential: defaults do not apply
	}{
		{"zipf", "{zipf: 1.2}", &Distribution{Kind: Zipf, Param: 1.2}, "randread", false, false},
		{"pareto", "{pareto: 0.9}", &Distribution{Kind: Pareto, Param: 0.9}, "randrw", false, false},
		// normal alone takes σ = 1/6 of the range.
		{"normal bare", "normal", &Distribution{Kind: Normal, Param: DefaultNormalSigma}, "randwrite", false, false},
		{"normal sigma", "{normal: 10%}", &Distribution{Kind: Normal, Param: 10}, "randread", false, false},
		{"hot bands", "{hot: [{range: 10%, share: 70%}, {range: 20%, share: 20%}]}",
			&Distribution{Kind: Hot, Bands: []HotBand{{10, 70}, {20, 20}}}, "randread", false, false},
		// uniform is the default and is stored as nil.
		{"uniform", "uniform", nil, "randread", false, false},
		// defaults apply to random phases and skip sequential ones.
		{"from defaults", "{zipf: 0.8}", &Distribution{Kind: Zipf, Param: 0.8}, "randread", true, false},
		{"defaults skip sequential", "{zipf: 0.8}", nil, "read", true, true},
	}
	for _, tc := range tests {
		src := mixScenario("    rw: " + tc.rw + "\n    bs: 4k\n")
		if tc.defs {
			src = strings.Replace(src, "phases:", "defaults:\n  offsets: "+tc.yaml+"\nphases:", 1)
		} else {
			src += "    offsets: " + tc.yaml + "\n"
		}
		s, probs := load(t, src, nil)
		if probs != nil {
			t.Fatalf("%s: %v", tc.name, probs)
		}
		if got := s.Phases[0].Offsets; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: offsets %+v, want %+v", tc.name, got, tc.want)
		}
		roundTrip(t, s)
	}
}

// TestBadMixes checks the messages for wrong mixes and distributions.
func TestBadMixes(t *testing.T) {
	tests := []struct {
		name, phase, want string
	}{
		// Shares must add up to 100%.
		{"sum", "    rw: randread\n    bs: {4k: 60%, 8k: 30%}\n",
			`s.yaml:7:9: the shares in bs in phase "p" add up to 90%; they must add up to 100%`},
		// Whole percentages, like fio's bssplit.
		{"fraction", "    rw: randread\n    bs: {4k: 60.5%, 8k: 39.5%}\n",
			`s.yaml:7:14: bs in phase "p" for 4KiB must be a whole percentage above 0 like 60%, got "60.5%"`},
		// A size O_DIRECT cannot issue.
		{"unaligned", "    rw: randread\n    bs: {4k: 50%, 1000: 50%}\n",
			`s.yaml:7:19: block size 1000 in bs in phase "p" must be a multiple of 512 bytes up to 64MiB`},
		// 4k and 4KiB are one size.
		{"duplicate", "    rw: randread\n    bs: {4k: 50%, 4KiB: 50%}\n",
			`s.yaml:7:19: block size 4KiB appears twice in bs in phase "p"`},
		// Per op, a pattern that writes needs write sizes.
		{"missing op", "    rw: randrw\n    bs: {read: 4k}\n",
			`s.yaml:4:5: bs of phase "p" gives sizes per op but none for writes, which rw: randrw does`},
		// ... and a read-only one takes none.
		{"extra op", "    rw: randread\n    bs: {read: 4k, write: 8k}\n",
			`s.yaml:7:27: bs of phase "p" gives write sizes, but rw: randread does no writes`},
		{"unknown op key", "    rw: randrw\n    bs: {read: 4k, writes: 8k}\n",
			`s.yaml:7:20: unknown key "writes" in bs in phase "p": a bs per op takes read: and write:, each a size or a mix like {4k: 60%, 64k: 40%}`},
		// Distributions: names, parameters, bands.
		{"unknown dist", "    rw: randread\n    bs: 4k\n    offsets: {zipfian: 1.1}\n",
			`s.yaml:8:15: unknown distribution "zipfian" in offsets in phase "p"; did you mean "zipf"?`},
		{"scalar dist", "    rw: randread\n    bs: 4k\n    offsets: gauss\n",
			`s.yaml:8:14: unknown distribution "gauss" in phase "p"; did you mean "normal"?`},
		{"pareto range", "    rw: randread\n    bs: 4k\n    offsets: {pareto: 1.5}\n",
			`s.yaml:8:23: pareto in offsets in phase "p": h must lie strictly between 0 and 1 (0.9 sends 90% of the I/O to 10% of the range), got 1.5`},
		{"zipf zero", "    rw: randread\n    bs: 4k\n    offsets: {zipf: 0}\n",
			`s.yaml:8:21: zipf in offsets in phase "p": θ must be above 0 and at most 10 (1.2 is a typical hot set), got 0`},
		{"bands over 100", "    rw: randread\n    bs: 4k\n    offsets: {hot: [{range: 60%, share: 50%}, {range: 50%, share: 10%}]}\n",
			`s.yaml:8:20: the hot bands in offsets in phase "p" cover 110% of the range; at most 100%`},
		{"band key", "    rw: randread\n    bs: 4k\n    offsets: {hot: [{range: 10%, shares: 90%}]}\n",
			`s.yaml:8:21: hot band #1 of offsets in phase "p" needs share`},
		{"two dists", "    rw: randread\n    bs: 4k\n    offsets: {zipf: 1.2, pareto: 0.9}\n",
			`s.yaml:8:14: offsets in phase "p" takes one distribution, like {zipf: 1.2}, {pareto: 0.9}, {normal: 10%} or {hot: [{range: 10%, share: 90%}]}`},
		{"sequential", "    rw: read\n    bs: 4k\n    offsets: {zipf: 1.2}\n",
			`s.yaml:8:5: offsets in phase "p" only applies to random patterns (randread, randwrite, randrw), not read`},
	}
	for _, tc := range tests {
		_, probs := load(t, mixScenario(tc.phase), nil)
		if !containsLine(probs, tc.want) {
			t.Errorf("%s: want\n  %s\ngot\n  %s", tc.name, tc.want, strings.Join(probs, "\n  "))
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestReduction checks compress: and dedupe: and where they apply.
func TestReduction(t *testing.T) {
	tests := []struct {
		name, phase string
		defaults    string
		compress    float64
		dedupe      int
		want        string // a problem, "" for none
	}{
		// The example values.
		{"both", "    rw: randwrite\n    bs: 4k\n    compress: 2.0\n    dedupe: 30%\n", "", 2, 30, ""},
		// 1 is the default: incompressible, stored as 0.
		{"ratio one", "    rw: write\n    bs: 4k\n    compress: 1\n", "", 0, 0, ""},
		// Verified phases keep their stamps and still compress.
		{"verified compress", "    rw: randrw\n    bs: 4k\n    verify: true\n    compress: 3\n", "", 3, 0, ""},
		// defaults reach phases that write and skip those that read.
		{"defaults write", "    rw: randwrite\n    bs: 4k\n", "defaults: {compress: 2.5, dedupe: 10%}\n", 2.5, 10, ""},
		{"defaults read", "    rw: randread\n    bs: 4k\n", "defaults: {compress: 2.5, dedupe: 10%}\n", 0, 0, ""},
		// Wrong values and places get one clear line each.
		{"below one", "    rw: write\n    bs: 4k\n    compress: 0.5\n", "", 0, 0,
			`s.yaml:8:15: compress in phase "p" must be a ratio from 1 (incompressible) to 100, like 2.0, got 0.5`},
		{"read phase", "    rw: read\n    bs: 4k\n    compress: 2\n", "", 0, 0,
			`s.yaml:8:5: compress in phase "p" only applies to phases that write, not rw: read`},
		{"verified dedupe", "    rw: randwrite\n    bs: 4k\n    verify: true\n    dedupe: 20%\n", "", 0, 0,
			`s.yaml:9:5: dedupe in phase "p" cannot be combined with verify: true: every verified sector carries its own offset and generation, so no two blocks are alike`},
		{"verified ratio", "    rw: randwrite\n    bs: 4k\n    verify: true\n    compress: 10\n", "", 0, 0,
			`s.yaml:9:15: compress in phase "p" is at most 4 with verify: true (each 512-byte sector keeps a 40-byte stamp), got 10`},
		{"dedupe fraction", "    rw: write\n    bs: 4k\n    dedupe: 12.5%\n", "", 0, 0,
			`s.yaml:8:13: dedupe in phase "p" must be a whole percentage like 70%, got "12.5%"`},
	}
	for _, tc := range tests {
		s := loadCase(t, tc.name, mixScenario(tc.phase), tc.defaults, tc.want)
		if s == nil {
			continue
		}
		if p := s.Phases[0]; p.Compress != tc.compress || p.DedupePct != tc.dedupe {
			t.Errorf("%s: compress %g dedupe %d, want %g %d", tc.name, p.Compress, p.DedupePct, tc.compress, tc.dedupe)
		}
		roundTrip(t, s)
	}
}

// TestArrival checks rate_process: and think: and the loops they need.
func TestArrival(t *testing.T) {
	tests := []struct {
		name, phase, defaults string
		poisson               bool
		think                 time.Duration
		want                  string // a problem, "" for none
	}{
		// fio's rate_process=poisson on an open-loop phase.
		{"poisson", "    rate_iops: 1000\n    rate_process: poisson\n", "", true, 0, ""},
		// fio's thinktime on a closed-loop phase.
		{"think", "    think: 1ms\n", "", false, time.Millisecond, ""},
		// From defaults, each applies only where its loop is.
		{"defaults open", "    rate_iops: 1000\n", "defaults: {rate_process: poisson, think: 2ms}\n", true, 0, ""},
		{"defaults closed", "    qd: 4\n", "defaults: {rate_process: poisson, think: 2ms}\n", false, 2 * time.Millisecond, ""},
		// Wrong loops get a clear line.
		{"poisson closed", "    rate_process: poisson\n", "", false, 0,
			`s.yaml:8:5: rate_process in phase "p" needs rate_iops or rate: poisson spaces an open-loop phase's I/Os`},
		{"think open", "    rate_iops: 100\n    think: 1ms\n", "", false, 0,
			`s.yaml:9:5: think in phase "p" applies to closed loop; with rate_iops or rate the pace is set by the rate`},
		{"unknown process", "    rate_iops: 100\n    rate_process: exponential\n", "", false, 0,
			`s.yaml:9:19: unknown rate_process "exponential" in phase "p"; use one of: fixed, poisson`},
	}
	for _, tc := range tests {
		s := loadCase(t, tc.name, mixScenario("    rw: randread\n    bs: 4k\n"+tc.phase), tc.defaults, tc.want)
		if s == nil {
			continue
		}
		if p := s.Phases[0]; p.Poisson != tc.poisson || p.Think != tc.think {
			t.Errorf("%s: poisson %v think %v, want %v %v", tc.name, p.Poisson, p.Think, tc.poisson, tc.think)
		}
		roundTrip(t, s)
	}
}

// loadCase loads a phase with defaults; with want it checks that the load
// reports that problem and returns nil, else it must load cleanly.
func loadCase(t *testing.T, name, src, defaults, want string) *Scenario {
	t.Helper()
	if defaults != "" {
		src = strings.Replace(src, "phases:", defaults+"phases:", 1)
	}
	s, probs := load(t, src, nil)
	if want != "" {
		if !containsLine(probs, want) {
			t.Errorf("%s: want\n  %s\ngot\n  %s", name, want, strings.Join(probs, "\n  "))
		}
		return nil
	}
	if probs != nil {
		t.Fatalf("%s: %v", name, probs)
	}
	return s
}
