package main

import (
	"bytes"
	"encoding/json"
	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lunbench/report"
	"lunbench/workload"
)

// directDir returns a temporary directory on a filesystem that supports
// O_DIRECT and is not in RAM (t.TempDir may be tmpfs, where lunbench
// refuses to create targets).
func directDir(t *testing.T) string {
	t.Helper()
	return directDirNamed(t, "lunbench-test-")
}

// directDirNamed is directDir with the directory's name prefix.
func directDirNamed(t *testing.T, prefix string) string {
	t.Helper()
	for _, base := range []string{"", "/var/tmp"} {
		d, err := os.MkdirTemp(base, prefix)
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if supportsDirectIO(d) && workload.RAMFilesystem(d) == "" {
			return d
		}
	}
	t.Skip("no temporary directory on a filesystem with O_DIRECT support")
	return ""
}

func writeScenario(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunFileEndToEnd runs a short real scenario against a sparse file and
// checks the exit code, the summary and every results file.
func TestRunFileEndToEnd(t *testing.T) {
	dir := directDir(t)
	sc := writeScenario(t, dir, `
name: e2e
interval: 500ms
targets:
  - name: f
    path: `+filepath.Join(dir, "target.dat")+`
    size: 64MiB
    allow_write: true
phases:
  - {name: w, rw: randwrite, bs: 4k, qd: 4, duration: 1500ms, ramp: 500ms}
  - {name: r, rw: read, bs: 128k, qd: 2, bytes: 16MiB}
  - name: mix
    rw: randrw
    read_pct: 70%
    bs: 8k
    qd: 2
    duration: 1s
    expect:
      errors: "== 0"
      read_iops: ">= 1"
`)
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal))
	if code != exitPass {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "verdict: PASS") {
		t.Fatalf("no verdict in output:\n%s", stdout.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "finished" || run.Verdict != report.Pass || len(run.Phases) != 4 {
		t.Fatalf("run.json: status %q verdict %q phases %d", run.Status, run.Verdict, len(run.Phases))
	}
	for _, p := range run.Phases {
		if p.Ops == 0 || p.IOPS <= 0 || p.Lat.P99 <= 0 || p.Lat.Max < p.Lat.P99 {
			t.Errorf("phase %s %s: %+v", p.Phase, p.Op, p)
		}
		if p.Phase == "r" && p.Bytes != 16<<20 {
			t.Errorf("bytes-bounded phase moved %d bytes, want %d", p.Bytes, 16<<20)
		}
	}
	rows, err := report.ReadIntervals(out)
	if err != nil {
		t.Fatal(err)
	}
	var ramp, measured int
	for _, r := range rows {
		if r.Ramp {
			ramp++
		} else {
			measured++
		}
	}
	if ramp == 0 || measured < 5 {
		t.Fatalf("intervals: %d ramp rows, %d measured rows", ramp, measured)
	}
	evs, err := report.ReadEvents(out)
	if err != nil || len(evs) < 8 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	// Per phase × target × op: the intervals' log, and the whole measured
	// phase's histogram (what the report reads) holding the phase's count.
	hl, _ := filepath.Glob(filepath.Join(out, "hist", "*.hlog"))
	if len(hl) != 8 {
		t.Fatalf("hlog files: %v", hl)
	}
	for _, p := range run.Phases {
		f, err := os.Open(filepath.Join(out, "hist", report.PhaseHlogName(p.Phase, p.Target, p.Op)))
		if err != nil {
			t.Fatal(err)
		}
		h, err := hdr.NewHistogramLogReader(f).NextIntervalHistogram()
		f.Close()
		if err != nil || h == nil || uint64(h.TotalCount()) != p.Lat.Count {
			t.Fatalf("%s/%s/%s: phase histogram %v (err %v), want %d values", p.Phase, p.Target, p.Op, h, err, p.Lat.Count)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "scenario.yaml")); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "run.json"))
	if err := json.Unmarshal(b, &raw); err != nil || raw["host"] == nil {
		t.Fatalf("run.json host facts missing: %v", err)
	}
}

// TestRunExitCodes covers the exit codes a pipeline relies on.
func TestRunExitCodes(t *testing.T) {
	dir := directDir(t)
	file := filepath.Join(dir, "t.dat")
	cases := []struct {
		name string
		body string
		want int
	}{
		// A criterion nobody can meet fails the run with 1.
		{"criterion fails", "name: x\ntargets: [{name: f, path: " + file + ", size: 8MiB}]\nphases:\n  - {name: r, rw: randread, bs: 4k, duration: 300ms, expect: {read_iops: \">= 1e12\"}}\n", exitFail},
		// A write phase on a target without allow_write is a scenario error.
		{"write not allowed", "name: x\ntargets: [{name: f, path: " + file + ", size: 8MiB}]\nphases:\n  - {name: w, rw: write, bs: 4k, duration: 300ms}\n", exitUsage},
		// A target that does not exist (and has no size to create it with) is a runtime failure.
		{"missing target file", "name: x\ntargets: [{name: f, path: " + filepath.Join(dir, "nope.dat") + "}]\nphases:\n  - {name: r, rw: read, bs: 4k, duration: 300ms}\n", exitRuntime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := writeScenario(t, dir, c.body)
			var stdout, stderr bytes.Buffer
			code := execute([]string{"run", sc, "--no-tui", "--out", filepath.Join(dir, "o-"+strings.ReplaceAll(c.name, " ", "-"))}, nil, &stdout, &stderr, make(chan os.Signal))
			if code != c.want {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.want, stdout.String(), stderr.String())
			}
		})
	}
}

// TestRunInterrupted sends the signal mid-run: exit 130, results written
// and marked interrupted.
func TestRunInterrupted(t *testing.T) {
	dir := directDir(t)
	sc := writeScenario(t, dir, "name: x\ntargets: [{name: f, path: "+filepath.Join(dir, "t.dat")+", size: 8MiB}]\nphases:\n  - {name: r, rw: randread, bs: 4k, qd: 2, duration: 30s}\n  - {name: r2, rw: read, bs: 4k, duration: 30s}\n")
	sig := make(chan os.Signal, 1)
	go func() { time.Sleep(1200 * time.Millisecond); sig <- os.Interrupt }()
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, sig)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130\n%s%s", code, stdout.String(), stderr.String())
	}
	if time.Since(start) > 15*time.Second {
		t.Fatalf("stop took %v", time.Since(start))
	}
	run, err := report.ReadRun(out)
	if err != nil || run.Status != "interrupted" || run.Verdict != report.Interrupted || len(run.Phases) != 1 || run.Phases[0].Ops == 0 {
		t.Fatalf("run.json after interrupt: %+v %v", run, err)
	}
}

// TestManualMark sends SIGUSR1 (what `lunbench mark` sends) during a run
// whose phase declares a manual drill (a cable pull): a drill_mark event is
// recorded, the drill is injected at that moment, and the run goes on to
// its end.
func TestManualMark(t *testing.T) {
	dir := directDir(t)
	sc := writeScenario(t, dir, "name: x\ntargets: [{name: f, path: "+filepath.Join(dir, "t.dat")+", size: 8MiB}]\nphases:\n  - {name: r, rw: randread, bs: 4k, duration: 1500ms, drills: [{name: cable-pull, manual: true}]}\n")
	sig := make(chan os.Signal, 1)
	out := filepath.Join(dir, "res")
	// Mark 300 ms after the phase has started, whatever the set-up took on
	// a loaded machine: the drill must be injected at that moment.
	marked := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(out, "events.jsonl")); bytes.Contains(b, []byte("phase_start")) {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
		marked <- time.Now()
		sig <- syscall.SIGUSR1
	}()
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, sig); code != exitPass {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	evs, _ := report.ReadEvents(out)
	marks := 0
	for _, e := range evs {
		if e.Kind.String() == "drill_mark" {
			marks++
		}
	}
	if marks != 1 {
		t.Fatalf("%d drill_mark events, want 1", marks)
	}
	run, err := report.ReadRun(out)
	if err != nil || len(run.Drills) != 1 {
		t.Fatalf("drills %+v %v", run, err)
	}
	d := run.Drills[0]
	markAt := <-marked
	if at := d.InjectAt.Sub(markAt); !d.Injected || !d.Manual || at < 0 || at > 400*time.Millisecond {
		t.Fatalf("manual drill %+v injected %v after the mark, want at the mark", d, at)
	}
	if _, err := os.Stat(filepath.Join(out, "lunbench.pid")); err == nil {
		t.Fatal("lunbench.pid left behind after the run")
	}
}
