package workload

import (
	"context"
	"fmt"
	"time"
)

// loop is the aggregator: it wakes at each tick, interval end, ramp end and
// the phase's end, collects, and runs the verify passes recovered drills
// ask for, until the phase ends (pr.endReason says why).
func (pr *phaseRun) loop(ctx context.Context) {
	p := &pr.p
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for {
		wake := min(pr.nextTick, pr.nextIv, pr.end)
		if p.Ramp > 0 && !pr.measuring.Load() {
			wake = min(wake, pr.rampEnd)
		}
		timer.Reset(time.Duration(wake - pr.r.clock.Now()))
		select {
		case <-ctx.Done():
			pr.endReason = "interrupted"
			return
		case <-pr.allDone:
			pr.endReason = "done"
			if pr.r.clock.Now() >= pr.end {
				// The workers stopped at the deadline on their own.
				pr.endReason = "duration"
			}
			return
		case <-timer.C:
		}
		now := pr.r.clock.Now()
		if now >= pr.end {
			pr.endReason = "duration"
			return
		}
		ramp := pr.tickAt(now)
		if pr.sw.settled() {
			pr.endReason = "steady"
			return
		}
		if pr.drills != nil && pr.drills.verifyCh != nil {
			pr.verifyAfterDrills(ctx, now, ramp)
		}
		if pr.stop.Load() {
			pr.endReason = "stopped on error"
			return
		}
	}
}

// tickAt collects when a tick or an interval is due at now, moves the
// marks on, and ends the ramp when its last interval closes. It returns
// whether the phase was still ramping at now.
func (pr *phaseRun) tickAt(now int64) bool {
	ramp := !pr.measuring.Load()
	closeIv := now >= pr.nextIv
	if ramp && now >= pr.rampEnd {
		// The ramp's last interval ends exactly where measurement begins.
		closeIv = true
	}
	if now < pr.nextTick && !closeIv {
		return ramp
	}
	pr.collect(now, closeIv, ramp)
	for pr.nextTick <= now {
		pr.nextTick += pr.tick
	}
	if closeIv {
		pr.nextIv = now + pr.ivLen
		if ramp && now >= pr.rampEnd {
			pr.measuring.Store(true)
			pr.measStart = now
		} else if !pr.measuring.Load() && pr.rampEnd < pr.nextIv {
			pr.nextIv = pr.rampEnd
		}
	}
	return ramp
}

// verifyAfterDrills runs the verify pass a recovered drill asked for: once
// I/O flows again, it pauses the workers and reads back every written block
// before later writes can overwrite (and so hide) what the fault lost.
func (pr *phaseRun) verifyAfterDrills(ctx context.Context, now int64, ramp bool) {
	r, p := pr.r, &pr.p
	for more := true; more; {
		select {
		case name := <-pr.drills.verifyCh:
			pr.pendingVerify = append(pr.pendingVerify, verifyReq{drill: name,
				notBefore: now + int64(r.sc.StallThreshold) + int64(time.Second)})
		default:
			more = false
		}
	}
	// Nor while I/O still fails: a pass over a LUN whose paths are still
	// down would read every block as unreadable.
	quiet := r.sc.StallThreshold + time.Second
	if len(pr.pendingVerify) == 0 || now < pr.pendingVerify[0].notBefore || pr.det.anyOngoing() || pr.det.failedWithin(now, quiet) {
		return
	}
	req := pr.pendingVerify[0]
	pr.pendingVerify = pr.pendingVerify[1:]
	pr.collect(now, false, ramp)
	p0 := r.clock.Now()
	if pr.gt.hold(30*time.Second, ctx.Done()) {
		pr.verifies = append(pr.verifies, r.verifyPass(ctx, p, pr.tgts, "drill "+req.drill, pr.det.passes)...)
	} else {
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("verify after drill %s skipped: I/O in flight did not complete within 30s", req.drill)})
	}
	// The parked workers had nothing in flight: the time they waited is
	// no gap of the stall detector's.
	pr.det.released(r.clock.Now())
	pr.gt.closed.Store(false)
	pr.drills.verifying.Add(-1)
	d := r.clock.Now() - p0
	pr.pausedFor += d
	pr.end += d
	pr.deadline.Store(pr.end)
	pr.nextIv += d
	pr.sliceStart = r.clock.Now()
	pr.nextTick = pr.sliceStart + pr.tick
}
