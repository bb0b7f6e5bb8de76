package workload

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lunbench/scenarios"
)

// stuckSink stands for an aggregator that cannot run (on a host with more
// busy worker threads than CPUs it got its turn seconds late): its first
// Add blocks for hold.
type stuckSink struct {
	hold  time.Duration
	calls atomic.Int32
}

func (s *stuckSink) Add(*Snapshot) {
	if s.calls.Add(1) == 1 {
		time.Sleep(s.hold)
	}
}

// TestPhaseEndsOnTimeWithoutAggregator: the workers stop at the phase's
// deadline themselves, and the measured time ends at the last completion,
// while the aggregator is held up three times the phase's length.
func TestPhaseEndsOnTimeWithoutAggregator(t *testing.T) {
	const dur = 400 * time.Millisecond
	path := filepath.Join(diskTempDir(t), "t.dat")
	sc, err := scenarios.Parse("t.yaml", []byte("name: stuck\ntargets: [{name: f, path: "+path+", size: 4MiB}]\n"+
		"phases: [{name: p, rw: randread, bs: 4k, qd: 2, duration: "+dur.String()+"}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := &stuckSink{hold: 3 * dur}
	r, err := NewRunner(sc, Options{Tick: 50 * time.Millisecond}, &eventLog{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sink.calls.Load() == 0 {
		t.Fatal("the sink was never called: the test held nothing up")
	}
	p := res.Phases[0]
	if p.Ops == 0 {
		t.Fatal("no I/O measured")
	}
	// Measured time: the phase's length, plus the last I/O and a loaded
	// machine's scheduling; far from the 1.2 s the aggregator was held.
	if got := time.Duration(p.Seconds * float64(time.Second)); got < dur || got > dur+dur/2 {
		t.Fatalf("measured %v for a %v phase whose aggregator was held %v", got, dur, sink.hold)
	}
}

// procThreads is the process's OS thread count (proc(5): Threads: in
// /proc/self/status).
func procThreads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}

// TestThreadsBounded bounds the OS threads a phase adds. Each worker's
// goroutine holds a thread while its I/O is in the kernel, and the phase
// raises GOMAXPROCS to workers + 2, each P of which may run a thread of
// its own: the garbage collector's idle mark workers take idle Ps, which
// is how the count grew during long runs (41 to 63 at qd 32), one GC
// cycle at a time. A GC forced every few milliseconds here provokes the
// worst case; threads never exit, so the bound is on growth.
func TestThreadsBounded(t *testing.T) {
	const targets, qd = 2, 8
	dir := diskTempDir(t)
	y := "name: threads\ntargets:\n"
	for i := range targets {
		y += "  - {name: f" + strconv.Itoa(i) + ", path: " + filepath.Join(dir, "t"+strconv.Itoa(i)) + ", size: 4MiB}\n"
	}
	y += "phases: [{name: p, rw: randread, bs: 4k, qd: " + strconv.Itoa(qd) + ", duration: 1s}]\n"
	sc, err := scenarios.Parse("t.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{}, &eventLog{})
	if err != nil {
		t.Fatal(err)
	}
	before := procThreads(t)
	var most atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				runtime.GC()
				if n := int64(procThreads(t)); n > most.Load() {
					most.Store(n)
				}
			}
		}
	}()
	_, err = r.Run(context.Background())
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	workers := targets * qd
	// Workers in the kernel, one thread per P, and a few of the runtime's
	// own (sysmon, a template thread, the GC's background workers).
	bound := 2*workers + 2 + 8
	grew := int(most.Load()) - before
	t.Logf("threads: %d before, at most %d during the phase (+%d; bound +%d)", before, most.Load(), grew, bound)
	if grew > bound {
		t.Fatalf("the phase added %d OS threads, want at most %d (%d workers)", grew, bound, workers)
	}
}
