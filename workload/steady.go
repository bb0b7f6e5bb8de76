package workload

import (
	"time"

	"lunbench/scenarios"
)

// SteadyResult is how a phase with until_steady: ended: the metric of each
// round and SNIA's figures over the last window.
type SteadyResult struct {
	Phase  string `json:"phase"`
	Metric string `json:"metric"`
	// Steady is true when the phase ended because the window settled;
	// false when it ran into its timeout (or was stopped).
	Steady bool `json:"steady"`
	// Rounds are the metric per round (I/Os or bytes per second, reads
	// and writes of every target together), in order.
	Rounds   []float64 `json:"rounds"`
	RoundSec float64   `json:"round_sec"`
	Window   int       `json:"window"`
	// Avg, Excursion (max − min) and Slope (the fitted line's change
	// across the window) of the last window; the last two as fractions of
	// Avg, next to the limits they were held to.
	Avg          float64 `json:"avg"`
	Excursion    float64 `json:"excursion"`
	Slope        float64 `json:"slope"`
	MaxExcursion float64 `json:"max_excursion"`
	MaxSlope     float64 `json:"max_slope"`
}

// steadyWatch sums a phase's intervals into rounds and judges each new
// window. Only the aggregator touches it.
type steadyWatch struct {
	st       *scenarios.Steady
	perRound int // intervals per round
	n        int // intervals in the current round
	sum      float64
	secs     float64 // the current round's measured length
	round    float64 // seconds, nominal
	res      SteadyResult
	// frozen stops the count once the phase ended or settled: the
	// partial interval collected at the end is no round.
	frozen bool
}

func newSteadyWatch(phase string, st *scenarios.Steady, interval time.Duration) *steadyWatch {
	if st == nil {
		return nil
	}
	return &steadyWatch{st: st, perRound: int(st.Round / interval), round: st.Round.Seconds(),
		res: SteadyResult{Phase: phase, Metric: st.Metric, RoundSec: st.Round.Seconds(), Window: st.Rounds,
			MaxExcursion: st.MaxExcursion, MaxSlope: st.MaxSlope}}
}

// add takes the intervals of one measured tick that closed an interval.
func (s *steadyWatch) add(ivs []Interval) {
	if s == nil || len(ivs) == 0 || s.frozen {
		return
	}
	for _, iv := range ivs {
		if s.st.Metric == "throughput" {
			s.sum += float64(iv.Bytes)
		} else {
			s.sum += float64(iv.Ops)
		}
	}
	// The interval's real length: on a starved host the aggregator may
	// close it late, and the rate must not count that as more work.
	s.secs += ivs[0].End.Sub(ivs[0].Start).Seconds()
	if s.n++; s.n < s.perRound {
		return
	}
	secs := s.secs
	if secs <= 0 {
		secs = s.round
	}
	s.res.Rounds = append(s.res.Rounds, s.sum/secs)
	s.n, s.sum, s.secs = 0, 0, 0
	s.res.Steady, s.res.Avg, s.res.Excursion, s.res.Slope = scenarios.JudgeSteady(s.st, s.res.Rounds)
	s.frozen = s.res.Steady
}

// freeze ends the count (the phase's loop is over).
func (s *steadyWatch) freeze() {
	if s != nil {
		s.frozen = true
	}
}

// settled reports whether the last window is steady.
func (s *steadyWatch) settled() bool { return s != nil && s.res.Steady }

// result is the watch's verdict, nil for a phase without until_steady.
func (s *steadyWatch) result() *SteadyResult {
	if s == nil {
		return nil
	}
	r := s.res
	return &r
}
