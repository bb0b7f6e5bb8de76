package workload

import (
	"context"
	"fmt"
	"time"

	"lunbench/workload/verify"
)

// drain stops the workers and waits for the I/O in flight, for at most the
// drain time (a second when a person asked to stop). It returns the clock
// at its end and whether every worker finished.
func (pr *phaseRun) drain(ctx context.Context) (int64, bool) {
	r := pr.r
	pr.stop.Store(true)
	pr.sw.freeze()
	if pr.drills != nil {
		// Before the drain: a pending recovery releases I/O that a fault
		// still holds.
		pr.drills.finish()
	}
	drained := true
	drain := r.opt.Drain
	if ctx.Err() != nil {
		// A person asked to stop: answer within a second, even when a
		// hung device holds I/O that may never complete.
		drain = min(drain, stopDrain)
	}
	pr.drainFor = drain
	select {
	case <-pr.allDone:
	case <-time.After(drain):
		drained = false
	}
	return r.clock.Now(), drained
}

// lastCompletion is the clock time of the phase's last completion; only
// once every worker has returned.
func (pr *phaseRun) lastCompletion() int64 {
	var last int64
	for _, ws := range pr.workers {
		for _, w := range ws {
			last = max(last, w.lastDone)
		}
	}
	return last
}

// finish turns the accumulators into the phase's results, runs the
// phase-end verify pass and measures the drills.
func (pr *phaseRun) finish(ctx context.Context, now int64, drained bool) phaseOut {
	r, p := pr.r, &pr.p
	if !drained {
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("in-flight I/O did not finish within %s of the stop; results exclude it", pr.drainFor)})
	}
	// I/Os that completed while draining are counted, so the measured time
	// runs to the drain's end; a drain cut short by a hung device is not
	// charged beyond the phase's planned end.
	measEnd := now
	if !drained {
		measEnd = min(now, pr.end)
	} else if last := pr.lastCompletion(); last > pr.measStart {
		// The last completion, not when the aggregator noticed: on a host
		// with more busy threads than CPUs it may run long after the
		// workers stopped at the deadline.
		measEnd = min(now, last)
	}
	measStart := min(pr.measStart, measEnd)
	secs := float64(max(measEnd-measStart-pr.pausedFor, 0)) / float64(time.Second)
	out := pr.results(measStart, measEnd, secs)
	if drained {
		// (Workers still stuck in an I/O own their tallies.)
		pr.verifies = append(pr.verifies, inlineSummary(p, pr.tgts, pr.workers)...)
	}
	// The drills are measured on the stalls of the phase's own run: every
	// drill's window ends by the phase's end, before the phase-end pass.
	drillStalls := pr.det.stalls[:len(pr.det.stalls):len(pr.det.stalls)]
	switch {
	case !p.Verify:
	case ctx.Err() != nil || !drained:
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: "verify pass at the phase end skipped (run stopped, or I/O still in flight); check the device with: lunbench verify RUNDIR"})
	default:
		pr.verifies = append(pr.verifies, pr.endPass(ctx)...)
	}
	po := phaseOut{results: out, stalls: pr.det.stalls, verify: pr.verifies, steady: pr.sw.result()}
	if pr.drills != nil {
		po.drills = pr.drills.measure(pr.tl, pr.tgts, pr.ros, drillStalls, now, pr.tick)
		noteEndPass(po.drills, pr.verifies, pr.det.stalls[len(drillStalls):])
	}
	r.emit(Event{Kind: EvPhaseEnd, Phase: p.Name, Detail: pr.endReason})
	return po
}

// endPass runs the verify pass at the phase end with the stall detector
// watching its reads, as it watches the passes after drills: the workers
// have all returned, so the pass's reads are the targets' only I/O, and a
// read that hangs longer than the threshold is a stall (marked PhaseEnd).
// The phase's figures were taken before it: the pass is not measured.
func (pr *phaseRun) endPass(ctx context.Context) []verify.Summary {
	r := pr.r
	pr.det.phaseEnded(r.clock.Now())
	detDone, detStopped := pr.startDetector()
	sums := r.verifyPass(ctx, &pr.p, pr.tgts, "phase end", pr.det.passes)
	close(detDone)
	<-detStopped
	pr.det.close(r.clock.Now())
	return sums
}

// results is the phase's result per target × op over [measStart, measEnd],
// secs long once verify pauses are taken out.
func (pr *phaseRun) results(measStart, measEnd int64, secs float64) []PhaseResult {
	r, p := pr.r, &pr.p
	var out []PhaseResult
	for ti, t := range pr.tgts {
		for _, op := range pr.ops {
			a := pr.accs[ti][op]
			res := PhaseResult{
				Phase: p.Name, Target: t.spec.Name, Op: op,
				Start: r.clock.Time(measStart), End: r.clock.Time(measEnd),
				Seconds: secs, Ops: a.phase.ops, Bytes: a.phase.bytes, Errors: a.phase.errors, Missed: a.phase.missed,
				Backoffs: a.phase.backoffs, BackoffTime: time.Duration(a.phase.backoffNs),
				Lat: summarize(&a.phase), Hist: a.phase.hist,
			}
			if len(a.errnos) > 0 {
				res.Errnos = map[string]uint64{}
				for e, n := range a.errnos {
					res.Errnos[errnoName(e)] += n
				}
			}
			if secs > 0 {
				res.IOPS = float64(res.Ops) / secs
				res.BytesPerSec = float64(res.Bytes) / secs
				res.MBps = res.BytesPerSec / (1 << 20)
			}
			res.Sizes = sizeResults(p, op, &a.phase, secs)
			res.Sub, res.RateIOPS = p.Sub, p.RateIOPS
			out = append(out, res)
		}
	}
	return out
}
