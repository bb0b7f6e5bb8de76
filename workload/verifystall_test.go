package workload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/scenarios/lab/stallbox"
)

// passFreezer is an event sink that freezes the stall box while the verify
// pass named when ("drill d", "phase end") reads it: from the event that
// starts the pass (emitted just before its first read) it holds the box
// frozen for pause, resumes it until a read of the box completes and for
// run after that, and so on until the pass ends (run 0: one pause only).
// Waiting for a read keeps a loaded machine, on which bindfs may take a
// while to serve again, from turning short freezes into one long gap.
// With after set, it freezes the box again for that long when the pass
// ends, just before the workers are released. It notes on the wall clock
// when the pass began, when the last pause took effect and when its
// resume began, and when the box's counters first showed a read
// completed after it.
type passFreezer struct {
	eventLog
	box               *stallbox.Box
	when              string
	pause, run, after time.Duration
	stop              chan struct{}
	done              chan struct{}
	wg                sync.WaitGroup

	mu                                sync.Mutex
	began, frozen, resuming, readBack time.Time
	pauses                            int
	err                               error
}

func (f *passFreezer) Event(e Event) {
	f.eventLog.Event(e)
	if e.Kind != EvVerify || !strings.HasPrefix(e.Detail, "verify pass ("+f.when+")") {
		return
	}
	if strings.HasSuffix(e.Detail, "reading back every block written") {
		f.mu.Lock()
		f.began = time.Now()
		f.mu.Unlock()
		f.stop, f.done = make(chan struct{}), make(chan struct{})
		go f.freezeLoop()
		return
	}
	if f.stop != nil && e.Dur > 0 { // the pass's closing event
		close(f.stop)
		<-f.done
		f.stop = nil
		if f.after > 0 {
			f.box.Freeze(true)
			f.wg.Go(func() { time.Sleep(f.after); f.box.Freeze(false) })
		}
	}
}

// freezeLoop freezes and resumes the box until the pass ends, and leaves
// it running.
func (f *passFreezer) freezeLoop() {
	defer close(f.done)
	for {
		err := f.box.Freeze(true)
		f.mu.Lock()
		f.frozen, f.pauses, f.err = time.Now(), f.pauses+1, err
		f.mu.Unlock()
		time.Sleep(f.pause)
		reads, rerr := boxReads(f.box.Dev) // still, while bindfs is stopped
		f.mu.Lock()
		f.resuming = time.Now()
		f.mu.Unlock()
		err = f.box.Freeze(false)
		f.mu.Lock()
		f.err = cmpErr(cmpErr(f.err, err), rerr)
		f.mu.Unlock()
		if !f.readAfter(reads) || f.run == 0 {
			return
		}
		select {
		case <-f.stop:
			return
		case <-time.After(f.run):
		}
	}
}

// readAfter waits until the box has completed more than reads reads and
// notes when it saw that; false when the pass ended first.
func (f *passFreezer) readAfter(reads uint64) bool {
	for {
		n, err := boxReads(f.box.Dev)
		if err != nil || n > reads {
			f.mu.Lock()
			f.readBack, f.err = time.Now(), cmpErr(f.err, err)
			f.mu.Unlock()
			return err == nil
		}
		select {
		case <-f.stop:
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// boxReads is how many reads the box's loop device completed: the first
// field of /sys/block/<dev>/stat (the kernel's
// Documentation/block/stat.rst: "read I/Os", requests completed).
func boxReads(dev string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "stat"))
	if err != nil {
		return 0, err
	}
	fs := strings.Fields(string(b))
	if len(fs) == 0 {
		return 0, fmt.Errorf("%s: empty stat", dev)
	}
	return strconv.ParseUint(fs[0], 10, 64)
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// verifyStallScenario is a verified write phase on the box with a drill
// (its commands do nothing) whose verify pass the freezer freezes. Its
// load is closed loop: a worker released after the pass has I/O in flight
// at once, as it would when a detector took the parked time for a gap.
func verifyStallScenario(t *testing.T, dev, engine string, threshold time.Duration) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("vstall.yaml", []byte(fmt.Sprintf(`
name: verify-stall
interval: 250ms
stall_threshold: %s
targets: [{name: box, path: %s, allow_write: true}]
phases:
  - name: load
    engine: %s
    rw: randwrite
    bs: 64k
    qd: 2
    duration: 4s
    verify: true
    drills:
      - {name: d, at: 500ms, inject: "noop", recover: {command: "noop", at: 100ms}}
`, threshold, dev, engine)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestVerifyPassStallOnStallBox runs a verified phase on the stall box and
// freezes the box while the verify pass after its drill reads it, on both
// engines. A pass that keeps completing reads between short freezes
// (each under half the threshold) reports no stall, though the workers
// were parked for several thresholds, nor does a freeze of half the
// threshold as the workers are released (their first I/O is in flight
// long enough to be seen: the parked time is no gap); a pass whose reads
// are frozen for 1.5 s reports one stall, marked as the verify pass's,
// from the pass's start to its first read after the freeze, and nothing
// else.
func TestVerifyPassStallOnStallBox(t *testing.T) {
	for _, engine := range []string{"threads", "io_uring"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "io_uring" {
				skipNoURing(t)
			}
			t.Run("keeps reading", func(t *testing.T) { testPassKeepsReading(t, engine) })
			t.Run("frozen", func(t *testing.T) { testPassFrozen(t, engine) })
		})
	}
}

// runFrozenPass runs the scenario with f as its event sink and returns the
// result and how long the pass it freezes took.
func runFrozenPass(t *testing.T, sc *scenarios.Scenario, f *passFreezer) (*Result, time.Duration) {
	t.Helper()
	r, err := NewRunner(sc, Options{Commands: &fakeCommands{}}, f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	f.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil || f.began.IsZero() {
		t.Fatalf("freezing the box: %v (pass began %v)", f.err, f.began)
	}
	for _, v := range res.Verify {
		if v.When == f.when {
			if v.Problems() != 0 || v.Blocks == 0 {
				t.Errorf("verify pass: %d blocks, %v", v.Blocks, v.Counts)
			}
			return res, v.End.Sub(v.Start)
		}
	}
	t.Fatalf("no verify pass %q: %+v", f.when, res.Verify)
	return nil, 0
}

func testPassKeepsReading(t *testing.T, engine string) {
	const threshold = 400 * time.Millisecond
	b := stallbox.New(t, 256)
	f := &passFreezer{box: b, when: "drill d", pause: threshold * 3 / 8, run: threshold / 8, after: threshold / 2}
	res, took := runFrozenPass(t, verifyStallScenario(t, b.Dev, engine, threshold), f)
	if took < threshold || f.pauses < 2 {
		t.Fatalf("the pass took %v with %d freezes: too short to show that its reads count (want over %v)", took, f.pauses, threshold)
	}
	if len(res.Stalls) != 0 {
		t.Errorf("stalls %+v, want none: the pass kept reading", res.Stalls)
	}
	t.Logf("pass of %v with %d freezes of %v, then %v at the release: %d stalls", took.Round(time.Millisecond), f.pauses, f.pause, f.after, len(res.Stalls))
}

func testPassFrozen(t *testing.T, engine string) {
	const threshold = 300 * time.Millisecond
	b := stallbox.New(t, 64)
	f := &passFreezer{box: b, when: "drill d", pause: 1500 * time.Millisecond}
	res, took := runFrozenPass(t, verifyStallScenario(t, b.Dev, engine, threshold), f)
	if len(res.Stalls) != 1 {
		t.Fatalf("stalls %+v, want the pass's one", res.Stalls)
	}
	s := res.Stalls[0]
	freeze := checkFreezeSpan(t, f, s, threshold)
	if s.PhaseEnd {
		t.Errorf("stall %+v marked as the phase-end pass's", s)
	}
	var seen bool
	for _, e := range f.ev {
		seen = seen || e.Kind == EvStallStart && e.Time.Before(s.End) && strings.Contains(e.Detail, "verify pass")
	}
	if dt := res.Drills[0].Targets[0]; !seen || !strings.Contains(dt.Note, "verify pass") {
		t.Errorf("stall_start while it lasted, naming the pass: %v; drill note %q", seen, dt.Note)
	}
	t.Logf("%s: freeze of %v (pass of %v) measured as a stall of %v (error %v), starting %v after the pass's event",
		engine, freeze.Round(time.Microsecond), took.Round(time.Millisecond), s.Dur.Round(time.Microsecond),
		(s.Dur - freeze).Round(time.Microsecond), s.Start.Sub(f.began).Round(time.Microsecond))
}

// checkFreezeSpan checks that stall s, of a pass f froze once, is the
// pass's and spans the freeze, and returns the freeze's length. The stall
// runs from the pass's start (the workers were parked with nothing in
// flight, or had returned), or from a read the pass completed before the
// freeze took hold (the freezer stops bindfs from its own goroutine), to
// its first read after the freeze, which the box's counters showed at
// readBack. The freezer notes those moments from outside, on a loaded
// 2-core machine: slack for a thread to be scheduled, as the threshold's
// polling allows. It also checks that the stall caught between one and
// the pass's four readers in flight (fewer when fewer chunks were left).
func checkFreezeSpan(t *testing.T, f *passFreezer, s Stall, threshold time.Duration) time.Duration {
	t.Helper()
	slack := 100*time.Millisecond + threshold/10
	if !s.DuringVerify || s.Unresolved || s.Start.Before(f.began.Add(-slack)) || s.Start.After(f.frozen.Add(slack)) {
		t.Errorf("stall %+v: starts %v after the pass's event (freeze at %v), want during verify, within the freeze's start ± %v",
			s, s.Start.Sub(f.began), f.frozen.Sub(f.began), slack)
	}
	if s.End.Before(f.resuming) || s.End.After(f.readBack.Add(slack)) {
		t.Errorf("stall ends %v after the resume began (a read seen after %v), want 0..%v later",
			s.End.Sub(f.resuming), f.readBack.Sub(f.resuming), slack)
	}
	freeze := f.resuming.Sub(f.frozen)
	if low, high := freeze-slack, f.readBack.Sub(f.began)+slack; s.Dur < low || s.Dur > high || s.Dur != s.End.Sub(s.Start) {
		t.Errorf("stall of %v for a freeze of %v, want %v..%v", s.Dur, freeze, low, high)
	}
	if s.InFlight < 1 || s.InFlight > 4 {
		t.Errorf("stall with %d in flight, want 1 to the pass's 4 readers", s.InFlight)
	}
	return freeze
}
