package workload

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// phaseOut is what one phase measured.
type phaseOut struct {
	results []PhaseResult
	stalls  []Stall
	drills  []DrillResult
	verify  []verify.Summary
	steady  *SteadyResult
}

// phaseRun is one phase in progress: its workers, their accumulators, the
// stall detector and the clock marks the aggregator loop moves along. Its
// methods are the phase's steps, in the order runPhase calls them.
type phaseRun struct {
	r        *Runner
	p        scenarios.Phase
	idx      int
	runStart time.Time
	tgts     []*target
	ops      []Op

	workers [][]*worker
	// rings is set when the workers run on io_uring (one ring per target).
	rings     bool
	det       *stallDetector
	ros       []*reopener
	gt        *gate
	stop      atomic.Bool
	measuring atomic.Bool
	// deadline is the phase's planned end (end, moved on by verify
	// pauses), which each worker checks itself: a phase ends on time even
	// when the aggregator cannot run (more busy threads than CPUs).
	deadline atomic.Int64
	wg       sync.WaitGroup
	startCh  chan struct{}
	allDone  chan struct{}

	// Aggregation (collect.go).
	accs         [][NumOps]*acc
	sliceAcc     [][NumOps]opCounts
	backoffNoted []bool
	tl           *timeline
	keepTimeline bool
	sw           *steadyWatch

	// Clock marks, in run-clock nanoseconds.
	phaseStart, rampEnd, end    int64
	ivLen, tick                 int64
	ivStart, sliceStart         int64
	measStart, nextTick, nextIv int64
	pausedFor                   int64
	// drainFor is how long the drain waited for I/O in flight.
	drainFor time.Duration
	// final is set for the phase's last collection.
	final bool

	drills        *drillRun
	pendingVerify []verifyReq
	verifies      []verify.Summary
	endReason     string
}

// verifyReq is a verify pass a recovered drill asked for, due no earlier
// than notBefore.
type verifyReq struct {
	drill     string
	notBefore int64
}

func (r *Runner) runPhase(ctx context.Context, idx int, runStart time.Time) (phaseOut, error) {
	pr := &phaseRun{r: r, p: r.sc.Phases[idx], idx: idx, runStart: runStart}
	if err := pr.openTargets(); err != nil {
		return phaseOut{}, err
	}
	// Every worker spends its life in blocking pread/pwrite. A goroutine
	// in a system call keeps its P until sysmon takes it back (after 20 µs
	// to 10 ms), and meanwhile the workers queued on that P issue nothing:
	// on a SAN with 0.5 ms latencies that would quietly lower the queue
	// depth the scenario asked for. One P per worker (plus the aggregator
	// and collectors) lets each I/O be issued as soon as the last completes.
	// An io_uring phase needs none of that: one goroutine per target
	// blocks in io_uring_enter.
	pr.startWorkers()
	if want := len(pr.tgts)*pr.p.QD + 2; !pr.rings && want > runtime.GOMAXPROCS(0) {
		prev := runtime.GOMAXPROCS(want)
		defer runtime.GOMAXPROCS(prev)
	}
	pr.newAccumulators()
	pr.start()
	detDone, detStopped := pr.startDetector()
	pr.loop(ctx)
	now, drained := pr.drain(ctx)
	for _, ro := range pr.ros {
		ro.close()
	}
	close(detDone)
	<-detStopped
	pr.det.close(now)
	pr.final = true
	pr.collect(now, true, !pr.measuring.Load())
	return pr.finish(ctx, now, drained), nil
}

// openTargets opens the phase's targets and lists the ops it issues.
func (pr *phaseRun) openTargets() error {
	for _, name := range pr.p.Targets {
		t := pr.r.target(name)
		if err := t.open(pr.p.RW.Writes()); err != nil {
			return err
		}
		pr.tgts = append(pr.tgts, t)
	}
	if pr.p.RW.Reads() {
		pr.ops = append(pr.ops, Read)
	}
	if pr.p.RW.Writes() {
		pr.ops = append(pr.ops, Write)
	}
	return nil
}

// start marks the phase's start on the run clock, rebases the pacers on
// it, announces the phase and releases the workers.
func (pr *phaseRun) start() {
	r, p := pr.r, &pr.p
	pr.allDone = make(chan struct{})
	go func() { pr.wg.Wait(); close(pr.allDone) }()
	pr.phaseStart = r.clock.Now()
	for _, ws := range pr.workers {
		for _, w := range ws {
			if w.pacer != nil {
				w.pacer.next += pr.phaseStart
			}
		}
	}
	phaseWall := r.clock.Time(pr.phaseStart)
	detail := fmt.Sprintf("%s bs=%s qd=%d", p.RW, describeSizes(p), p.QD)
	if pr.rings {
		detail += " engine=io_uring"
	}
	r.emit(Event{Time: phaseWall, Kind: EvPhaseStart, Phase: p.Name, Detail: detail})
	r.noteUnverified(p, pr.tgts, phaseWall)
	close(pr.startCh)
	pr.drills = r.newDrillRun(p, pr.idx, pr.phaseStart, phaseFlow{det: pr.det, gate: pr.gt})

	pr.rampEnd = pr.phaseStart + int64(p.Ramp)
	pr.end = int64(math.MaxInt64)
	if p.Duration > 0 {
		pr.end = pr.rampEnd + int64(p.Duration)
	}
	pr.deadline.Store(pr.end)
	pr.ivLen, pr.tick = int64(r.sc.Interval), int64(r.opt.Tick)
	pr.ivStart, pr.sliceStart, pr.measStart = pr.phaseStart, pr.phaseStart, pr.rampEnd
	pr.sw = newSteadyWatch(p.Name, p.Steady, r.sc.Interval)
	pr.nextTick = pr.phaseStart + pr.tick
	pr.nextIv = pr.phaseStart + pr.ivLen
	if p.Ramp > 0 && pr.rampEnd < pr.nextIv {
		pr.nextIv = pr.rampEnd
	}
}

// startDetector polls the stall detector until detDone closes; detStopped
// closes when it has returned.
func (pr *phaseRun) startDetector() (detDone, detStopped chan struct{}) {
	detDone, detStopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(detStopped)
		every := min(max(pr.r.sc.StallThreshold/10, 5*time.Millisecond), 50*time.Millisecond)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-detDone:
				return
			case <-tk.C:
				pr.det.poll(pr.r.clock.Now(), pr.phaseStart)
			}
		}
	}()
	return detDone, detStopped
}
