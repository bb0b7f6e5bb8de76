package main

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseStat reads utime, stime and num_threads from /proc/PID/stat
// lines laid out as proc(5) documents them.
func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name    string
		line    string
		cpu     float64
		threads int
		bad     bool
	}{
		// A plain line (fields after the name: state ppid ... utime=14
		// stime=15 ... num_threads=20).
		{"plain", "7259 (fio) R 7190 7190 9926 0 -1 4194304 103 0 0 0 250 130 0 0 20 0 9 0 1485101 2998272 372", 3.8, 9, false},
		// A command name with spaces and a parenthesis in it.
		{"odd name", "42 (a b) c) S 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 3 0 1 1 1", 1, 3, false},
		// Cut short: not enough fields.
		{"short", "42 (x) S 1 1", 0, 0, true},
		// No command name at all.
		{"no name", "42 x S 1 1 1 0 -1 0 0 0 0 0 100 0 0 0 20 0 3 0", 0, 0, true},
	} {
		cpu, th, err := parseStat([]byte(tc.line))
		if (err != nil) != tc.bad {
			t.Fatalf("%s: error %v, want error %v", tc.name, err, tc.bad)
		}
		if !tc.bad && (math.Abs(cpu-tc.cpu) > 1e-9 || th != tc.threads) {
			t.Errorf("%s: cpu %v threads %d, want %v %d", tc.name, cpu, th, tc.cpu, tc.threads)
		}
	}
}

// TestWindow takes the CPU rate from the samples inside the measured
// window only: the start-up and the report writing after it are not I/O.
func TestWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var ss []sample
	// 0.5 CPU-s per second inside [2 s, 8 s], 3 CPU-s per second outside.
	cpu := 0.0
	for i := 0; i <= 100; i++ {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		ss = append(ss, sample{at: at, cpu: cpu, threads: 10 + i%3})
		if i >= 20 && i < 80 {
			cpu += 0.05
		} else {
			cpu += 0.3
		}
	}
	r := result{iops: 100_000, start: t0.Add(2 * time.Second), end: t0.Add(8 * time.Second)}
	if err := window(&r, ss, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// 0.5 CPU-s/s at 100k IOPS = 5 µs per I/O = 5 s per million.
	if math.Abs(r.cpuPerMIO-5) > 1e-6 || r.threads != 12 {
		t.Fatalf("cpu %v s/MIO, threads %d; want 5, 12", r.cpuPerMIO, r.threads)
	}
	if r.approx {
		t.Fatal("approximate with 57 samples inside the window")
	}
	// A window with one sample inside takes the samples around it.
	short := result{iops: 100_000, start: t0.Add(3*time.Second + 50*time.Millisecond), end: t0.Add(3*time.Second + 450*time.Millisecond)}
	if err := window(&short, ss, 200*time.Millisecond); err != nil || !short.approx || math.Abs(short.cpuPerMIO-5) > 1e-6 {
		t.Fatalf("short window: %+v %v", short, err)
	}
	// Fewer than two samples at all is an error, not a zero.
	if err := window(&short, ss[:1], 0); err == nil {
		t.Fatal("one sample gave no error")
	}
}

// TestSummarize: median of odd and even counts, and the range.
func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want spread
	}{
		{"odd", []float64{1.2, 0.9, 1.0, 1.1, 0.95}, spread{med: 1.0, min: 0.9, max: 1.2, n: 5}}, // middle of five
		{"even", []float64{1, 3, 2, 4}, spread{med: 2.5, min: 1, max: 4, n: 4}},                  // mean of the middle two
		{"none", nil, spread{}}, // no rounds ran
	} {
		if got := summarize(tc.xs); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if s := summarize([]float64{1, 2, 3}).String(); s != "2.000 [1.000-3.000]" {
		t.Errorf("String: %q", s)
	}
}

// TestRotation alternates which tool goes first: A B, B A, A B, ...
func TestRotation(t *testing.T) {
	var got []bool
	for r := 1; r <= 4; r++ {
		got = append(got, lunbenchFirst(r))
	}
	if !slices.Equal(got, []bool{true, false, true, false}) {
		t.Fatalf("lunbench first by round: %v", got)
	}
}

// TestFioArgs: fio runs threads in one process, incompressible writes,
// per-target sections, and for sequential psync one share per job as
// lunbench's workers have.
func TestFioArgs(t *testing.T) {
	s := setup{targets: []string{"/dev/zram7", "/dev/zram8"}, size: 1 << 30, secs: 8 * time.Second, ramp: time.Second}
	seqw := strings.Join(fioArgs(benchCase{Name: "w", Targets: 1, RW: "write", BS: "1M", QD: 8, Fio: "psync"}, s, "o.json"), " ")
	for _, want := range []string{"--thread", "--numjobs=8", "--refill_buffers", "--buffer_compress_percentage=0",
		"--size=134217728", "--offset_increment=134217728", "--runtime=8", "--ramp_time=1", "--filename=/dev/zram7"} {
		if !strings.Contains(seqw, want) {
			t.Errorf("sequential write lacks %s: %s", want, seqw)
		}
	}
	rr := strings.Join(fioArgs(benchCase{Name: "r", Targets: 2, RW: "randread", BS: "4k", QD: 32, Fio: "io_uring"}, s, "o.json"), " ")
	for _, want := range []string{"--iodepth=32", "--ioengine=io_uring", "--norandommap", "--name=t1 --filename=/dev/zram8"} {
		if !strings.Contains(rr, want) {
			t.Errorf("random read lacks %s: %s", want, rr)
		}
	}
	if strings.Contains(rr, "--refill_buffers") || strings.Contains(rr, "numjobs") {
		t.Errorf("random read with write options or numjobs: %s", rr)
	}
}

// TestScenarioYAML: the lunbench side of the same case.
func TestScenarioYAML(t *testing.T) {
	s := setup{targets: []string{"/dev/zram7"}, size: 1 << 30, secs: 8 * time.Second, ramp: time.Second}
	got := scenarioYAML(benchCase{Targets: 1, RW: "randwrite", BS: "4k", QD: 32, Verify: true, Engine: "io_uring"}, s)
	want := "name: bench\ntargets:\n  - {name: t0, path: /dev/zram7, length: 1073741824, allow_write: true}\n" +
		"phases:\n  - {name: p, rw: randwrite, bs: 4k, qd: 32, duration: 8s, ramp: 1s, verify: true, engine: io_uring}\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestFioResult reads a real fio 3.33 JSON output (trimmed to the fields
// used): group IOPS, MiB/s and the window from timestamp_ms and runtime.
func TestFioResult(t *testing.T) {
	r, err := fioResult("testdata/fio-psync-read.json")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.iops-1103.852264) > 1e-6 || math.Abs(r.mibps-1103.85) > 0.01 {
		t.Fatalf("iops %v MiB/s %v", r.iops, r.mibps)
	}
	if d := r.end.Sub(r.start); d != 10072*time.Millisecond || r.end.UnixMilli() != 1795800611971 {
		t.Fatalf("window %v..%v", r.start, r.end)
	}
}

// TestCasesValid checks every row of the table, and that check refuses
// what cannot run.
func TestCasesValid(t *testing.T) {
	for _, c := range cases {
		if err := c.check(); err != nil {
			t.Error(err)
		}
	}
	for _, c := range []benchCase{
		{Name: "dev", Device: "nvme", Targets: 1, RW: "read", QD: 1, Fio: "psync"},  // unknown device kind
		{Name: "rw", Device: devZram, Targets: 1, RW: "trim", QD: 1, Fio: "psync"},  // rw lunbench has not
		{Name: "fio", Device: devZram, Targets: 1, RW: "read", QD: 1, Fio: "posix"}, // fio engine not offered
		{Name: "qd", Device: devZram, Targets: 1, RW: "read", QD: 0, Fio: "psync"},  // no queue
	} {
		if c.check() == nil {
			t.Errorf("case %q passed check", c.Name)
		}
	}
}

// TestParseConfig: defaults, quick mode, and a clear error for bad values.
func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := parseConfig([]string{"bin/lunbench"}, env(nil))
	if err != nil || cfg.secs != 8*time.Second || cfg.rounds != 5 || cfg.size != 1<<30 {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = parseConfig([]string{"x"}, env(map[string]string{"BENCH_QUICK": "1", "BENCH_CASES": "qd1$"}))
	if err != nil || cfg.secs != 3*time.Second || cfg.rounds != 2 || !cfg.cases.MatchString("4k randread qd1") || cfg.cases.MatchString("4x qd128") {
		t.Fatalf("quick: %+v %v", cfg, err)
	}
	if _, err := parseConfig([]string{"x"}, env(map[string]string{"BENCH_ROUNDS": "zero"})); err == nil || !strings.Contains(err.Error(), "BENCH_ROUNDS") {
		t.Fatalf("bad rounds: %v", err)
	}
	if _, err := parseConfig(nil, env(nil)); err == nil {
		t.Fatal("no lunbench path accepted")
	}
}
