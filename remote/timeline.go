package remote

import (
	"time"

	"lunbench/workload"
)

// Clock sync: the coordinator sends pings; the agent answers each with its
// own clock at the ping's arrival. With t0 the coordinator's send time, t1
// the agent's clock and t2 the coordinator's receive time, NTP's estimate
// of the agent's offset is t1 - (t0+t2)/2, wrong by at most half the round
// trip t2-t0: the sample with the smallest round trip is the tightest.

// ClockSample is one ping's round trip, in Unix nanoseconds.
type ClockSample struct {
	Sent, Agent, Received int64
}

// RTT is the sample's round trip.
func (s ClockSample) RTT() time.Duration { return time.Duration(s.Received - s.Sent) }

// Offset is how far the agent's clock is ahead of the coordinator's by
// this sample.
func (s ClockSample) Offset() time.Duration {
	return time.Duration(s.Agent - s.Sent - (s.Received-s.Sent)/2)
}

// ClockEstimate is an agent clock's offset from the coordinator's.
type ClockEstimate struct {
	// Offset is the agent's clock minus the coordinator's.
	Offset time.Duration `json:"offset_ns"`
	// Uncertainty bounds the error of Offset: half the smallest round trip.
	Uncertainty time.Duration `json:"uncertainty_ns"`
	// MinRTT is the smallest round trip of the samples.
	MinRTT  time.Duration `json:"min_rtt_ns"`
	Samples int           `json:"samples"`
}

// Estimate keeps the sample with the smallest round trip.
func Estimate(samples []ClockSample) ClockEstimate {
	var best ClockSample
	for i, s := range samples {
		if i == 0 || s.RTT() < best.RTT() {
			best = s
		}
	}
	if len(samples) == 0 {
		return ClockEstimate{}
	}
	return ClockEstimate{Offset: best.Offset(), Uncertainty: best.RTT() / 2, MinRTT: best.RTT(), Samples: len(samples)}
}

// shiftT moves t by d; a zero time (not set) stays zero.
func shiftT(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(d)
}

// shiftSnapshot moves every time of a snapshot by d.
func shiftSnapshot(s *WireSnapshot, d time.Duration) {
	s.Time = shiftT(s.Time, d)
	for i := range s.Slices {
		s.Slices[i].Start, s.Slices[i].End = shiftT(s.Slices[i].Start, d), shiftT(s.Slices[i].End, d)
	}
	for i := range s.Intervals {
		iv := &s.Intervals[i].Interval
		iv.Start, iv.End = shiftT(iv.Start, d), shiftT(iv.End, d)
	}
	for i := range s.Stalls {
		s.Stalls[i].Since = shiftT(s.Stalls[i].Since, d)
	}
}

// shiftEvent moves an event by d.
func shiftEvent(e *workload.Event, d time.Duration) { e.Time = shiftT(e.Time, d) }

// shiftCommand moves a drill command's times by d.
func shiftCommand(c *workload.CommandResult, d time.Duration) {
	if c != nil {
		c.Start, c.End = shiftT(c.Start, d), shiftT(c.End, d)
	}
}

// shiftResult moves every time of a run's result by d. Durations (stall
// lengths, detection and resume times) are local gaps and stay exact.
func shiftResult(r *workload.Result, d time.Duration) {
	r.Start, r.End = shiftT(r.Start, d), shiftT(r.End, d)
	for i := range r.Phases {
		p := &r.Phases[i]
		p.Start, p.End = shiftT(p.Start, d), shiftT(p.End, d)
	}
	for i := range r.Stalls {
		s := &r.Stalls[i]
		s.Start, s.End = shiftT(s.Start, d), shiftT(s.End, d)
	}
	for i := range r.Drills {
		dr := &r.Drills[i]
		dr.InjectAt, dr.RecoverAt, dr.WindowEnd = shiftT(dr.InjectAt, d), shiftT(dr.RecoverAt, d), shiftT(dr.WindowEnd, d)
		shiftCommand(dr.Inject, d)
		shiftCommand(dr.Recover, d)
		for j := range dr.Targets {
			t := &dr.Targets[j]
			t.LastBefore, t.FirstAfter = shiftT(t.LastBefore, d), shiftT(t.FirstAfter, d)
			if t.PathMove != nil {
				t.PathMove.At = shiftT(t.PathMove.At, d)
			}
		}
	}
	for i := range r.Verify {
		v := &r.Verify[i]
		v.Start, v.End = shiftT(v.Start, d), shiftT(v.End, d)
	}
}
