package live

import (
	"sort"
	"time"

	"lunbench/workload"
)

// stallRedraw is the redraw period while a stall lasts: with the age shown
// to 0.1 s, the count on screen is then within 100 ms of the truth. (A
// frame costs 1 to 15 ms of CPU, 80×24 to 240×70, only while I/O is
// stalled anyway.)
const stallRedraw = 50 * time.Millisecond

// liveStall is a stall in progress as the stall_start event told it.
type liveStall struct {
	since time.Time // the last completion before the gap
}

// liveStalls merges the stalls the events started with those of the
// latest snapshot (which also knows the I/Os in flight), dropping the
// snapshot's stalls that a stall_end has ended since, and gives each its
// age at now: the count on screen is the truth at draw time, not at the
// snapshot.
func liveStalls(events map[string]liveStall, ended map[string]time.Time, snap *workload.Snapshot, now time.Time) []workload.StallState {
	byTarget := map[string]workload.StallState{}
	for target, ls := range events {
		byTarget[target] = workload.StallState{Target: target, Since: ls.since, InFlight: -1}
	}
	if snap != nil {
		for _, s := range snap.Stalls {
			if end, ok := ended[s.Target]; ok && !end.Before(s.Since) {
				continue // over: the stall_end came after this snapshot
			}
			if ev, ok := byTarget[s.Target]; ok {
				ev.InFlight = s.InFlight
				byTarget[s.Target] = ev
				continue
			}
			byTarget[s.Target] = s
		}
	}
	out := make([]workload.StallState, 0, len(byTarget))
	for _, s := range byTarget {
		s.For = max(now.Sub(s.Since), 0)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Target < out[j].Target
	})
	return out
}

// stalling reports whether a stall is on screen, for the faster redraw.
func (d *Dashboard) stalling() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.stalls) > 0 {
		return true
	}
	s := d.snap.Load()
	return s != nil && len(s.Stalls) > 0
}
