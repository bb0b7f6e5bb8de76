package main

import (
	"fmt"
	"time"

	"lunbench/collect"
	"lunbench/workload"
)

// diskStallDetector finds stalls in diskstats alone, for `lunbench watch`,
// where no worker timestamps completions: a watched device with requests
// in flight at a sample and no completion (reads, writes, discards,
// flushes) since the previous one is stuck for that interval. A run of
// stuck intervals longer than the threshold is a stall.
//
// Its length is known to the sampling period only. With samples every Δ,
// if the first stuck interval starts at S and completions show again in
// the interval ending at E, the last completion before the gap fell in
// the Δ before S and the first one after it in the Δ before E, so the gap
// is E-S ± Δ; E-S is what is reported.
type diskStallDetector struct {
	threshold time.Duration
	dev       map[string]*devStall // by target label
	// stalls are the stalls that ended, oldest first.
	stalls []workload.Stall
}

type devStall struct {
	since    time.Time // start of the first stuck interval; zero when not stuck
	started  bool      // stall_start emitted
	inflight uint64    // most in flight while stuck
	interval time.Duration
}

func newDiskStallDetector(threshold time.Duration) *diskStallDetector {
	return &diskStallDetector{threshold: threshold, dev: map[string]*devStall{}}
}

// update takes one sample's rows at now and returns the dashboard's
// snapshot (a slice per watched device and op, the stalls going on) and
// the stall events: stall_start once a stall passes the threshold,
// stall_end with its length when completions come back.
func (d *diskStallDetector) update(now, start time.Time, rows []collect.DiskStat) (*workload.Snapshot, []workload.Event) {
	snap := &workload.Snapshot{Time: now, Elapsed: now.Sub(start), Phase: "watch", PhaseCount: 1, PhaseElapsed: now.Sub(start)}
	var evs []workload.Event
	for _, r := range rows {
		if r.Role == collect.RolePath {
			continue // a path's I/O is its map's: counted once, at the map
		}
		sec := r.Interval.Seconds()
		for _, op := range []struct {
			op          workload.Op
			ps, kbs, aw float64
		}{{workload.Read, r.RPS, r.RkBPS, r.RAwait}, {workload.Write, r.WPS, r.WkBPS, r.WAwait}} {
			await := time.Duration(op.aw * float64(time.Millisecond))
			snap.Slices = append(snap.Slices, workload.Interval{
				Start: now.Add(-r.Interval), End: now, Phase: "watch", Target: r.Target, Op: op.op,
				Ops: uint64(op.ps*sec + 0.5), Bytes: uint64(op.kbs*1024*sec + 0.5), InFlight: int(r.InFlight),
				Lat: workload.LatencySummary{Mean: await, Max: await},
			})
		}
		s := d.dev[r.Target]
		if s == nil {
			s = &devStall{}
			d.dev[r.Target] = s
		}
		s.interval = r.Interval
		stuck := r.InFlight > 0 && r.RPS+r.WPS+r.DPS+r.FPS == 0
		switch {
		case stuck:
			if s.since.IsZero() {
				s.since = now.Add(-r.Interval)
			}
			s.inflight = max(s.inflight, r.InFlight)
			if !s.started && now.Sub(s.since) > d.threshold {
				s.started = true
				evs = append(evs, workload.Event{Time: now, Kind: workload.EvStallStart, Phase: "watch", Target: r.Target, Dur: now.Sub(s.since),
					Detail: fmt.Sprintf("%d I/O in flight on %s, none completed for %s", r.InFlight, r.Device, now.Sub(s.since).Round(time.Millisecond))})
			}
			if s.started {
				snap.Stalls = append(snap.Stalls, workload.StallState{Target: r.Target, Since: s.since, For: now.Sub(s.since), InFlight: int(r.InFlight)})
			}
		case !s.since.IsZero():
			if s.started {
				evs = append(evs, d.end(r.Target, s, now, false))
			}
			*s = devStall{}
		}
	}
	return snap, evs
}

// end records the stall of target s as over at now.
func (d *diskStallDetector) end(target string, s *devStall, now time.Time, unresolved bool) workload.Event {
	st := workload.Stall{Phase: "watch", Target: target, Start: s.since, End: now, Dur: now.Sub(s.since),
		InFlight: int(s.inflight), Unresolved: unresolved}
	d.stalls = append(d.stalls, st)
	detail := fmt.Sprintf("I/O completed again after %.3f s (±%s: sampled)", st.Dur.Seconds(), s.interval)
	if unresolved {
		detail = fmt.Sprintf("watch ended with I/O still stalled after %.3f s", st.Dur.Seconds())
	}
	return workload.Event{Time: now, Kind: workload.EvStallEnd, Phase: "watch", Target: target, Dur: st.Dur, Detail: detail}
}

// close ends the stalls still going on when the watch stops.
func (d *diskStallDetector) close(now time.Time) []workload.Event {
	var evs []workload.Event
	for target, s := range d.dev {
		if s.started {
			evs = append(evs, d.end(target, s, now, true))
			*s = devStall{}
		}
	}
	return evs
}
