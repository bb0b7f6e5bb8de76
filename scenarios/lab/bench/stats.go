package main

import (
	"fmt"
	"slices"
)

// spread is the median and range of one figure over the rounds.
type spread struct {
	med, min, max float64
	n             int
}

func summarize(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{med: m, min: s[0], max: s[len(s)-1], n: len(s)}
}

// String prints a ratio's median and range: 1.012 [0.981-1.040].
func (s spread) String() string {
	if s.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f [%.3f-%.3f]", s.med, s.min, s.max)
}

// lunbenchFirst says whether lunbench goes first in round i (from 1): A B
// in odd rounds, B A in even ones, so that a drift in the machine's load
// over a case falls on both tools alike.
func lunbenchFirst(round int) bool { return round%2 == 1 }
