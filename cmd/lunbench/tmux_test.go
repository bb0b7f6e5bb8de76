package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// TestDashboardInTmux drives the real binary in a real terminal: the
// dashboard shows the phase and non-zero throughput, q ends the run, the
// exit code is 130 and the results are marked interrupted.
func TestDashboardInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux (Debian package tmux)")
	}
	dir := directDir(t)
	bin := filepath.Join(dir, "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sc := writeScenario(t, dir, `
name: tmuxdash
targets: [{name: scratch, path: `+filepath.Join(dir, "t.dat")+`, size: 64MiB, allow_write: true}]
phases:
  - {name: seq-write-dash, rw: write, bs: 256k, qd: 4, duration: 30s}
  - {name: never-reached, rw: read, bs: 256k, duration: 30s}
`)
	out := filepath.Join(dir, "res")
	exitFile := filepath.Join(dir, "exit")
	// A private server socket: nothing else's tmux sessions are touched.
	sock := fmt.Sprintf("lunbench-test-%d", os.Getpid())
	tm := func(args ...string) (string, error) {
		b, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		return string(b), err
	}
	t.Cleanup(func() { tm("kill-server") })
	shell := fmt.Sprintf("%s run %s --out %s; echo $? > %s; sleep 60", bin, sc, out, exitFile)
	if o, err := tm("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", shell); err != nil {
		t.Fatalf("tmux: %v %s", err, o)
	}
	var screen string
	mibs := regexp.MustCompile(`scratch(?: \([^)]*\))?\s+write\s+[\d,]+\s+([\d.]+)`) // the target, with its file's name
	deadline := time.Now().Add(20 * time.Second)
	for {
		screen, _ = tm("capture-pane", "-p", "-t", "t")
		if m := mibs.FindStringSubmatch(screen); m != nil && m[1] != "0" && m[1] != "0.00" &&
			strings.Contains(screen, "seq-write-dash") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard never showed the phase with non-zero MiB/s:\n%s", screen)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("80x24 capture:\n%s", screen)
	tm("send-keys", "-t", "t", "q")
	deadline = time.Now().Add(20 * time.Second)
	var code string
	for {
		b, err := os.ReadFile(exitFile)
		if err == nil && len(b) > 0 {
			code = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			s, _ := tm("capture-pane", "-p", "-t", "t")
			t.Fatalf("q did not end the run:\n%s", s)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != "130" {
		t.Fatalf("exit code %s after q, want 130", code)
	}
	run, err := report.ReadRun(out)
	if err != nil || run.Status != "interrupted" || len(run.Phases) != 1 || run.Phases[0].Ops == 0 {
		t.Fatalf("run.json after q: %+v %v", run, err)
	}
	// The terminal was restored: the summary printed after the dashboard.
	final, _ := tm("capture-pane", "-p", "-t", "t")
	if !strings.Contains(final, "verdict: INTERRUPTED") {
		t.Fatalf("no summary after the dashboard closed:\n%s", final)
	}
}
