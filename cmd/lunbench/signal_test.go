package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startedRun is a real lunbench process running a scenario.
type startedRun struct {
	cmd    *exec.Cmd
	out    string // results directory
	stderr *bytes.Buffer
	done   chan error
}

// startRun starts bin on the scenario src (written to dir), with env
// added to the environment, and returns once the run has announced its
// results directory.
func startRun(t *testing.T, bin, dir, src string, env ...string) *startedRun {
	t.Helper()
	sc := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(sc, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &startedRun{out: filepath.Join(dir, "out"), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(bin, "run", sc, "--no-tui", "--out", r.out)
	r.cmd.Stderr = r.stderr
	r.cmd.Env = append(os.Environ(), env...)
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill() // by PID: only the process this test started
			<-r.done
		}
	})
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			if !announced && strings.Contains(sc.Text(), "results in") {
				announced = true
				close(started)
			}
		}
		if !announced {
			close(started)
		}
		r.done <- r.cmd.Wait()
	}()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatalf("the run never started; stderr:\n%s", r.stderr)
	}
	return r
}

// wait returns the exit code, failing the test after timeout.
func (r *startedRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("lunbench did not exit within %s; stderr:\n%s", timeout, r.stderr)
	}
	return -1
}

// phaseEnd reads the time of the last phase_end event of the run.
func phaseEnd(t *testing.T, out string) time.Time {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e struct {
			Time time.Time `json:"time"`
			Kind string    `json:"kind"`
		}
		if json.Unmarshal(line, &e) == nil && e.Kind == "phase_end" {
			last = e.Time
		}
	}
	if last.IsZero() {
		t.Fatalf("no phase_end event in events.jsonl:\n%s", b)
	}
	return last
}

// TestSignalStopsWithinASecond sends SIGINT or SIGTERM to a real run and
// checks that its I/O stopped within a second of the signal (the phase_end
// event) and that it exits 130. Before issue 11, a fast pace after a stall
// spun in Recorder.Missed and the signal was never answered.
func TestSignalStopsWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, t.TempDir())
	// One second to answer, plus slack for a loaded 2-core machine; the
	// hang this guards against never ends.
	const answer, slack = time.Second, 2 * time.Second
	phase := "    rw: randread\n    bs: 4k\n    duration: 60s\n"
	tests := []struct {
		name  string
		sig   syscall.Signal
		extra string // more keys of the one phase
	}{
		// The fastest pace allowed: every I/O is behind its slot.
		{"SIGINT at the top rate", syscall.SIGINT, "    qd: 4\n    rate_iops: 10000000\n"},
		// The slowest pace: workers sleep 10 s between I/Os.
		{"SIGTERM at the lowest rate", syscall.SIGTERM, "    rate_iops: 0.1\n"},
		// Closed loop, writes, the deepest queue.
		{"SIGINT closed loop qd 64", syscall.SIGINT, "    rw: randwrite\n    qd: 64\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := fmt.Sprintf("name: sig\ntargets: [{name: f, path: %s, size: 64MiB, allow_write: true}]\nphases:\n  - name: p\n%s%s",
				filepath.Join(dir, "lbhost-sig.dat"), tt.extra, phase)
			if strings.Contains(tt.extra, "rw:") {
				src = strings.Replace(src, "    rw: randread\n", "", 1)
			}
			r := startRun(t, bin, dir, src)
			time.Sleep(1500 * time.Millisecond)
			sent := time.Now()
			if err := r.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t, 60*time.Second); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, r.stderr)
			}
			// An interrupted run never reads as green.
			checkIncomplete(t, r.out, "the run was interrupted")
			if took := phaseEnd(t, r.out).Sub(sent); took > answer+slack {
				t.Fatalf("the phase ended %s after %v, want within %s (+%s slack)", took, tt.sig, answer, slack)
			} else {
				t.Logf("%v answered: phase ended %s after the signal", tt.sig, took.Round(time.Millisecond))
			}
		})
	}
}

// checkIncomplete checks that a run's report says INCOMPLETE with why and
// that its junit.xml has failures.
func checkIncomplete(t *testing.T, out, why string) {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**Verdict: INCOMPLETE**") || !strings.Contains(string(md), why) {
		t.Errorf("report.md does not say INCOMPLETE (%s):\n%s", why, md)
	}
	j, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `<testcase name="run finished"`) || strings.Contains(string(j), `failures="0"`) {
		t.Errorf("junit.xml of an unfinished run:\n%s", j)
	}
}

// TestKilledRunReport kills a real run with SIGKILL in its first phase
// and rebuilds its report: it must read INCOMPLETE with both criteria not
// evaluated, the first phase's figures from intervals.csv and the hlogs,
// the later phase listed as not run, a failing junit.xml, and the pid file
// recognised as stale by mark.
func TestKilledRunReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, t.TempDir())
	dir := t.TempDir()
	src := fmt.Sprintf(`name: killme
targets: [{name: f, path: %s, size: 64MiB, allow_write: true}]
phases:
  - {name: one, rw: randread, bs: 4k, qd: 2, duration: 60s}
  - {name: two, rw: randwrite, bs: 4k, duration: 5s}
criteria:
  errors: "== 0"
  max_stall: "<= 5s"
`, filepath.Join(dir, "lbhost-kill.dat"))
	r := startRun(t, bin, dir, src)
	time.Sleep(3 * time.Second) // a few intervals written
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 30*time.Second); code != -1 {
		t.Fatalf("exit %d after SIGKILL", code)
	}
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"report", r.out}, nil, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr.String())
	}
	checkIncomplete(t, r.out, "the run was killed")
	md, _ := os.ReadFile(filepath.Join(r.out, "report.md"))
	for _, want := range []string{"phases not run: two", "| errors == 0 | (run) |  | - | == 0 | ⚠️ NOT EVALUATED",
		"| max_stall <= 5s | (run) |  | - | <= 5s | ⚠️ NOT EVALUATED", "| one | f | read |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if code := execute([]string{"mark", r.out}, nil, &stdout, &stderr, nil); code != exitUsage || !strings.Contains(stderr.String(), "which is gone (a killed run)") {
		t.Errorf("mark on a killed run: exit %d: %s", code, stderr.String())
	}
	if t.Failed() {
		t.Logf("report.md:\n%s", md)
	}
}

// TestSignalWithHungDevice interrupts a run whose device has frozen (the
// lab box's bindfs stopped, so every in-flight I/O hangs): the phase must
// still end within a second of SIGINT, not after the 5 s drain a phase end
// allows, and the run must write its results and exit 130 once the
// kernel lets its threads go (they sit in uninterruptible I/O until the
// box resumes).
func TestSignalWithHungDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	box := newLabBox(t, 64)
	bin := buildBinary(t, t.TempDir())
	dir := t.TempDir()
	src := fmt.Sprintf("name: hung\ntargets: [{name: box, path: %s}]\nphases:\n  - {name: p, rw: randread, bs: 4k, qd: 4, duration: 60s}\n", box.dev)
	r := startRun(t, bin, dir, src)
	time.Sleep(1500 * time.Millisecond)
	box.run(t, "pause")
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The phase ends (and is logged) while the I/O is still stuck.
	var ended time.Time
	for deadline := time.Now().Add(20 * time.Second); ended.IsZero() && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(r.out, "events.jsonl")); err == nil && bytes.Contains(b, []byte(`"kind":"phase_end"`)) {
			ended = phaseEnd(t, r.out)
		}
	}
	box.run(t, "resume")
	if ended.IsZero() {
		t.Fatalf("the phase never ended after SIGINT; stderr:\n%s", r.stderr)
	}
	if code := r.wait(t, 60*time.Second); code != exitInterrupted {
		t.Fatalf("exit %d; stderr:\n%s", code, r.stderr)
	}
	// One second to answer plus slack for a loaded machine; before, the
	// drain waited 5 s for I/O that could not complete.
	if took := ended.Sub(sent); took > 3*time.Second {
		t.Fatalf("the phase ended %s after SIGINT with the device hung", took)
	} else {
		t.Logf("phase ended %s after SIGINT with the device hung", took.Round(time.Millisecond))
	}
	checkIncomplete(t, r.out, "the run was interrupted")
}
