package workload

import (
	"fmt"
	"time"

	"lunbench/workload/verify"
)

// ioFlow tells a chained drill whether the phase's I/O flows.
type ioFlow interface {
	// flowing reports at clock time now whether every target completed
	// an I/O after the clock time since, with no stall (nor half of one)
	// in progress and no verify pass holding the workers.
	flowing(now, since int64) bool
}

// phaseFlow is ioFlow over a running phase's stall detector and gate.
type phaseFlow struct {
	det  *stallDetector
	gate *gate
}

func (f phaseFlow) flowing(now, since int64) bool {
	if f.gate != nil && f.gate.closed.Load() {
		return false
	}
	for ti := range f.det.flags {
		if _, stalled := f.det.ongoing(ti); stalled {
			return false
		}
		var last int64
		inflight := false
		for _, w := range f.det.workers[ti] {
			last = max(last, w.rec.LastDone())
			inflight = inflight || w.rec.InFlightSince() != 0
		}
		// A gap already half a stall long is not flow: a fault injected
		// now would make a stall that began before its inject.
		if last <= since || (inflight && now-last > f.det.threshold/2) {
			return false
		}
		// I/O that fails (a LUN with every path down and no queueing)
		// completes, but does not flow.
		if fail := f.det.lastFail(ti); fail != 0 && now-fail < f.det.threshold/2 {
			return false
		}
	}
	return true
}

// flowPoll is how often a chained drill looks at the I/O while it waits.
const flowPoll = 5 * time.Millisecond

// waitFlow waits until I/O has flowed on every target, without a break
// and with no verify pass pending, for settle since the clock time from
// (the earlier drill's recovery). It returns the moment it did, and false
// when the phase ended first.
func (dr *drillRun) waitFlow(from int64, settle time.Duration) (int64, bool) {
	clock := dr.r.clock
	tk := time.NewTicker(flowPoll)
	defer tk.Stop()
	var since int64 // when the flow was first seen unbroken, 0 = not yet
	for {
		now := clock.Now()
		switch {
		case dr.flow == nil || dr.verifying.Load() > 0 || !dr.flow.flowing(now, from):
			since = 0
		case since == 0:
			since = now
		}
		if since != 0 && now-since >= int64(settle) {
			return now, true
		}
		select {
		case <-dr.ctx.Done():
			return 0, false
		case <-tk.C:
		}
	}
}

// ownersByTarget splits the phase's stalls by target and attributes each
// (see stallOwners).
func ownersByTarget(order []*drillState, tgts []*target, stalls []Stall, clock Clock, threshold int64) (byTarget [][]Stall, owners [][]int) {
	byTarget = make([][]Stall, len(tgts))
	owners = make([][]int, len(tgts))
	for ti, t := range tgts {
		for _, st := range stalls {
			if st.Target == t.spec.Name {
				byTarget[ti] = append(byTarget[ti], st)
			}
		}
		owners[ti] = stallOwners(order, byTarget[ti], clock, threshold)
	}
	return byTarget, owners
}

// attribute fills in dt the own stall of drill order[i] on one target (the
// first of stalls it owns), and a note when a stall's attribution is
// ambiguous or the verify pass after the drill stalled. It returns the
// clock time the stall ended, 0 without one.
func attribute(dt *DrillTarget, order []*drillState, i int, stalls []Stall, owners []int, clock Clock, threshold int64) int64 {
	var end int64
	for si, st := range stalls {
		if note := ambiguity(order, i, owners[si], st, clock, threshold); note != "" && dt.Note == "" {
			dt.Note = note
		}
		if owners[si] != i {
			continue
		}
		if st.DuringVerify && dt.Note == "" {
			dt.Note = fmt.Sprintf("the verify pass after it stalled %s", st.Dur.Round(time.Millisecond))
		}
		if dt.Stalled {
			continue
		}
		inject := clock.Time(order[i].inject)
		dt.Stalled = true
		dt.LastBefore, dt.FirstAfter, dt.Stall, dt.InFlight = st.Start, st.End, st.Dur, st.InFlight
		dt.Detection, dt.Resume = st.Start.Sub(inject), st.End.Sub(inject)
		dt.Resumed = !st.Unresolved
		end = int64(st.End.Sub(clock.Time(0)))
	}
	return end
}

// stallOwners attributes each stall of one target to a drill: the index in
// order (drills sorted by inject time) of the last drill injected at or
// before the stall became one, or -1. A gap becomes a stall when it
// outlasts the threshold: a gap that began shortly before an inject (I/O
// momentarily slow, not yet a stall) and grew into a stall by that fault
// is the injected drill's, while a stall of the earlier fault that was
// still going on at the inject stays the earlier drill's. A stall that
// began before every such inject goes to a manual drill marked while it
// lasted, as a person marks a pulled cable after pulling it.
func stallOwners(order []*drillState, stalls []Stall, clock Clock, threshold int64) []int {
	owners := make([]int, len(stalls))
	for si, st := range stalls {
		owners[si] = -1
		start := int64(st.Start.Sub(clock.Time(0)))
		for i, s := range order {
			if s.inject <= start+threshold {
				owners[si] = i
			}
		}
		if owners[si] >= 0 {
			continue
		}
		end := int64(st.End.Sub(clock.Time(0)))
		for i, s := range order {
			if s.d.Manual && s.inject > start && s.inject <= end {
				owners[si] = i
				break
			}
		}
	}
	return owners
}

// ambiguity is the note for drill i about stall st owned by drill owner,
// when the stall was already one (longer than threshold) at the other
// drill's inject ("" otherwise).
func ambiguity(order []*drillState, i, owner int, st Stall, clock Clock, threshold int64) string {
	end := int64(st.End.Sub(clock.Time(0)))
	became := int64(st.Start.Sub(clock.Time(0))) + threshold
	switch {
	case owner == i && i+1 < len(order) && order[i+1].inject < end:
		return fmt.Sprintf("ambiguous: I/O was still stalled when drill %s was injected; the stall is counted here, where it began, and may include that drill's fault",
			order[i+1].d.Name)
	case owner < i && owner >= 0 && order[i].inject > became && order[i].inject < end:
		return fmt.Sprintf("ambiguous: injected while drill %s's stall (%s) was still going on; that stall is counted there, and a stall of this drill's own could not be told apart from it",
			order[owner].d.Name, st.Dur.Round(time.Millisecond))
	}
	return ""
}

// noteEndPass notes on each injected drill whose own verify pass never ran
// (it recovered too late in the phase, or its pass was skipped: the
// verify pass at the phase end read back what its fault left) a stall of
// that phase-end pass on a target. The stall stays out of the drill's
// figures, whose window ends by the phase's end; passes are the phase's
// verify passes, stalls those of the phase-end pass.
func noteEndPass(drills []DrillResult, passes []verify.Summary, stalls []Stall) {
	ran := map[string]bool{}
	for _, v := range passes {
		ran[v.When] = true
	}
	for i := range drills {
		d := &drills[i]
		if !d.Injected || ran["drill "+d.Name] {
			continue
		}
		for ti := range d.Targets {
			dt := &d.Targets[ti]
			for _, st := range stalls {
				if st.PhaseEnd && st.Target == dt.Target && dt.Note == "" {
					dt.Note = fmt.Sprintf("its verify pass ran at the phase end and stalled %s", st.Dur.Round(time.Millisecond))
				}
			}
		}
	}
}
