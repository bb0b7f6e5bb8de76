package report

import (
	"fmt"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
	"lunbench/workload"
)

// Verdict is the outcome of a run.
type Verdict string

// The verdicts, in the order a pipeline cares about them.
const (
	Pass        Verdict = "pass"
	Fail        Verdict = "fail"
	Interrupted Verdict = "interrupted"
	Error       Verdict = "error"
)

// CriterionResult is one criterion checked against one phase × target.
type CriterionResult struct {
	Text      string  `json:"criterion"`
	Phase     string  `json:"phase,omitempty"`
	Target    string  `json:"target,omitempty"`
	Metric    string  `json:"metric"`
	Cmp       string  `json:"cmp"`
	Threshold float64 `json:"threshold"`
	Measured  float64 `json:"measured"`
	// Shown are threshold and measured in the metric's unit, for people.
	ThresholdText string `json:"threshold_text"`
	MeasuredText  string `json:"measured_text"`
	Pass          bool   `json:"pass"`
	// Note explains a criterion that could not be measured.
	Note string `json:"note,omitempty"`
}

// Extra supplies run-level measurements criteria can name that the phase
// results do not hold (stalls, verification findings); zero when absent.
type Extra struct {
	// Measured reports a metric for a phase ("" = whole run) and target;
	// ok is false when the run did not measure it.
	Measured func(metric, phase, target string) (v float64, ok bool)
}

// Evaluate checks every criterion of the scenario against the results. A
// criterion without a phase applies to every phase that ran; one without a
// target to every target; each pair must pass. Counts (errors, stalls,
// lost writes) without a phase are totals over the run.
func Evaluate(sc *scenarios.Scenario, res *workload.Result, extra Extra) []CriterionResult {
	var out []CriterionResult
	for _, c := range sc.Criteria {
		unit, _ := scenarios.MetricUnit(c.Metric)
		targets := []string{c.Target}
		if c.Target == "" {
			targets = targetsOf(sc, c.Phase)
		}
		phases := []string{c.Phase}
		total := c.Phase == "" && (unit == scenarios.Count)
		if c.Phase == "" && !total {
			phases = phasesRun(res)
		}
		for _, ph := range phases {
			for _, tg := range targets {
				cr := CriterionResult{Text: c.Text, Phase: ph, Target: tg, Metric: c.Metric, Cmp: string(c.Cmp),
					Threshold: c.Threshold, ThresholdText: FormatMetric(unit, c.Threshold)}
				v, ok := measure(c.Metric, ph, tg, res, extra)
				if !ok {
					cr.Note = "not measured in this run"
					cr.MeasuredText = "-"
				} else {
					cr.Measured = v
					cr.MeasuredText = FormatMetric(unit, v)
					cr.Pass = c.Cmp.Holds(v, c.Threshold)
				}
				out = append(out, cr)
			}
		}
	}
	return out
}

// VerdictOf returns the run's verdict.
func VerdictOf(crs []CriterionResult, res *workload.Result) Verdict {
	if res != nil && res.Interrupted {
		return Interrupted
	}
	for _, c := range crs {
		if !c.Pass {
			return Fail
		}
	}
	return Pass
}

func targetsOf(sc *scenarios.Scenario, phase string) []string {
	for _, p := range sc.Phases {
		if p.Name == phase {
			return p.Targets
		}
	}
	var out []string
	for _, t := range sc.Targets {
		out = append(out, t.Name)
	}
	return out
}

func phasesRun(res *workload.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range res.Phases {
		if !seen[p.Phase] {
			seen[p.Phase] = true
			out = append(out, p.Phase)
		}
	}
	return out
}

// measure computes a metric over the phase results of one phase ("" = all)
// and target.
func measure(metric, phase, target string, res *workload.Result, extra Extra) (float64, bool) {
	ops := []workload.Op{workload.Read, workload.Write}
	base := metric
	switch {
	case strings.HasPrefix(metric, "read_"):
		ops, base = ops[:1], strings.TrimPrefix(metric, "read_")
	case strings.HasPrefix(metric, "write_"):
		ops, base = ops[1:], strings.TrimPrefix(metric, "write_")
	}
	var sel []workload.PhaseResult
	for _, p := range res.Phases {
		if (phase == "" || p.Phase == phase) && (target == "" || p.Target == target) {
			for _, op := range ops {
				if p.Op == op {
					sel = append(sel, p)
				}
			}
		}
	}
	var sum float64
	var ops64 uint64
	switch base {
	case "iops", "throughput", "errors":
		if len(sel) == 0 {
			return 0, false
		}
		for _, p := range sel {
			switch base {
			case "iops":
				sum += p.IOPS
			case "throughput":
				sum += p.BytesPerSec
			case "errors":
				sum += float64(p.Errors)
			}
		}
		return sum, true
	case "mean_latency":
		for _, p := range sel {
			sum += p.Lat.Mean.Seconds() * float64(p.Ops)
			ops64 += p.Ops
		}
		if ops64 == 0 {
			return 0, false
		}
		return sum / float64(ops64), true
	case "max_latency":
		var m time.Duration
		for _, p := range sel {
			m = max(m, p.Lat.Max)
		}
		return m.Seconds(), len(sel) > 0 && m > 0
	case "p50", "p90", "p99", "p99.9", "p99.99":
		var q float64
		fmt.Sscanf(base[1:], "%g", &q)
		h := mergeHists(sel)
		if h == nil || h.TotalCount() == 0 {
			return 0, false
		}
		v := time.Duration(h.ValueAtPercentile(q))
		var m time.Duration
		for _, p := range sel {
			m = max(m, p.Lat.Max)
		}
		return min(v, m).Seconds(), true
	case "max_stall", "stalls":
		// The stall detector watches every phase, so no stall is a
		// measured zero, not a missing figure.
		var worst time.Duration
		n := 0
		for _, s := range res.Stalls {
			if (phase == "" || s.Phase == phase) && (target == "" || s.Target == target) {
				worst = max(worst, s.Dur)
				n++
			}
		}
		if base == "stalls" {
			return float64(n), true
		}
		return worst.Seconds(), true
	}
	if extra.Measured != nil {
		return extra.Measured(metric, phase, target)
	}
	return 0, false
}

func mergeHists(sel []workload.PhaseResult) *hdr.Histogram {
	var h *hdr.Histogram
	for _, p := range sel {
		if p.Hist == nil {
			continue
		}
		if h == nil {
			h = workload.NewHistogram()
		}
		h.Merge(p.Hist)
	}
	return h
}

// FormatMetric writes a value in its unit for people.
func FormatMetric(u scenarios.Unit, v float64) string {
	switch u {
	case scenarios.Seconds:
		if v == 0 {
			return "0s"
		}
		return Lat(time.Duration(v * float64(time.Second)))
	case scenarios.BytesPerSec:
		return MiBps(v)
	case scenarios.Fraction:
		return fmt.Sprintf("%.1f%%", v*100)
	}
	if v == float64(int64(v)) || v >= 100 {
		return Thousands(v)
	}
	return fmt.Sprintf("%.2f", v)
}
