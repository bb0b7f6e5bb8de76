package workload

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Stall is a span during which a target had I/O in flight and nothing
// completed for longer than the scenario's stall threshold. Its length is
// the gap between the completions on either side, so its resolution is the
// clock's, not the detector's polling period.
type Stall struct {
	Phase  string        `json:"phase"`
	Target string        `json:"target"`
	Start  time.Time     `json:"start"` // the last completion before the gap
	End    time.Time     `json:"end"`   // the first completion after it
	Dur    time.Duration `json:"dur_ns"`
	// InFlight is how many I/Os were outstanding when it was detected.
	InFlight int `json:"in_flight"`
	// OldestWait is how long the oldest I/O caught in the stall had been
	// outstanding when the first completion after it came: a lower bound
	// on the worst latency the stall caused.
	OldestWait time.Duration `json:"oldest_wait_ns,omitempty"`
	// Unresolved is set when the phase ended before any I/O completed.
	Unresolved bool `json:"unresolved,omitempty"`
	// DuringVerify is set when the stall began while a verify pass read
	// the target (after a drill, with the workers parked; or at the phase
	// end): the pass's own reads hung. Start is then no earlier than the
	// pass's start.
	DuringVerify bool `json:"during_verify,omitempty"`
	// PhaseEnd is set, with DuringVerify, when that pass was the one at
	// the phase end: after the measured window and every drill's, so it is
	// in no figure of the phase's I/O and no drill's stall.
	PhaseEnd bool `json:"phase_end,omitempty"`
}

// stallFlag is shared by one target's workers and its detector. Workers
// only read since on each completion (a line that is written once per
// stall, so it stays in every core's cache) and, during a stall, race to
// set resume once.
type stallFlag struct {
	since  atomic.Int64 // ns of the last completion before an ongoing stall, 0 = none
	resume atomic.Int64 // ns of the first completion after it
	// inflight is how many I/Os were outstanding when the stall began.
	inflight atomic.Int32
	_        [44]byte
}

// completed is called by a worker after every I/O.
func (f *stallFlag) completed(now int64) {
	if f.since.Load() != 0 && f.resume.Load() == 0 {
		f.resume.CompareAndSwap(0, now)
	}
}

// stallDetector watches one phase's targets.
type stallDetector struct {
	r         *Runner
	phase     string
	threshold int64
	targets   []*target
	workers   [][]*worker
	flags     []*stallFlag
	// passes are the targets' verify pass reads (see passWatch).
	passes []*passWatch
	stalls []Stall
	// open is, per target, what the detector noted of its ongoing stall.
	open []openStall
	// endPass is set once it watches the phase-end verify pass, after the
	// workers have returned (see phaseEnded).
	endPass bool
}

// openStall is what the detector notes of a stall when it begins.
type openStall struct {
	// oldest is when the oldest I/O in flight was issued.
	oldest int64
	// verify says a verify pass was reading the target; phaseEnd, that it
	// was the pass at the phase end.
	verify, phaseEnd bool
}

// scan is target ti's I/O now: how many I/Os are in flight (the workers'
// and a verify pass's reads), when the oldest was issued, and the last
// completion, or the last moment I/O began again after a pause with
// nothing in flight when that is later (0 when neither happened yet).
func (d *stallDetector) scan(ti int) (inflight int, oldest, last int64) {
	for _, w := range d.workers[ti] {
		if is := w.rec.InFlightSince(); is != 0 {
			inflight++
			if oldest == 0 || is < oldest {
				oldest = is
			}
		}
		last = max(last, w.rec.LastDone())
	}
	if d.passes != nil {
		return d.passes[ti].scan(inflight, oldest, last)
	}
	return inflight, oldest, last
}

// released marks every target's I/O as beginning again at now, after a
// pause with nothing in flight (the gate opens): a stall counts from no
// earlier than now.
func (d *stallDetector) released(now int64) {
	for _, p := range d.passes {
		p.raise(now)
	}
}

// phaseEnded readies the detector, stopped at the phase's end once every
// worker returned, to watch the phase-end verify pass from now: the
// workers' last completions are no start of a gap of the pass's, and its
// stalls are marked PhaseEnd.
func (d *stallDetector) phaseEnded(now int64) {
	d.released(now)
	d.endPass = true
}

// poll checks every target at now; it runs often (every few ms), so a
// stall is reported while it is still going on.
func (d *stallDetector) poll(now int64, phaseStart int64) {
	for ti, f := range d.flags {
		if since := f.since.Load(); since != 0 {
			if res := f.resume.Load(); res != 0 {
				d.finish(ti, since, res, false)
			}
			continue
		}
		inflight, oldest, last := d.scan(ti)
		if last == 0 {
			last = phaseStart
		}
		if inflight == 0 || now-last <= d.threshold {
			continue
		}
		f.resume.Store(0)
		f.inflight.Store(int32(inflight))
		if d.open == nil {
			d.open = make([]openStall, len(d.flags))
		}
		inPass := d.passes != nil && d.passes[ti].active.Load()
		d.open[ti] = openStall{oldest: oldest, verify: inPass, phaseEnd: inPass && d.endPass}
		f.since.Store(last)
		// A completion that landed between the reads above and the store
		// did not see the flag: look again so the stall is not left open.
		if _, _, again := d.scan(ti); again > last {
			f.since.Store(0)
			continue
		}
		detail := fmt.Sprintf("no I/O completed for %s with %d in flight", time.Duration(now-last).Round(time.Millisecond), inflight)
		switch {
		case d.open[ti].phaseEnd:
			detail += " (reads of the verify pass at the phase end)"
		case d.open[ti].verify:
			detail += " (reads of the verify pass; the workers are parked)"
		}
		d.r.emit(Event{Time: d.r.clock.Time(now), Kind: EvStallStart, Phase: d.phase, Target: d.targets[ti].spec.Name,
			Dur: time.Duration(now - last), Detail: detail})
	}
}

func (d *stallDetector) finish(ti int, since, res int64, unresolved bool) {
	f := d.flags[ti]
	s := Stall{Phase: d.phase, Target: d.targets[ti].spec.Name, Start: d.r.clock.Time(since), End: d.r.clock.Time(res),
		Dur: time.Duration(res - since), InFlight: int(f.inflight.Load()), Unresolved: unresolved}
	if d.open != nil {
		if o := d.open[ti]; o.oldest != 0 {
			s.OldestWait = time.Duration(res - o.oldest)
		}
		s.DuringVerify, s.PhaseEnd = d.open[ti].verify, d.open[ti].phaseEnd
	}
	d.stalls = append(d.stalls, s)
	detail := fmt.Sprintf("I/O resumed after %s", s.Dur.Round(time.Microsecond))
	if unresolved {
		detail = fmt.Sprintf("phase ended with I/O still stalled after %s", s.Dur)
	}
	switch {
	case s.PhaseEnd:
		detail += " (reads of the verify pass at the phase end)"
	case s.DuringVerify:
		detail += " (reads of the verify pass)"
	}
	d.r.emit(Event{Time: s.End, Kind: EvStallEnd, Phase: d.phase, Target: s.Target, Dur: s.Dur, Detail: detail})
	f.since.Store(0)
	f.resume.Store(0)
}

// close ends the phase: a stall still open is recorded up to now.
func (d *stallDetector) close(now int64) {
	for ti, f := range d.flags {
		if since := f.since.Load(); since != 0 {
			if res := f.resume.Load(); res != 0 {
				d.finish(ti, since, res, false)
			} else {
				d.finish(ti, since, now, true)
			}
		}
	}
}

// ongoingStall is a stall still in progress, as the aggregator reports it.
type ongoingStall struct {
	StallState
	since int64
}

// ongoing reports target ti's stall in progress, if any. It may be called
// from another goroutine than the detector's.
func (d *stallDetector) ongoing(ti int) (ongoingStall, bool) {
	f := d.flags[ti]
	since := f.since.Load()
	if since == 0 || f.resume.Load() != 0 {
		return ongoingStall{}, false
	}
	return ongoingStall{StallState: StallState{Target: d.targets[ti].spec.Name, InFlight: int(f.inflight.Load())}, since: since}, true
}

// failedWithin reports whether an I/O of any target failed in the window
// before clock time now: its I/O completes but does not flow.
func (d *stallDetector) failedWithin(now int64, window time.Duration) bool {
	for ti := range d.workers {
		if f := d.lastFail(ti); f != 0 && now-f < int64(window) {
			return true
		}
	}
	return false
}

// lastFail is the latest failed completion of target ti's workers, 0 when
// none failed.
func (d *stallDetector) lastFail(ti int) int64 {
	var last int64
	for _, w := range d.workers[ti] {
		last = max(last, w.rec.LastFail())
	}
	return last
}

// anyOngoing reports whether any target is stalled right now.
func (d *stallDetector) anyOngoing() bool {
	for ti := range d.flags {
		if _, ok := d.ongoing(ti); ok {
			return true
		}
	}
	return false
}
