package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"lunbench/scenarios"
)

// TestVerifyPauseIsNoStall runs a verified phase whose drill asks for a
// verify pass: the pass parks the workers for longer than the stall
// threshold (it reads back every block written so far), so the gap in
// completions it leaves is lunbench's own pause. It must not be listed as
// a stall of the device, nor charged to the drill; the pass itself shows
// as a verify event with its duration.
func TestVerifyPauseIsNoStall(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lb15r-vpause.dat")
	const threshold = 50 * time.Millisecond
	sc, err := scenarios.Parse("test.yaml", []byte(fmt.Sprintf(`
name: verify-pause
interval: 250ms
stall_threshold: %v
targets: [{name: f, path: %s, size: 64MiB, allow_write: true}]
phases:
  - name: load
    rw: randrw
    bs: 4k
    qd: 4
    duration: 3s
    verify: true
    drills:
      - {name: d1, at: 1s, inject: "one", recover: {command: "undo-one", at: 100ms}}
`, threshold, path)), nil)
	if err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	r, err := NewRunner(sc, Options{Commands: &fakeCommands{}}, events)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pass time.Duration
	for _, v := range res.Verify {
		if v.When == "drill d1" {
			pass = v.End.Sub(v.Start)
		}
	}
	if pass == 0 {
		t.Fatalf("no verify pass after drill d1: %+v", res.Verify)
	}
	t.Logf("verify pass after d1 parked the workers %v (threshold %v); stalls %+v", pass, threshold, res.Stalls)
	if pass <= threshold {
		t.Skipf("the pass took %v, not longer than the %v threshold: nothing to tell apart", pass, threshold)
	}
	for _, s := range res.Stalls {
		if s.Dur >= pass-threshold {
			t.Errorf("stall %v at %v..%v: the verify pass's pause (%v) counted as a stall", s.Dur, s.Start, s.End, pass)
		}
	}
	for _, d := range res.Drills {
		for _, tr := range d.Targets {
			if tr.Stall >= pass-threshold {
				t.Errorf("drill %s: stall %v on %s is the verify pause (%v)", d.Name, tr.Stall, tr.Target, pass)
			}
		}
	}
}
