package workload

import "time"

// collect folds every worker's slice into the accumulators at now, builds
// the tick's snapshot (and the interval's, when closeInterval) and hands it
// to the sinks.
func (pr *phaseRun) collect(now int64, closeInterval bool, ramp bool) {
	r, p := pr.r, &pr.p
	snap := &Snapshot{
		Time: r.clock.Time(now), Elapsed: r.clock.Time(now).Sub(pr.runStart), Phase: p.Name,
		PhaseIndex: pr.idx, PhaseCount: len(r.sc.Phases), PhaseElapsed: time.Duration(now - pr.phaseStart),
		Ramp: ramp,
	}
	if p.Duration > 0 {
		snap.PhaseLength = p.Ramp + p.Duration
	}
	for ti := range pr.tgts {
		inflight := pr.takeSlices(ti, now, ramp)
		// Ongoing stalls are the detector's: one definition, exact start.
		if st, ok := pr.det.ongoing(ti); ok {
			st.For = time.Duration(now - st.since)
			st.Since = r.clock.Time(st.since)
			snap.Stalls = append(snap.Stalls, st.StallState)
		}
		if pr.keepTimeline {
			tk := tickSample{start: pr.sliceStart, end: now}
			for _, op := range pr.ops {
				tk.bytes += pr.sliceAcc[ti][op].bytes
				tk.latMax = max(tk.latMax, pr.sliceAcc[ti][op].latMax)
			}
			pr.tl.ticks[ti] = append(pr.tl.ticks[ti], tk)
		}
		pr.appendIntervals(snap, ti, now, inflight, closeInterval, ramp)
	}
	pr.sliceStart = now
	if closeInterval && !ramp {
		pr.sw.add(snap.Intervals)
	}
	for _, s := range r.sinks {
		s.Add(snap)
	}
	if closeInterval {
		pr.ivStart = now
		for ti := range pr.tgts {
			for _, op := range pr.ops {
				a := pr.accs[ti][op]
				h := a.iv.hist
				h.Reset()
				a.iv = opCounts{hist: h}
			}
		}
	}
}

// takeSlices swaps out target ti's worker slices into the accumulators and
// returns how many of its workers have an I/O in flight. A worker the
// kernel preempted mid-record keeps its slice until the next tick (see
// Recorder), except at the phase's last collection, which waits for it.
func (pr *phaseRun) takeSlices(ti int, now int64, rampNow bool) int {
	r, t := pr.r, pr.tgts[ti]
	inflight := 0
	var swapped *recSlices
	for _, w := range pr.workers[ti] {
		if w.rec.recSlices == swapped {
			// Shared with the previous worker's (one io_uring): taken.
			if w.rec.InFlightSince() != 0 {
				inflight++
			}
			continue
		}
		swapped = w.rec.recSlices
		// A half the worker was still recording into at the last tick
		// holds that tick's I/Os: it counts as ramp or not as they do.
		ramp := rampNow
		if w.rec.pending {
			ramp = w.heldRamp
		}
		take := func(s *slice) {
			for _, op := range pr.ops {
				c := &s.op[op]
				if ramp == rampNow {
					pr.sliceAcc[ti][op].merge(c)
				} else {
					// Held over from a tick of the other kind (the
					// ramp's last): into the interval and the phase as
					// its I/Os were; the live slice leaves it out.
					pr.accs[ti][op].add(c, !ramp)
				}
			}
			r.takeErrors(s, pr.p.Name, t, pr.accs[ti])
			r.noteBackoff(s, now, pr.p.Name, t, &pr.backoffNoted[ti])
			if pr.keepTimeline {
				for _, ec := range s.errnos {
					if ec.n > 0 {
						pr.tl.errs[ti] = append(pr.tl.errs[ti], errTick{at: now, errno: errnoName(ec.errno), n: ec.n})
					}
				}
			}
		}
		if pr.final {
			w.rec.swap(take)
		} else if !w.rec.trySwap(take) {
			w.heldRamp = ramp
		}
		if w.rec.InFlightSince() != 0 {
			inflight++
		}
	}
	// The interval and phase take the target's slice, not each worker's:
	// merging a histogram scans its buckets up to the highest value (some
	// 10,000 at 1 ns precision for millisecond latencies), so this is two
	// merges a target where it was two a worker.
	for _, op := range pr.ops {
		pr.accs[ti][op].add(&pr.sliceAcc[ti][op], !rampNow)
	}
	return inflight
}

// appendIntervals adds target ti's slice (and, when closeInterval, its
// interval) per op to snap, and resets the slice.
func (pr *phaseRun) appendIntervals(snap *Snapshot, ti int, now int64, inflight int, closeInterval, ramp bool) {
	r, name := pr.r, pr.tgts[ti].spec.Name
	for _, op := range pr.ops {
		sa := &pr.sliceAcc[ti][op]
		snap.Slices = append(snap.Slices, Interval{
			Start: r.clock.Time(pr.sliceStart), End: r.clock.Time(now), Phase: pr.p.Name, Target: name,
			Op: op, Ops: sa.ops, Bytes: sa.bytes, Errors: sa.errors, InFlight: inflight, Ramp: ramp,
			Lat: summarize(sa),
		})
		h := sa.hist
		h.Reset()
		*sa = opCounts{hist: h}
		if !closeInterval {
			continue
		}
		a := pr.accs[ti][op]
		a.iv.hist.SetStartTimeMs(r.clock.Time(pr.ivStart).UnixMilli())
		a.iv.hist.SetEndTimeMs(r.clock.Time(now).UnixMilli())
		snap.Intervals = append(snap.Intervals, Interval{
			Start: r.clock.Time(pr.ivStart), End: r.clock.Time(now), Phase: pr.p.Name, Target: name,
			Op: op, Ops: a.iv.ops, Bytes: a.iv.bytes, Errors: a.iv.errors, InFlight: inflight,
			Ramp: ramp, Lat: summarize(&a.iv), Missed: a.iv.missed, Hist: a.iv.hist,
		})
	}
}
