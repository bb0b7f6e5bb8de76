package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lunbench/report"
	"lunbench/scenarios/lab/stallbox"
	"lunbench/workload/uring"
)

// labBox is scenarios/lab/stallbox.sh driven from a test: the same rig a
// user rehearses drills with (see package stallbox).
type labBox struct {
	box    *stallbox.Box
	script string
	dir    string
	dev    string
}

func newLabBox(t *testing.T, sizeMiB int) *labBox {
	t.Helper()
	b := stallbox.New(t, sizeMiB)
	return &labBox{box: b, script: b.Script, dir: b.Dir, dev: b.Dev}
}

// runScenarioFile runs `lunbench run SC --no-tui --out OUT`, expects exit
// code want and returns the run.json it wrote.
func runScenarioFile(t *testing.T, sc, out string, want int) *report.RunJSON {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal)); code != want {
		t.Fatalf("exit %d, want %d\n%s%s", code, want, stdout.String(), stderr.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	// An io_uring run must not have fallen back to threads unnoticed.
	if strings.Contains(stderr.String(), "io_uring unavailable") {
		t.Fatalf("the run fell back to threads: %s", stderr.String())
	}
	return run
}

// run runs one of the box's verbs (pause, resume, break) now.
func (b *labBox) run(t *testing.T, verb string) {
	b.box.Run(t, verb)
}

// cmd is the box's control command for a drill: "stallbox.sh pause DIR".
func (b *labBox) cmd(verb string) string { return b.box.Cmd(verb) }

// TestDrillStallMeasured pauses the lab box by a drill's inject command and
// releases it by the recover command 1.5 s and 3 s later: the drill's
// measured stall is the pause to within 50 ms, detection and time to
// resume are consistent with it, and throughput came back.
func TestDrillStallMeasured(t *testing.T) { forEngines(t, testDrillStallMeasured) }

func testDrillStallMeasured(t *testing.T, engine string) {
	b := newLabBox(t, 64)
	dir := t.TempDir()
	sc := writeScenario(t, dir, withEngine(engine, fmt.Sprintf(`
name: lab-drill
stall_threshold: 300ms
targets: [{name: box, path: %s}]
phases:
  - name: load
    rw: randread
    bs: 4k
    qd: 4
    duration: 12s
    drills:
      - {name: short, at: 2s, inject: "%s", recover: {command: "%s", at: 1500ms}}
      - {name: long, at: 6s, inject: "%s", recover: {command: "%s", at: 3s}}
`, b.dev, b.cmd("pause"), b.cmd("resume"), b.cmd("pause"), b.cmd("resume"))))
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitPass)
	if len(run.Drills) != 2 {
		t.Fatalf("drills: %+v", run.Drills)
	}
	for i, want := range []time.Duration{1500 * time.Millisecond, 3 * time.Second} {
		d := run.Drills[i]
		if !d.Injected || !d.Inject.OK() || !d.Recover.OK() || len(d.Targets) != 1 {
			t.Fatalf("drill %s: %+v", d.Name, d)
		}
		if _, err := os.Stat(filepath.Join(out, d.Inject.Output)); err != nil {
			t.Errorf("drill %s: inject output not saved: %v", d.Name, err)
		}
		// The pause is what the commands did: from the inject command's
		// end (bindfs stopped) to the recover command's end (continued).
		pause := d.Recover.End.Sub(d.Inject.End)
		dt := d.Targets[0]
		if !dt.Stalled || !dt.Resumed {
			t.Fatalf("drill %s: %+v", d.Name, dt)
		}
		if e := dt.Stall - pause; e < -50*time.Millisecond || e > 50*time.Millisecond {
			t.Errorf("drill %s: stall %v for a pause of %v (planned %v)", d.Name, dt.Stall, pause, want)
		}
		// Resume = detection + stall, and the resume follows the recover.
		if dt.Resume != dt.Detection+dt.Stall {
			t.Errorf("drill %s: resume %v != detection %v + stall %v", d.Name, dt.Resume, dt.Detection, dt.Stall)
		}
		// The last completion before the gap falls inside the inject
		// command's run (bindfs is stopped by then), so detection is
		// bounded by how long that command took, plus up to 100 ms for a
		// worker to be scheduled and stamp a completion the kernel already made.
		if limit := d.Inject.End.Sub(d.InjectAt) + 100*time.Millisecond; dt.FirstAfter.Before(d.RecoverAt) || dt.Detection > limit {
			t.Errorf("drill %s: detection %v (limit %v), first completion %v vs recover %v", d.Name, dt.Detection, limit, dt.FirstAfter, d.RecoverAt)
		}
		// Throughput came back; how far depends on what else the two cores
		// run, so the ratio is checked for its arithmetic, not its size.
		if dt.Before <= 0 || dt.Worst != 0 || dt.After <= 0 || math.Abs(dt.AfterRatio-dt.After/dt.Before) > 1e-9 {
			t.Errorf("drill %s: throughput before %.0f worst %.0f after %.0f (ratio %.2f)", d.Name, dt.Before, dt.Worst, dt.After, dt.AfterRatio)
		}
		t.Logf("drill %s: pause %v measured %v (error %v), detection %v, resume %v, before %.1f MiB/s, after %.1f MiB/s",
			d.Name, pause.Round(time.Microsecond), dt.Stall.Round(time.Microsecond), (dt.Stall - pause).Round(time.Microsecond),
			dt.Detection.Round(time.Microsecond), dt.Resume.Round(time.Microsecond), dt.Before/(1<<20), dt.After/(1<<20))
	}
	evs, err := report.ReadEvents(out)
	if err != nil {
		t.Fatal(err)
	}
	var injects []string
	for _, e := range evs {
		if e.Kind.String() == "drill_inject" {
			injects = append(injects, e.Path)
		}
	}
	if strings.Join(injects, ",") != "short,long" {
		t.Errorf("drill_inject events for %v, want short,long", injects)
	}
}

// TestDrillBrokenDevice kills the lab box's bindfs under load: every I/O
// after it fails. The errors are counted by errno in the drill and the
// phase, the run ends with a clear verdict (the scenario wants no errors)
// instead of a panic, and the results are written.
func TestDrillBrokenDevice(t *testing.T) { forEngines(t, testDrillBrokenDevice) }

func testDrillBrokenDevice(t *testing.T, engine string) {
	b := newLabBox(t, 64)
	dir := t.TempDir()
	sc := writeScenario(t, dir, withEngine(engine, fmt.Sprintf(`
name: lab-break
stall_threshold: 300ms
targets: [{name: box, path: %s}]
phases:
  - name: load
    rw: randread
    bs: 4k
    qd: 2
    duration: 4s
    drills:
      - {name: kill, at: 1500ms, inject: "%s"}
criteria:
  errors: "== 0"
`, b.dev, b.cmd("break"))))
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitFail)
	if run.Status != "finished" || run.Verdict != report.Fail {
		t.Errorf("status %q verdict %q", run.Status, run.Verdict)
	}
	if len(run.Phases) != 1 || run.Phases[0].Errors == 0 || run.Phases[0].Errnos["EIO"] == 0 {
		t.Fatalf("phase results: %+v", run.Phases)
	}
	dt := run.Drills[0].Targets[0]
	if dt.Errors == 0 || dt.Errnos["EIO"] != dt.Errors {
		t.Errorf("drill errors %d by errno %v", dt.Errors, dt.Errnos)
	}
	for _, f := range []string{"intervals.csv", "events.jsonl", "report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("results: %v", err)
		}
	}
	t.Logf("after bindfs was killed: %d errors (%v) in the phase, %d in the drill's window", run.Phases[0].Errors, run.Phases[0].Errnos, dt.Errors)
}

// TestDrillVerifyMixed freezes the lab box under a verified random mix of
// reads and writes: the pass after the drill's recovery, the reads' inline
// checks, the pass at the phase end and `lunbench verify` afterwards all
// find every acknowledged write intact (the writes caught in the freeze
// were acknowledged after it, so they must hold the new data).
func TestDrillVerifyMixed(t *testing.T) { forEngines(t, testDrillVerifyMixed) }

func testDrillVerifyMixed(t *testing.T, engine string) {
	b := newLabBox(t, 32)
	dir := t.TempDir()
	sc := writeScenario(t, dir, withEngine(engine, fmt.Sprintf(`
name: lab-verify
stall_threshold: 300ms
targets: [{name: box, path: %s, allow_write: true}]
phases:
  - name: mixed
    rw: randrw
    read_pct: 50
    bs: 8k
    qd: 4
    duration: 7s
    verify: true
    drills:
      - {name: freeze, at: 2s, inject: "%s", recover: {command: "%s", at: 1500ms}}
criteria:
  lost_writes: "== 0"
  corrupt_blocks: "== 0"
`, b.dev, b.cmd("pause"), b.cmd("resume"))))
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitPass)
	when := map[string]bool{}
	for _, v := range run.Verify {
		when[v.When] = true
		if v.Problems() != 0 || v.Blocks == 0 {
			t.Errorf("verify pass %q: %d blocks, %v, findings %+v", v.When, v.Blocks, v.Counts, v.Findings)
		}
		t.Logf("verify pass %q: %d blocks %v in doubt %d", v.When, v.Blocks, v.Counts, v.InDoubt)
	}
	for _, w := range []string{"drill freeze", "phase end", "inline (reads of the phase)"} {
		if !when[w] {
			t.Errorf("no verify pass %q in %v", w, when)
		}
	}
	if dt := run.Drills[0].Targets[0]; !dt.Stalled {
		t.Errorf("the freeze did not stall I/O: %+v", dt)
	}
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"verify", out}, nil, &stdout, &stderr, nil); code != exitPass {
		t.Fatalf("lunbench verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestVerifyUnreadableNotCorrupt writes the lab box verified, then kills
// its bindfs during a verified read phase: every read-back fails with EIO.
// The blocks are unreadable (with the errno), not corrupt; each pass counts
// each block once, and unreadable_blocks over the run is the distinct
// blocks (the device's 256), not the sum of the passes. The drill's own
// pass waits for I/O to flow again, which it never does: the phase ends'
// passes (of read and of read2) read the dead device instead.
func TestVerifyUnreadableNotCorrupt(t *testing.T) {
	b := newLabBox(t, 16)
	dir := t.TempDir()
	sc := writeScenario(t, dir, fmt.Sprintf(`
name: lab-eio
stall_threshold: 300ms
targets: [{name: box, path: %s, allow_write: true}]
defaults: {bs: 64k, verify: true}
phases:
  - {name: fill, rw: write, qd: 4, bytes: 16MiB}
  - name: read
    rw: read
    qd: 2
    duration: 3s
    drills:
      - {name: kill, at: 500ms, inject: "%s"}
  - {name: read2, rw: read, qd: 2, duration: 1s}
criteria:
  corrupt_blocks: "== 0"
  unreadable_blocks: "== 0"
`, b.dev, b.cmd("break")))
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitFail)
	const units = 16 << 20 / (64 << 10)
	var failed int
	for _, v := range run.Verify {
		if v.Phase == "fill" || v.When == "inline (reads of the phase)" {
			continue
		}
		if v.When != "phase end" {
			t.Errorf("pass %q while every I/O failed: a pass waits for I/O to flow", v.When)
		}
		failed++
		if v.Counts["unreadable"] != units || v.Unreadable != units || v.Counts["corrupt"] != 0 || v.Blocks != units {
			t.Errorf("pass %s: %d blocks, %v", v.When, v.Blocks, v.Counts)
		}
		if len(v.Findings) == 0 || !strings.Contains(v.Findings[0].Detail, "EIO") || v.Findings[0].Class.String() != "unreadable" {
			t.Errorf("pass %s: findings %+v", v.When, v.Findings[:min(len(v.Findings), 2)])
		}
	}
	if failed < 2 {
		t.Fatalf("%d passes after the break, want the ends of read and read2: %+v", failed, run.Verify)
	}
	got := map[string]float64{}
	for _, c := range run.Criteria {
		got[c.Metric] = c.Measured
	}
	if got["corrupt_blocks"] != 0 || got["unreadable_blocks"] != units {
		t.Errorf("criteria measured %v, want corrupt_blocks 0 and unreadable_blocks %d (the distinct blocks, not %d passes summed)", got, units, failed)
	}
	t.Logf("%d passes after the break, each %d unreadable; run-wide unreadable_blocks %v, corrupt_blocks %v", failed, units, got["unreadable_blocks"], got["corrupt_blocks"])
}

// TestBrokenDeviceBackoff kills the lab box under load: every later I/O
// fails with EIO at once. The workers back off (1 ms doubling to 100 ms)
// instead of retrying at line rate: the errors per second stay near
// qd × 10, the process uses little CPU while the device is dead, and the
// results record the backoffs.
func TestBrokenDeviceBackoff(t *testing.T) { forEngines(t, testBrokenDeviceBackoff) }

func testBrokenDeviceBackoff(t *testing.T, engine string) {
	b := newLabBox(t, 64)
	dir := t.TempDir()
	const qd = 4
	sc := writeScenario(t, dir, withEngine(engine, fmt.Sprintf(`
name: lab-backoff
targets: [{name: box, path: %s}]
phases:
  - {name: load, rw: randread, bs: 4k, qd: %d, duration: 6s}
`, b.dev, qd)))
	var cpu time.Duration
	var broken, window time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(1500 * time.Millisecond)
		t0 := time.Now()
		b.run(t, "break")
		time.Sleep(500 * time.Millisecond)
		c0, w0 := cpuTime(t), time.Now()
		time.Sleep(3 * time.Second)
		cpu, window = cpuTime(t)-c0, time.Since(w0)
		broken = time.Since(t0)
	}()
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitPass)
	<-done
	if len(run.Phases) != 1 {
		t.Fatalf("phases: %+v", run.Phases)
	}
	p := run.Phases[0]
	// Each worker: the ramp-up (1+2+...+64 ms) then at most one error per
	// 100 ms, over the time the box was dead (to the phase end, ~4.5 s).
	dead := p.End.Sub(p.Start) - 1500*time.Millisecond + time.Second
	limit := uint64(qd * (int(dead/(100*time.Millisecond)) + 10))
	if p.Errors == 0 || p.Errors > limit || p.Backoffs == 0 || p.BackoffTime < time.Second {
		t.Errorf("%d errors (limit %d), %d backoffs for %v", p.Errors, limit, p.Backoffs, p.BackoffTime)
	}
	if md, err := os.ReadFile(filepath.Join(out, "report.md")); err != nil || !strings.Contains(string(md), "retries backed off") {
		t.Errorf("report.md does not say the retries backed off (%v)", err)
	}
	// CPU while the box was dead: well under a tenth of one core.
	if cpu > window/10 {
		t.Errorf("%v of CPU in %v with the device dead", cpu, window)
	}
	t.Logf("after the break: %d errors in ~%v (limit %d), %d backoffs totalling %v; CPU %v in a %v window",
		p.Errors, broken.Round(100*time.Millisecond), limit, p.Backoffs, p.BackoffTime.Round(time.Millisecond), cpu.Round(time.Millisecond), window.Round(time.Millisecond))
}

// forEngines runs a lab test once per engine, so that stalls, drills,
// verify and backoff are shown to behave the same on both.
func forEngines(t *testing.T, test func(t *testing.T, engine string)) {
	for _, engine := range []string{"threads", "io_uring"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "io_uring" {
				r, err := uring.New(1)
				if err != nil {
					t.Skipf("io_uring unavailable here (%v)", err)
				}
				r.Close()
			}
			test(t, engine)
		})
	}
}

// withEngine sets the engine of every phase of a scenario that has no
// defaults: mapping of its own.
func withEngine(engine, scenario string) string {
	return strings.TrimRight(scenario, "\n") + "\ndefaults: {engine: " + engine + "}\n"
}

// cpuTime is the CPU (user + system) this process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
