package workload

import (
	"fmt"

	"lunbench/scenarios"
)

// curveRate sets the rate of a latency-vs-load curve's point: its share of
// the maximum its curve's first run (NAME[max]) reached, in I/Os per second
// per target (reads and writes together, averaged over the targets). It
// returns false when the point cannot run because the maximum was not
// measured; any other phase runs as written.
func (r *Runner) curveRate(i int, res *Result) bool {
	p := &r.sc.Phases[i]
	if p.Sub == nil || p.Sub.Key != "curve" || p.Sub.Value == 0 {
		return true
	}
	maxName := scenarios.SubName(p.Sub.Parent, scenarios.Sub{Key: "curve"})
	perTarget := map[string]float64{}
	for _, pr := range res.Phases {
		if pr.Phase == maxName {
			perTarget[pr.Target] += pr.IOPS
		}
	}
	var sum float64
	for _, v := range perTarget {
		sum += v
	}
	if sum <= 0 {
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("curve point skipped: %s measured no IOPS to take %s of", maxName, p.Sub.Label)})
		return false
	}
	p.RateIOPS = p.Sub.Value * sum / float64(len(perTarget))
	r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("curve point: %s of %s's %.0f IOPS per target: open loop at %.0f IOPS", p.Sub.Label, maxName, sum/float64(len(perTarget)), p.RateIOPS)})
	return true
}
