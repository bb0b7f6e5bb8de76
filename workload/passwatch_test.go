package workload

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// verifyRig is one target's stall detection around a verify pass, on
// synctest's clock: a worker (parked while the pass reads), the pass's
// watch and the detector, polled every threshold/10 as a phase polls it.
type verifyRig struct {
	t     *testing.T
	clock Clock
	rec   *Recorder
	pass  *passWatch
	det   *stallDetector
	log   *eventLog
}

func newVerifyRig(t *testing.T, threshold time.Duration) *verifyRig {
	clock := NewClock(time.Now())
	log := &eventLog{}
	flag := &stallFlag{}
	g := &verifyRig{t: t, clock: clock, rec: NewRecorder(Read), log: log,
		pass: &passWatch{clock: clock, flag: flag}}
	g.det = &stallDetector{r: &Runner{clock: clock, events: log}, phase: "p", threshold: int64(threshold),
		targets: []*target{{spec: scenarios.Target{Name: "lun"}}}, workers: [][]*worker{{{rec: g.rec}}},
		flags: []*stallFlag{flag}, passes: []*passWatch{g.pass}}
	return g
}

// advance lets d pass, polling the detector as the phase does.
func (g *verifyRig) advance(d time.Duration) {
	every := time.Duration(g.det.threshold / 10)
	for end := g.clock.Now() + int64(d); g.clock.Now() < end; {
		time.Sleep(min(every, time.Duration(end-g.clock.Now())))
		g.det.poll(g.clock.Now(), 0)
	}
}

// workerIO is one worker I/O that takes d.
func (g *verifyRig) workerIO(d time.Duration) {
	g.rec.Issue(g.clock.Now())
	g.advance(d)
	now := g.clock.Now()
	g.rec.Done(Read, 4096, int64(d), now)
	g.det.flags[0].completed(now) // as worker.complete does
}

// passRead is one verify read of reader 0 that takes d.
func (g *verifyRig) passRead(d time.Duration) {
	g.pass.Issued(0)
	g.advance(d)
	g.pass.Completed(0)
}

// TestStallDuringVerifyPass: while the workers are parked for a verify
// pass, the pass's reads are the target's I/O. A pass that keeps reading
// makes no stall however long it lasts, nor does the parked time once the
// workers are released; a read that hangs makes one, timed from the pass's
// start or its last completion to the first completion after it and marked
// as the verify pass's; a device that hangs just as the workers are
// released makes one timed from their release.
func TestStallDuringVerifyPass(t *testing.T) {
	const threshold = 300 * time.Millisecond
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		// pass reads the target with the workers parked: one read per
		// entry, each taking that long.
		pass []time.Duration
		// release is how long the workers' first I/O after the pass takes.
		release time.Duration
		// want is the stall, if any: its start and end (ms from the
		// workers' last I/O before the pass), and whether it was the pass's.
		want         bool
		start, end   int64
		duringVerify bool
	}{
		// Twenty 100 ms reads: a 2 s pause, no stall.
		{name: "pass keeps reading", pass: []time.Duration{19: ms(100)}, release: ms(5)},
		// One read hangs 1.5 s after two good ones: a stall from the last
		// completion (20 ms + 2×100 ms) to the hung read's.
		{name: "pass read hangs", pass: []time.Duration{ms(100), ms(100), ms(1500), ms(100)}, release: ms(5),
			want: true, start: 220, end: 1720, duringVerify: true},
		// The very first read hangs: the stall counts from the pass's start.
		{name: "first pass read hangs", pass: []time.Duration{ms(900)}, release: ms(5),
			want: true, start: 20, end: 920, duringVerify: true},
		// The pass reads fine, then the workers' I/O hangs 800 ms as they
		// are released: a stall from the release, not the pass's.
		{name: "hangs at release", pass: []time.Duration{ms(100), ms(100)}, release: ms(800),
			want: true, start: 220, end: 1020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newVerifyRig(t, threshold)
				g.workerIO(ms(1))
				t0 := g.clock.Now()
				g.advance(ms(20)) // the workers park at the gate
				if g.rec.InFlightSince() != 0 {
					t.Fatal("a parked worker counts as I/O in flight")
				}
				g.pass.begin(g.clock.Now())
				for _, d := range tt.pass {
					g.passRead(max(d, ms(100)))
				}
				g.pass.end()
				g.det.released(g.clock.Now())
				g.workerIO(tt.release)
				g.advance(ms(500)) // idle at the phase's end
				g.det.close(g.clock.Now())
				g.check(t, t0, tt.want, tt.start, tt.end, tt.duringVerify)
			})
		})
	}
}

// check compares the detector's stalls with the one wanted (times in ms
// from t0), exactly: synctest's clock does not drift.
func (g *verifyRig) check(t *testing.T, t0 int64, want bool, start, end int64, during bool) {
	t.Helper()
	at := func(n int64) time.Time { return g.clock.Time(t0 + n*int64(time.Millisecond)) }
	if !want {
		if len(g.det.stalls) != 0 {
			t.Fatalf("stalls %+v, want none", g.det.stalls)
		}
		return
	}
	if len(g.det.stalls) != 1 {
		t.Fatalf("stalls %+v, want one", g.det.stalls)
	}
	s := g.det.stalls[0]
	if !s.Start.Equal(at(start)) || !s.End.Equal(at(end)) || s.Dur != s.End.Sub(s.Start) || s.DuringVerify != during || s.Unresolved || s.InFlight != 1 {
		t.Errorf("stall %v..%v (%v) during verify %v, %+v; want %dms..%dms, during verify %v",
			s.Start.Sub(at(0)), s.End.Sub(at(0)), s.Dur, s.DuringVerify, s, start, end, during)
	}
	ev := strings.Join(append(g.log.details(EvStallStart), g.log.details(EvStallEnd)...), " | ")
	if strings.Contains(ev, "verify pass") != during {
		t.Errorf("stall events %q: naming the verify pass %v, want %v", ev, !during, during)
	}
}

// TestPassWatchAllocsNothing: a verify read's issue and completion, as the
// pass calls them through verify.Watcher, allocate nothing.
func TestPassWatchAllocsNothing(t *testing.T) {
	var w verify.Watcher = &passWatch{clock: NewClock(time.Now()), flag: &stallFlag{}}
	if n := testing.AllocsPerRun(1000, func() { w.Issued(3); w.Completed(3) }); n != 0 {
		t.Fatalf("%v allocations per read", n)
	}
}

// BenchmarkPassWatch is the cost a verify read pays to be seen by the
// stall detector: two clock reads and a few atomic stores, no lock.
func BenchmarkPassWatch(b *testing.B) {
	var w verify.Watcher = &passWatch{clock: NewClock(time.Now()), flag: &stallFlag{}}
	b.ReportAllocs()
	for b.Loop() {
		w.Issued(1)
		w.Completed(1)
	}
}

// endStall is a stall TestStallDuringPhaseEndPass wants: its start and end
// in ms from the workers' last I/O, and whether it was the pass's.
type endStall struct {
	start, end int64
	pass       bool
	unresolved bool
}

// TestStallDuringPhaseEndPass: the verify pass at the phase end runs once
// the workers have returned and the detector has closed the phase's own
// stalls; the detector then watches the pass's reads alone. A pass that
// keeps reading makes no stall, nor does the time between the workers'
// last I/O and the pass; a read that hangs makes one from the pass's start
// or its last completion to the first completion after it, marked as the
// phase-end pass's; a stall of the workers before the phase end stays
// theirs.
func TestStallDuringPhaseEndPass(t *testing.T) {
	const threshold = 300 * time.Millisecond
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		// last is how long the workers' last I/O takes; idle, the time
		// from its completion to the pass's start.
		last, idle time.Duration
		// pass is the pass's reads, each taking that long; hang, a last
		// read still in flight that long when the detector closes (the
		// run stopped).
		pass []time.Duration
		hang time.Duration
		want []endStall
	}{
		// Twenty 100 ms reads a second after the workers' last I/O: no
		// stall, neither for the second nor for the 2 s pass.
		{name: "pass keeps reading", last: ms(1), idle: ms(1000), pass: []time.Duration{19: ms(100)}},
		// One read hangs 1.5 s after two good ones: a stall from the last
		// completion (1000 ms + 2×100 ms) to the hung read's.
		{name: "pass read hangs", last: ms(1), idle: ms(1000), pass: []time.Duration{ms(100), ms(100), ms(1500), ms(100)},
			want: []endStall{{start: 1200, end: 2700, pass: true}}},
		// The first read hangs 900 ms: from the pass's start, not from the
		// workers' last I/O a second earlier.
		{name: "first pass read hangs", last: ms(1), idle: ms(1000), pass: []time.Duration{ms(900)},
			want: []endStall{{start: 1000, end: 1900, pass: true}}},
		// The workers' last I/O stalled 800 ms, and a read of the pass
		// 600 ms: two stalls, only the second the pass's.
		{name: "workers then pass", last: ms(800), idle: ms(50), pass: []time.Duration{ms(100), ms(600)},
			want: []endStall{{start: -800, end: 0}, {start: 150, end: 750, pass: true}}},
		// A read hangs until the run is stopped 1 s later: unresolved.
		{name: "pass read never completes", last: ms(1), idle: ms(100), pass: []time.Duration{ms(100)}, hang: ms(1000),
			want: []endStall{{start: 200, end: 1200, pass: true, unresolved: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newVerifyRig(t, threshold)
				g.workerIO(ms(1))
				g.workerIO(tt.last)
				t0 := g.clock.Now()
				g.det.close(t0) // the phase ends: the detector stops
				time.Sleep(tt.idle)
				g.det.phaseEnded(g.clock.Now())
				g.pass.begin(g.clock.Now())
				for _, d := range tt.pass {
					g.passRead(max(d, ms(100)))
				}
				if tt.hang > 0 {
					g.pass.Issued(0)
					g.advance(tt.hang)
				}
				g.det.close(g.clock.Now())
				g.pass.end()
				g.checkEnd(t, t0, tt.want)
			})
		})
	}
}

// checkEnd compares the detector's stalls with those wanted (times in ms
// from t0), exactly, and their events' naming of the phase-end pass.
func (g *verifyRig) checkEnd(t *testing.T, t0 int64, want []endStall) {
	t.Helper()
	at := func(n int64) time.Time { return g.clock.Time(t0 + n*int64(time.Millisecond)) }
	if len(g.det.stalls) != len(want) {
		t.Fatalf("stalls %+v, want %d", g.det.stalls, len(want))
	}
	passes := 0
	for i, w := range want {
		s := g.det.stalls[i]
		if !s.Start.Equal(at(w.start)) || !s.End.Equal(at(w.end)) || s.Dur != s.End.Sub(s.Start) ||
			s.DuringVerify != w.pass || s.PhaseEnd != w.pass || s.Unresolved != w.unresolved || s.InFlight != 1 {
			t.Errorf("stall %d: %v..%v (%v) %+v; want %dms..%dms, the pass's %v, unresolved %v",
				i, s.Start.Sub(at(0)), s.End.Sub(at(0)), s.Dur, s, w.start, w.end, w.pass, w.unresolved)
		}
		if w.pass {
			passes++
		}
	}
	for _, kind := range []EventKind{EvStallStart, EvStallEnd} {
		n := 0
		for _, d := range g.log.details(kind) {
			if strings.Contains(d, "verify pass at the phase end") {
				n++
			}
		}
		if n != passes {
			t.Errorf("%v events naming the phase-end pass: %d, want %d (%q)", kind, n, passes, g.log.details(kind))
		}
	}
}
