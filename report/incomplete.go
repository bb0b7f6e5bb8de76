package report

import (
	"fmt"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
	"lunbench/workload"
)

// Incomplete is the verdict a report shows for a run that did not finish
// (interrupted, killed, or still running): whatever it measured, it cannot
// vouch for the scenario, so it must never read as a pass.
const Incomplete = "INCOMPLETE"

// rebuiltNote heads the phase table of a run that never wrote its own.
const rebuiltNote = "The run did not write its phase summaries: these figures are rebuilt from intervals.csv and the interval histograms (hist/*.hlog)."

// notEvaluated marks a criterion an unfinished run cannot vouch for.
const notEvaluated = "NOT EVALUATED"

// unfinished says why the run in dir did not finish, "" when it did.
func unfinished(dir string, r *RunJSON) string {
	switch r.Status {
	case "finished":
		return ""
	case "interrupted":
		return "the run was interrupted (Ctrl-C, SIGTERM or q) before its end"
	case "failed":
		return "the run failed: " + r.Error
	case "running":
		ps, err := ReadPidFile(dir, "/proc")
		switch {
		case err == nil && ps.Found && ps.Alive:
			return fmt.Sprintf("the run is still going (pid %d); this report is a snapshot", ps.Pid)
		case ps.Found:
			return fmt.Sprintf("the run was killed: run.json still says running, but process %d is gone (its lunbench.pid is stale)", ps.Pid)
		}
		// No pid file: killed before writing one, or stopped by a full
		// disk that had no room left to record how it ended.
		return "the run did not finish: run.json still says running and no lunbench process is recorded (killed, or stopped without room to record its end)"
	}
	return "the run's status is " + r.Status
}

// fillUnfinished makes the report of an unfinished run say so: phase
// results rebuilt from intervals.csv and the interval hlogs when run.json
// has none (a killed run never wrote them), passed criteria downgraded to
// not evaluated, the scenario's criteria listed as not evaluated when none
// were, and the phases that never ran. It returns the phases not run.
func fillUnfinished(dir string, d *runData) []string {
	r := d.run
	if len(r.Phases) == 0 && len(d.ivs) > 0 {
		d.rebuilt = true
		r.Phases = phasesFromIntervals(d.ivs)
		d.hists = readHists(dir, r)
		for i := range r.Phases {
			p := &r.Phases[i]
			if h := d.hists[phaseKey{p.Phase, p.Target, p.Op}]; h != nil {
				p.Lat = latencyOf(h, p.Lat.Max)
			}
		}
	}
	sc, err := scenarios.Parse("scenario.yaml", d.scenario, nil)
	if err != nil {
		sc = nil // a torn or missing scenario.yaml: list what run.json has
	}
	if len(r.Criteria) == 0 && sc != nil {
		for _, c := range sc.Criteria {
			r.Criteria = append(r.Criteria, result(c, c.Phase, c.Target, 0, false, ""))
		}
	}
	for i := range r.Criteria {
		c := &r.Criteria[i]
		if c.Pass || c.MeasuredText == "-" || c.MeasuredText == "" {
			c.Pass = false
			c.NotEvaluated = true
			c.Note = "the run did not finish"
		}
	}
	var notRun []string
	if sc != nil {
		for _, p := range sc.Phases {
			if !slices.ContainsFunc(r.Phases, func(pr workload.PhaseResult) bool { return pr.Phase == p.Name }) {
				notRun = append(notRun, p.Name)
			}
		}
	}
	return notRun
}

// phasesFromIntervals sums the measured (not ramp) intervals of each
// phase × target × op. Latencies other than the exact max come later from
// the histograms.
func phasesFromIntervals(ivs []IntervalRow) []workload.PhaseResult {
	var out []workload.PhaseResult
	idx := map[phaseKey]int{}
	for _, iv := range ivs {
		if iv.Ramp {
			continue
		}
		k := phaseKey{iv.Phase, iv.Target, iv.Op}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, workload.PhaseResult{Phase: iv.Phase, Target: iv.Target, Op: iv.Op, Start: iv.Start})
		}
		p := &out[i]
		p.End = iv.End
		p.Seconds += iv.End.Sub(iv.Start).Seconds()
		p.Ops += iv.Ops
		p.Bytes += iv.Bytes
		p.Errors += iv.Errors
		p.Missed += iv.Missed
		p.Lat.Count += iv.Ops
		p.Lat.Max = max(p.Lat.Max, time.Duration(iv.MaxUs*1e3))
	}
	for i := range out {
		if p := &out[i]; p.Seconds > 0 {
			p.IOPS = float64(p.Ops) / p.Seconds
			p.BytesPerSec = float64(p.Bytes) / p.Seconds
			p.MBps = p.BytesPerSec / (1 << 20)
		}
	}
	return out
}

// latencyOf summarises a histogram, keeping the exact max from the rows.
func latencyOf(h *hdr.Histogram, exactMax time.Duration) workload.LatencySummary {
	top := max(exactMax, time.Duration(h.Max()))
	// Histogram buckets report their upper edge; never above the exact max.
	q := func(p float64) time.Duration { return min(time.Duration(h.ValueAtPercentile(p)), top) }
	return workload.LatencySummary{
		Count: uint64(h.TotalCount()), Min: time.Duration(h.Min()), Mean: time.Duration(h.Mean()),
		Stddev: time.Duration(h.StdDev()), P50: q(50), P90: q(90), P99: q(99), P999: q(99.9), P9999: q(99.99),
		Max: top,
	}
}
