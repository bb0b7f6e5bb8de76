package workload

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"lunbench/scenarios"
)

// TestSlowPacedPhaseEndsOnTime: a worker waiting for its next slot of a
// slowly paced phase (one I/O every 4 s) notices the phase's end at once
// instead of sleeping through it.
func TestSlowPacedPhaseEndsOnTime(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "t.dat")
	sc, err := scenarios.Parse("t.yaml", []byte("name: slow\ntargets: [{name: f, path: "+path+", size: 1MiB}]\n"+
		"phases: [{name: p, rw: randread, bs: 4k, qd: 2, rate_iops: 0.5, duration: 300ms}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{}, &eventLog{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > 1500*time.Millisecond {
		t.Fatalf("a 300 ms phase took %v to end", took)
	}
}
