package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/uring"
)

// skipNoURing skips when this kernel or sandbox refuses io_uring.
func skipNoURing(t testing.TB) {
	t.Helper()
	r, err := uring.New(1)
	if err != nil {
		t.Skipf("io_uring unavailable here (%v)", err)
	}
	r.Close()
}

// runWith parses src and runs it with opt, returning the events too.
func runWith(t *testing.T, src string, opt Options) (*scenarios.Scenario, *Result, *eventLog) {
	t.Helper()
	sc, err := scenarios.Parse("t.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{}
	r, err := NewRunner(sc, opt, log)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sc, res, log
}

// TestRingEngineEndToEnd runs io_uring phases against a real O_DIRECT
// file: a verified random mix (stamps written through registered buffers,
// checked inline on read and by the end-of-phase pass), a sequential read
// bounded by bytes, an open-loop phase whose rate must hold, and a
// closed-loop phase with think time.
func TestRingEngineEndToEnd(t *testing.T) {
	skipNoURing(t)
	path := filepath.Join(diskTempDir(t), "lb18u-ring.dat")
	const rate = 400.0
	src := "name: ring\ntargets: [{name: f, path: " + path + ", size: 64MiB, allow_write: true}]\ndefaults: {engine: io_uring}\nphases:\n" +
		"  - {name: verified, rw: randrw, bs: {4k: 60%, 16k: 40%}, qd: 8, verify: true, duration: 1s}\n" +
		"  - {name: seq, rw: read, bs: 64k, qd: 4, bytes: 16MiB}\n" +
		"  - {name: paced, rw: randread, bs: 4k, qd: 4, rate_iops: 400, duration: 2s}\n" +
		"  - {name: think, rw: randread, bs: 4k, qd: 2, think: 5ms, duration: 1s}\n"
	_, res, log := runWith(t, src, Options{})
	for _, d := range log.details(EvNote) {
		if strings.Contains(d, "io_uring") {
			t.Errorf("unexpected io_uring note: %s", d)
		}
	}
	for _, d := range log.details(EvPhaseStart) {
		if !strings.HasSuffix(d, " engine=io_uring") {
			t.Errorf("phase_start %q does not say the engine", d)
		}
	}
	for _, pr := range res.Phases {
		if pr.Errors > 0 || pr.Ops == 0 {
			t.Fatalf("%s %s: %d ops, %d errors", pr.Phase, pr.Op, pr.Ops, pr.Errors)
		}
		switch pr.Phase {
		case "seq":
			// Each of 4 workers reads its quarter, whole 64 KiB blocks.
			if pr.Bytes < 16<<20 || pr.Bytes > 16<<20+4*64<<10 {
				t.Errorf("seq: %d bytes, want 16 MiB", pr.Bytes)
			}
		case "paced":
			// Open loop: I/Os issued or missed follow the scenario's
			// rate over the measured time, within 5% of timer slack on
			// a loaded machine.
			want := rate * pr.Seconds
			if got := float64(pr.Ops + pr.Missed); got < want*0.95 || got > want*1.05 {
				t.Errorf("paced: %d I/Os (%d missed) in %.2fs, want %.0f", pr.Ops, pr.Missed, pr.Seconds, want)
			}
		case "think":
			// qd slots that pause think after each I/O cannot exceed
			// qd/think I/Os a second.
			if limit := 2 / 0.005 * pr.Seconds; float64(pr.Ops) > limit*1.01 || pr.Ops < 10 {
				t.Errorf("think: %d I/Os in %.2fs, at most %.0f allowed", pr.Ops, pr.Seconds, limit)
			}
		}
	}
	if len(res.Verify) < 2 {
		t.Fatalf("%d verify summaries, want inline and phase end", len(res.Verify))
	}
	for _, v := range res.Verify {
		if v.Problems() != 0 || v.Blocks == 0 {
			t.Errorf("verify %s: %d blocks, %v", v.When, v.Blocks, v.Counts)
		}
	}
}

// TestRingFallback makes io_uring setup fail as a seccomp profile or
// kernel.io_uring_disabled=2 would (EPERM): the phase must still run, on
// threads, and say so in an event and a warning.
func TestRingFallback(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lb18u-fallback.dat")
	var mu sync.Mutex
	var warns []string
	opt := Options{
		RingSetup: func(uint32) (*uring.Ring, error) { return nil, fmt.Errorf("io_uring_setup: %w", syscall.EPERM) },
		Warn:      func(m string) { mu.Lock(); warns = append(warns, m); mu.Unlock() },
	}
	src := "name: fb\ntargets: [{name: f, path: " + path + ", size: 8MiB}]\n" +
		"phases: [{name: p, rw: randread, bs: 4k, qd: 4, duration: 300ms, engine: io_uring}]\n"
	_, res, log := runWith(t, src, opt)
	if len(res.Phases) == 0 || res.Phases[0].Ops == 0 {
		t.Fatal("the phase did no I/O after the fallback")
	}
	if d := log.details(EvPhaseStart); len(d) != 1 || strings.Contains(d[0], "io_uring") {
		t.Errorf("phase_start %q after the fallback", d)
	}
	var note string
	for _, d := range log.details(EvNote) {
		if strings.Contains(d, "io_uring unavailable") {
			note = d
		}
	}
	for _, want := range []string{"operation not permitted", "threads engine", "kernel.io_uring_disabled"} {
		if !strings.Contains(note, want) {
			t.Errorf("fallback event %q does not say %q", note, want)
		}
	}
	if len(warns) != 1 || warns[0] != note {
		t.Errorf("warnings %q, want the event's text once", warns)
	}
}

// TestRingSlowPacedPhaseEndsOnTime: a slot waiting for a slow open-loop
// slot does not keep the ring from noticing the phase's end.
func TestRingSlowPacedPhaseEndsOnTime(t *testing.T) {
	skipNoURing(t)
	path := filepath.Join(diskTempDir(t), "lb18u-slow.dat")
	t0 := time.Now()
	runWith(t, "name: slow\ntargets: [{name: f, path: "+path+", size: 1MiB}]\n"+
		"phases: [{name: p, rw: randread, bs: 4k, qd: 2, rate_iops: 0.5, duration: 300ms, engine: io_uring}]\n", Options{})
	if took := time.Since(t0); took > 1500*time.Millisecond {
		t.Fatalf("a 300 ms phase took %v to end", took)
	}
}

// ringBench sets up one target's ring over a real file, as a phase does,
// without starting its goroutine: the caller turns it with step.
func ringBench(tb testing.TB, qd int) *ringRunner {
	tb.Helper()
	skipNoURing(tb)
	dir := tb.TempDir()
	if d, ok := tb.(*testing.T); ok {
		dir = diskTempDir(d)
	}
	path := filepath.Join(dir, "lb18u-bench.dat")
	sc, err := scenarios.Parse("b.yaml", []byte(fmt.Sprintf("name: b\ntargets: [{name: f, path: %s, size: 64MiB, allow_write: true}]\n"+
		"phases: [{name: p, rw: randrw, bs: 4k, qd: %d, duration: 1h, engine: io_uring}]\n", path, qd)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewRunner(sc, Options{}, &eventLog{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	pr := &phaseRun{r: r, p: sc.Phases[0]}
	if err := pr.openTargets(); err != nil {
		tb.Fatal(err)
	}
	pr.buildWorkers()
	rings := pr.newRings()
	if rings == nil {
		tb.Fatal("no ring")
	}
	tb.Cleanup(func() { rings[0].ring.Close() })
	// As run does: this thread alone submits (a single-issuer ring).
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
	if err := rings[0].ring.Enable(); err != nil {
		tb.Fatal(err)
	}
	return rings[0]
}

// BenchmarkRingIO is the io_uring engine's hot path over a real file at
// QD 32: each turn prepares, submits, waits for and completes I/Os, timing
// and recording each. Reported per I/O; it must not allocate.
func BenchmarkRingIO(b *testing.B) {
	rr := ringBench(b, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for rr.completions < uint64(b.N) {
		rr.step()
	}
}

// TestRingIOAllocs is BenchmarkRingIO's claim as a test: after warm-up,
// turning the ring allocates nothing.
func TestRingIOAllocs(t *testing.T) {
	rr := ringBench(t, 16)
	for i := 0; i < 100; i++ {
		rr.step()
	}
	before := rr.completions
	if a := testing.AllocsPerRun(200, rr.step); a != 0 {
		t.Fatalf("%v allocations per turn of the ring, want 0", a)
	}
	if rr.completions == before {
		t.Fatal("no I/O completed while measuring")
	}
}

// TestRingReopen: a slot whose I/O fails with ENODEV (an iSCSI session
// torn down, its sd device deleted) starts the target's reopen and waits;
// once the reopener has the device back, the ring swaps its registered file
// and the slot issues again on the new descriptor, its error run cleared.
func TestRingReopen(t *testing.T) {
	rr := ringBench(t, 2)
	t.Cleanup(rr.ro.close) // closes the descriptor the reopen replaced
	log := rr.ro.r.events.(*eventLog)
	w := rr.ws[0]
	// Slot 0's I/O is in flight (slot 1 is still to be prepared) ...
	rr.slots[0].state, rr.inflight, rr.readyq = slotInFlight, 1, rr.readyq[1:]
	w.cur = pending{op: Read, off: 0}
	// ... and fails because the device node vanished.
	oldGen := rr.gen
	rr.completed(0, -int32(syscall.ENODEV), syscall.ENODEV, rr.clock.Now())
	if rr.slots[0].state != slotReopen || rr.reopens != 1 {
		t.Fatalf("slot 0 %+v, reopens %d: not waiting for the reopen", rr.slots[0], rr.reopens)
	}
	// The file is still there with its size: the reopener gets it back.
	deadline := time.Now().Add(5 * time.Second)
	for rr.ro.gen.Load() == oldGen {
		if time.Now().After(deadline) {
			t.Fatal("the target was not reopened within 5s")
		}
		rr.step()
	}
	for i := 0; i < 3 && rr.slots[0].state != slotInFlight; i++ {
		rr.step()
	}
	if !rr.fixed {
		t.Error("the registered file was not updated to the new descriptor")
	}
	if rr.gen == oldGen || w.fdGen != rr.gen || w.errRun != 0 || rr.reopens != 0 {
		t.Fatalf("after the reopen: ring gen %d (was %d), slot gen %d, errRun %d, reopens %d", rr.gen, oldGen, w.fdGen, w.errRun, rr.reopens)
	}
	before := rr.completions
	for i := 0; i < 100 && rr.completions < before+4; i++ {
		rr.step()
	}
	if rr.completions < before+4 {
		t.Fatalf("%d I/Os completed on the reopened target", rr.completions-before)
	}
	if len(log.details(EvDeviceGone)) != 1 || len(log.details(EvDeviceBack)) != 1 {
		t.Errorf("events: gone %q, back %q", log.details(EvDeviceGone), log.details(EvDeviceBack))
	}
	var fails uint64
	rr.ws[0].rec.swap(func(s *slice) { fails = s.op[Read].errors })
	if fails != 1 {
		t.Errorf("%d failed I/Os recorded, want the one ENODEV", fails)
	}
}
