package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// TestDrillOwnsOnlyItsStall measures two chained drills against stalls
// laid out as the lab box makes them: each drill is credited with the gap
// that became a stall (outlasted the 300 ms threshold) after its inject,
// never with the one before it, and a drill with no stall of its own
// reports none (stall 0, detection 0).
func TestDrillOwnsOnlyItsStall(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	clock := NewClock(time.Now())
	at := func(n int64) time.Time { return clock.Time(ms(n)) }
	stall := func(from, to int64) Stall {
		return Stall{Target: "box", Start: at(from), End: at(to), Dur: time.Duration(ms(to - from))}
	}
	verifyStall := func(from, to int64) Stall {
		s := stall(from, to)
		s.DuringVerify = true
		return s
	}
	tests := []struct {
		name    string
		injects [2]int64 // d1, d2 (ms)
		stalls  []Stall
		// want per drill: stalled, stall length (ms), note contains
		stalled [2]bool
		dur     [2]int64
		note    [2]string
	}{
		// The bug: d2 injected when d1's recover command returned, before
		// I/O resumed. d1's 998 ms stall ends after d2's inject; it is
		// d1's (it began after d1's inject), d2's own 2003 ms stall is d2's.
		{"d2 injected before d1's stall ended", [2]int64{1000, 2003},
			[]Stall{stall(1005, 2003+1), stall(2010, 4013)},
			[2]bool{true, true}, [2]int64{999, 2003}, [2]string{"ambiguous: I/O was still stalled when drill d2", "ambiguous: injected while drill d1's stall"}},
		// Well separated: each its own, no notes.
		{"separated", [2]int64{1000, 3500},
			[]Stall{stall(1005, 2003), stall(3505, 5508)},
			[2]bool{true, true}, [2]int64{998, 2003}, [2]string{"", ""}},
		// d2 did not stall I/O: stall 0, detection 0, not d1's.
		{"d2 without a stall", [2]int64{1000, 3500},
			[]Stall{stall(1005, 2003)},
			[2]bool{true, false}, [2]int64{998, 0}, [2]string{"", ""}},
		// Under load, I/O had not completed for 125 ms when d2 was
		// injected (less than the 300 ms threshold: not yet a stall): the
		// stall its fault made is d2's, its detection slightly negative.
		{"gap began just before the inject", [2]int64{1000, 3500},
			[]Stall{stall(1005, 2003), stall(3375, 5500)},
			[2]bool{true, true}, [2]int64{998, 2125}, [2]string{"", ""}},
		// The verify pass after d1 stalled 500 ms: d1 keeps its own
		// stall and says that its pass stalled too.
		{"verify pass after d1 stalled", [2]int64{1000, 3500},
			[]Stall{stall(1005, 2003), verifyStall(2500, 3000)},
			[2]bool{true, false}, [2]int64{998, 0}, [2]string{"the verify pass after it stalled 500ms", ""}},
		// d1 did not stall I/O but its verify pass did: that stall is
		// d1's, said to be the pass's.
		{"only d1's verify pass stalled", [2]int64{1000, 3500},
			[]Stall{verifyStall(2500, 3000)},
			[2]bool{true, false}, [2]int64{500, 0}, [2]string{"the verify pass after it stalled 500ms", ""}},
		// A stall that began before any inject belongs to no drill.
		{"stall before the drills", [2]int64{1000, 3500},
			[]Stall{stall(500, 1500)},
			[2]bool{false, false}, [2]int64{0, 0}, [2]string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{clock: clock, sc: &scenarios.Scenario{StallThreshold: 300 * time.Millisecond}}
			dr := &drillRun{r: r}
			for i, name := range []string{"d1", "d2"} {
				d := scenarios.Drill{Name: name}
				if i == 1 {
					d.After = "d1"
				}
				dr.states = append(dr.states, &drillState{d: d, inject: ms(tt.injects[i]), recoverEnd: ms(tt.injects[i] + 1000),
					res: DrillResult{Name: name, Injected: true, InjectAt: at(tt.injects[i])}})
			}
			tgts := []*target{{spec: scenarios.Target{Name: "box"}}}
			tl := &timeline{ticks: make([][]tickSample, 1), errs: make([][]errTick, 1)}
			res := dr.measure(tl, tgts, []*reopener{{}}, tt.stalls, ms(20000), ms(250))
			for i, d := range res {
				dt := d.Targets[0]
				if dt.Stalled != tt.stalled[i] || dt.Stall != time.Duration(ms(tt.dur[i])) {
					t.Errorf("%s: stalled %v stall %v, want %v %v", d.Name, dt.Stalled, dt.Stall, tt.stalled[i], time.Duration(ms(tt.dur[i])))
				}
				if dt.Detection < -300*time.Millisecond || (!dt.Stalled && (dt.Detection != 0 || dt.Resume != 0)) {
					t.Errorf("%s: detection %v resume %v", d.Name, dt.Detection, dt.Resume)
				}
				if (tt.note[i] == "") != (dt.Note == "") || !strings.Contains(dt.Note, tt.note[i]) {
					t.Errorf("%s: note %q, want one containing %q", d.Name, dt.Note, tt.note[i])
				}
			}
		})
	}
}

// fakeFlow is I/O that flows from a given clock time on.
type fakeFlow struct {
	clock Clock
	from  int64
}

func (f fakeFlow) flowing(now, since int64) bool { return now >= f.from && f.from > since }

// TestWaitFlow: a chained drill is injected once I/O has flowed for the
// settle time, counted from when it started flowing again, not from the
// earlier drill's recovery.
func TestWaitFlow(t *testing.T) {
	clock := NewClock(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resumes := clock.Now() + int64(150*time.Millisecond)
	dr := &drillRun{r: &Runner{clock: clock}, ctx: ctx, flow: fakeFlow{clock: clock, from: resumes}}
	at, ok := dr.waitFlow(clock.Now(), 200*time.Millisecond)
	if !ok {
		t.Fatal("waitFlow gave up")
	}
	if d := time.Duration(at - resumes); d < 200*time.Millisecond || d > 200*time.Millisecond+20*flowPoll {
		t.Errorf("injected %v after I/O flowed again, want the settle time (200ms)", d)
	}
	// The phase ends while I/O never flows: not injected.
	dr.flow = fakeFlow{clock: clock, from: 1 << 62}
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, ok := dr.waitFlow(clock.Now(), 0); ok {
		t.Error("waitFlow returned true with I/O never flowing")
	}
}

// TestChainedDrillAfterVerify: in a verified phase, a drill chained after
// another is injected only once the verify pass after the first drill is
// done, never during it (its fault would freeze the pass) nor before it
// (the pass must read what the first fault left).
func TestChainedDrillAfterVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.dat")
	sc, err := scenarios.Parse("test.yaml", []byte(fmt.Sprintf(`
name: chain-verify
interval: 250ms
stall_threshold: 200ms
targets: [{name: f, path: %s, size: 4MiB, allow_write: true}]
phases:
  - name: load
    rw: randrw
    bs: 4k
    qd: 2
    rate_iops: 1000
    duration: 3s
    verify: true
    drills:
      - {name: d1, at: 300ms, inject: "one", recover: {command: "undo-one", at: 200ms}}
      - {name: d2, after: d1, settle: 100ms, inject: "two"}
`, path)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{Commands: &fakeCommands{}}, &eventLog{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pass *verify.Summary
	for i := range res.Verify {
		if res.Verify[i].When == "drill d1" {
			pass = &res.Verify[i]
		}
	}
	if pass == nil || len(res.Drills) != 2 || !res.Drills[1].Injected {
		t.Fatalf("verify passes %+v, drills %+v", res.Verify, res.Drills)
	}
	if inj := res.Drills[1].InjectAt; !inj.After(pass.End) {
		t.Errorf("d2 injected at %v, before the verify pass after d1 ended (%v..%v)", inj, pass.Start, pass.End)
	}
}

// TestFailingIONotFlow: a target whose I/O completes with errors (every
// path down, no queueing: EIO at once) is not "flowing", so neither a
// chained drill nor a verify pass starts while it fails, and it flows
// again once successful completions follow the last failure by half the
// stall threshold.
func TestFailingIONotFlow(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	rec := NewRecorder(Read, Write)
	det := &stallDetector{threshold: ms(500), targets: []*target{{spec: scenarios.Target{Name: "lun"}}},
		workers: [][]*worker{{{rec: rec}}}, flags: []*stallFlag{{}}}
	f := phaseFlow{det: det}
	tests := []struct {
		name       string
		ok, failed int64 // last successful and failed completion (ms), 0 = none
		now        int64
		flowing    bool
		failedIn1s bool
	}{
		// Healthy I/O: flowing, no failure.
		{"healthy", 1000, 0, 1010, true, false},
		// Every I/O fails (the last completion is a failure): not flowing.
		{"failing", 0, 1000, 1010, false, true},
		// Successes again, but the last failure is only 100 ms old.
		{"just recovered", 1100, 1000, 1110, false, true},
		// The last failure is 300 ms old (over half the 500 ms threshold)
		// and I/O completes: flowing, though within the verify's 1 s quiet.
		{"recovered", 1300, 1000, 1300, true, true},
		// Long after the failure: flowing, and quiet for the verify.
		{"quiet", 2600, 1000, 2600, true, false},
	}
	for _, tt := range tests {
		rec.lastDone.Store(ms(max(tt.ok, tt.failed)))
		rec.lastFail.Store(ms(tt.failed))
		if got := f.flowing(ms(tt.now), ms(500)); got != tt.flowing {
			t.Errorf("%s: flowing %v, want %v", tt.name, got, tt.flowing)
		}
		if got := det.failedWithin(ms(tt.now), time.Second); got != tt.failedIn1s {
			t.Errorf("%s: failed within 1s %v, want %v", tt.name, got, tt.failedIn1s)
		}
	}
}

// TestNoteEndPass: a stall of the verify pass at the phase end is noted on
// the drills whose own verify pass never ran (the phase-end pass read back
// what their fault left), on the target it stalled, and never becomes a
// drill's stall.
func TestNoteEndPass(t *testing.T) {
	endStall := Stall{Target: "a", Dur: 1234 * time.Millisecond, DuringVerify: true, PhaseEnd: true}
	const want = "its verify pass ran at the phase end and stalled 1.234s"
	tests := []struct {
		name     string
		injected bool
		passes   []string // the phase's verify passes (When)
		note     string   // drill d's note on target a before
		stalls   []Stall
		// wantA, wantB: d's notes on targets a and b after.
		wantA, wantB string
	}{
		// d recovered too late for its own pass: noted on a only.
		{name: "own pass never ran", injected: true, passes: []string{"phase end"}, stalls: []Stall{endStall},
			wantA: want},
		// d's own pass ran: the phase-end pass is not its read-back.
		{name: "own pass ran", injected: true, passes: []string{"drill d", "phase end"}, stalls: []Stall{endStall}},
		// A manual drill never marked had no fault to read back after.
		{name: "not injected", passes: []string{"phase end"}, stalls: []Stall{endStall}},
		// An ambiguity note already there is kept.
		{name: "note kept", injected: true, passes: []string{"phase end"}, note: "ambiguous: ...", stalls: []Stall{endStall},
			wantA: "ambiguous: ..."},
		// The phase-end pass did not stall.
		{name: "no stall", injected: true, passes: []string{"phase end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drills := []DrillResult{{Name: "d", Injected: tt.injected,
				Targets: []DrillTarget{{Target: "a", Note: tt.note}, {Target: "b"}}}}
			var passes []verify.Summary
			for _, w := range tt.passes {
				passes = append(passes, verify.Summary{Target: "a", When: w}, verify.Summary{Target: "b", When: w})
			}
			noteEndPass(drills, passes, tt.stalls)
			a, b := drills[0].Targets[0], drills[0].Targets[1]
			if a.Note != tt.wantA || b.Note != tt.wantB || a.Stalled || b.Stalled {
				t.Errorf("notes %q, %q (stalled %v, %v); want %q, %q, no stall", a.Note, b.Note, a.Stalled, b.Stalled, tt.wantA, tt.wantB)
			}
		})
	}
}
