package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// TestDrillBudgetNotAvailable runs a drill on the lab box (a loop device
// over FUSE, no iSCSI: this machine's kernel has no iSCSI transport) whose
// 1.5 s pause breaks max_stall <= 500ms. The failover budget must say
// "not available" with the reason, in run.json, the summary and the
// report, and carry the measured stall; with no IP under the target no
// likely causes are listed.
func TestDrillBudgetNotAvailable(t *testing.T) {
	b := newLabBox(t, 64)
	dir := t.TempDir()
	sc := writeScenario(t, dir, fmt.Sprintf(`
name: lab-budget
stall_threshold: 300ms
targets: [{name: box, path: %s}]
phases:
  - name: load
    rw: randread
    bs: 4k
    qd: 4
    duration: 6s
    drills:
      - {name: pull, at: 2s, inject: "%s", recover: {command: "%s", at: 1500ms}, expect: {max_stall: "<= 500ms"}}
`, b.dev, b.cmd("pause"), b.cmd("resume")))
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal)); code != exitFail {
		t.Fatalf("exit %d, want %d (max_stall broken)\n%s%s", code, exitFail, stdout.String(), stderr.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	dt := run.Drills[0].Targets[0]
	bg := dt.Budget
	if bg == nil || bg.Available || bg.Predicted != 0 || bg.Ratio != 0 || bg.Finding != "" {
		t.Fatalf("budget %+v", bg)
	}
	dev := filepath.Base(b.dev)
	for _, want := range []string{b.dev + " is a loop device, not an iSCSI LUN", "this host has no iSCSI session"} {
		if !strings.Contains(bg.Reason, want) {
			t.Errorf("reason %q lacks %q", bg.Reason, want)
		}
	}
	if !dt.Stalled || bg.Measured != dt.Stall || dt.Stall < time.Second {
		t.Errorf("measured %v, stall %v (stalled %v)", bg.Measured, dt.Stall, dt.Stalled)
	}
	if bg.Failure != "session" || bg.FailureFrom != "topology" {
		t.Errorf("failure %q from %q", bg.Failure, bg.FailureFrom)
	}
	if len(dt.Causes) != 0 {
		t.Errorf("likely causes listed for %s, which is not reached through an IP: %+v", dev, dt.Causes)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	line := "not available: " + bg.Reason
	if !strings.Contains(stdout.String(), line) || !strings.Contains(string(md), line) {
		t.Errorf("summary or report.md lacks %q\n%s", line, stdout.String())
	}
	t.Logf("stall %v; budget: %s", dt.Stall, line)
}
