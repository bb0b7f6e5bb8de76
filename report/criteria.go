package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/collect/preflight"
	"lunbench/iscsi/probe"
	"lunbench/scenarios"
	"lunbench/workload"
	"lunbench/workload/verify"
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

// CriterionResult is one criterion checked against one phase × target
// (and, for a drill's expect:, one drill).
type CriterionResult struct {
	Text   string `json:"criterion"`
	Phase  string `json:"phase,omitempty"`
	Target string `json:"target,omitempty"`
	// Drill names the drill whose expect: block the criterion comes from.
	Drill     string  `json:"drill,omitempty"`
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
	// NotEvaluated is set by reports of a run that did not finish: it
	// cannot vouch for the criterion, whatever the partial data showed.
	NotEvaluated bool `json:"not_evaluated,omitempty"`
}

// Extra supplies run-level measurements criteria can name that the phase
// results do not hold; zero when absent.
type Extra struct {
	// Measured reports a metric for a phase ("" = whole run) and target;
	// ok is false when the run did not measure it.
	Measured func(metric, phase, target string) (v float64, ok bool)
	// Preflight is the host preflight recorded with the run (run.json's
	// extra.preflight), for preflight_errors and preflight_warnings; nil
	// when it did not run.
	Preflight *preflight.Report
	// PreflightNote says why Preflight is nil when the run recorded one
	// that could not be read.
	PreflightNote string
	// Probes are the target probes recorded with the run (run.json's
	// extra.probe), for probe_errors and probe_warnings.
	Probes []probe.Recorded
	// ProbeNote says why Probes is empty when the run recorded some that
	// could not be read.
	ProbeNote string
	// LoginWatches are the drills' login watches (run.json's
	// extra.probe_logins), for login_back.
	LoginWatches   []probe.LoginWatch
	LoginWatchNote string
}

// ExtraFor returns what criteria need from a run.json besides the
// workload's results: its preflight.
func ExtraFor(r *RunJSON) Extra {
	var e Extra
	if raw, ok := r.Extra[probe.LoginWatchKey]; ok {
		if err := json.Unmarshal(raw, &e.LoginWatches); err != nil {
			e.LoginWatchNote = "run.json's probe_logins cannot be read: " + err.Error()
		}
	}
	if raw, ok := r.Extra[probe.RunJSONKey]; ok {
		if err := json.Unmarshal(raw, &e.Probes); err != nil {
			e.ProbeNote = "run.json's probe cannot be read: " + err.Error()
		}
	}
	raw, ok := r.Extra[preflightKey]
	if !ok {
		return e
	}
	var pre preflight.Report
	if err := json.Unmarshal(raw, &pre); err != nil {
		e.PreflightNote = "run.json's preflight cannot be read: " + err.Error()
		return e
	}
	e.Preflight = &pre
	return e
}

// preflightKey is the preflight's key in run.json's extra.
const preflightKey = "preflight"

// Evaluate checks every criterion of the scenario against the results. A
// criterion without a phase applies to every phase that ran; one without a
// target to every target; each pair must pass. Counts (errors, stalls,
// lost writes) without a phase are totals over the run. A drill's expect:
// is checked per target against that drill's measurements
// (Result.Drills). A criterion the run did not measure fails with a note
// saying why.
func Evaluate(sc *scenarios.Scenario, res *workload.Result, extra Extra) []CriterionResult {
	if res == nil {
		res = &workload.Result{} // nothing ran: every rule is unmeasured
	}
	var out []CriterionResult
	for _, c := range sc.Criteria {
		unit, _ := scenarios.MetricUnit(c.Metric)
		if scenarios.HostMetric(c.Metric) {
			// One figure for the host, or for the one target named.
			measure := measurePreflight
			if strings.HasPrefix(c.Metric, "probe_") {
				measure = measureProbe
			}
			v, ok, why := measure(c.Metric, targetPath(sc, c.Target), extra)
			out = append(out, result(c, c.Phase, c.Target, v, ok, why))
			continue
		}
		targets := []string{c.Target}
		if c.Target == "" {
			targets = targetsOf(sc, c.Phase)
		}
		if c.Metric == "iops_at_p99" {
			for _, tg := range targets {
				v, ok, why := iopsAtP99(c, tg, res)
				out = append(out, result(c, c.Phase, tg, v, ok, why))
			}
			continue
		}
		phases := []string{c.Phase}
		total := c.Phase == "" && (unit == scenarios.Count)
		if c.Phase == "" && !total {
			phases = phasesRun(res)
		}
		for _, ph := range phases {
			for _, tg := range targets {
				v, ok, why := measure(c.Metric, ph, tg, res, extra)
				out = append(out, result(c, ph, tg, v, ok, why))
			}
		}
	}
	for _, p := range sc.Phases {
		for _, dr := range p.Drills {
			got := drillResult(res, p.Name, dr.Name)
			for _, c := range dr.Expect {
				targets := []string{c.Target}
				if c.Target == "" {
					targets = p.Targets
				}
				for _, tg := range targets {
					v, ok, why := measureDrill(c.Metric, got, tg, res)
					if c.Metric == "login_back" {
						v, ok, why = measureLoginBack(got, tg, extra)
					}
					cr := result(c, p.Name, tg, v, ok, why)
					cr.Drill = dr.Name
					out = append(out, cr)
				}
			}
		}
	}
	return out
}

// result makes the CriterionResult of one measurement; why explains a
// figure that was not measured.
func result(c scenarios.Criterion, phase, target string, v float64, ok bool, why string) CriterionResult {
	unit, _ := scenarios.MetricUnit(c.Metric)
	cr := CriterionResult{Text: c.Text, Phase: phase, Target: target, Drill: c.Drill, Metric: c.Metric, Cmp: string(c.Cmp),
		Threshold: c.Threshold, ThresholdText: FormatMetric(unit, c.Threshold)}
	if !ok {
		cr.Note = "not measured in this run"
		if why != "" {
			cr.Note = "not measured: " + why
		}
		cr.MeasuredText = "-"
		return cr
	}
	cr.Measured = v
	cr.MeasuredText = FormatMetric(unit, v)
	cr.Pass = c.Cmp.Holds(v, c.Threshold)
	return cr
}

// targetPath returns the path of a scenario's target: the key preflight
// files a target's findings under. "" stays "" (the whole host).
func targetPath(sc *scenarios.Scenario, name string) string {
	for _, t := range sc.Targets {
		if t.Name == name {
			return t.Path
		}
	}
	return name
}

// measurePreflight counts the preflight's errors or warnings, about the
// whole host (target "") or about one target's expect: block.
func measurePreflight(metric, target string, extra Extra) (float64, bool, string) {
	pre := extra.Preflight
	switch {
	case pre == nil && extra.PreflightNote != "":
		return 0, false, extra.PreflightNote
	case pre == nil:
		return 0, false, "no host preflight was recorded with the run"
	case pre.Unchecked() != "":
		return 0, false, "preflight could not check the host: " + pre.Unchecked()
	}
	sev := preflight.Error
	if metric == "preflight_warnings" {
		sev = preflight.Warn
	}
	n := 0
	for _, f := range pre.Findings {
		if f.Severity == sev && (target == "" || f.Target == target) {
			n++
		}
	}
	return float64(n), true, ""
}

// measureProbe counts the target probes' errors or warnings, over every
// probe (target "") or for one target's probe.
func measureProbe(metric, target string, extra Extra) (float64, bool, string) {
	if extra.ProbeNote != "" {
		return 0, false, extra.ProbeNote
	}
	sev := preflight.Error
	if metric == "probe_warnings" {
		sev = preflight.Warn
	}
	n, ran := 0, false
	for _, rec := range extra.Probes {
		if rec.Result == nil || (target != "" && rec.Path != target) {
			continue
		}
		ran = true
		for _, f := range rec.Result.Findings {
			if f.Severity == sev {
				n++
			}
		}
	}
	if !ran {
		return 0, false, "no target probe (probe: block) ran for this"
	}
	return float64(n), true, ""
}

// measureLoginBack is a drill's login watch of one target: inject to the
// first login accepted after a failed one, 0 when no login failed.
func measureLoginBack(d *workload.DrillResult, target string, extra Extra) (float64, bool, string) {
	if d == nil || !d.Injected {
		return 0, false, "drill not injected"
	}
	if extra.LoginWatchNote != "" {
		return 0, false, extra.LoginWatchNote
	}
	for _, w := range extra.LoginWatches {
		if w.Phase != d.Phase || w.Drill != d.Name || w.Target != target {
			continue
		}
		switch {
		case w.Failures == 0:
			return 0, true, ""
		case !w.Recovered:
			return 0, false, "the portal did not answer a login again before the watch ended"
		}
		return w.Back.Seconds(), true, ""
	}
	return 0, false, "no login watch of target " + target + " (it needs a probe: block)"
}

// drillResult finds what the engine measured of one drill; nil when it
// has no record of it (the phase never ran).
func drillResult(res *workload.Result, phase, name string) *workload.DrillResult {
	for i := range res.Drills {
		if d := &res.Drills[i]; d.Phase == phase && d.Name == name {
			return d
		}
	}
	return nil
}

// measureDrill computes a drill metric for one target.
func measureDrill(metric string, d *workload.DrillResult, target string, res *workload.Result) (float64, bool, string) {
	if d == nil || !d.Injected {
		return 0, false, "drill not injected"
	}
	var t *workload.DrillTarget
	for i := range d.Targets {
		if d.Targets[i].Target == target {
			t = &d.Targets[i]
		}
	}
	if t == nil && !scenarios.NeedsVerify(metric) {
		return 0, false, "the drill has no measurements of target " + target
	}
	switch metric {
	case "max_stall":
		if !t.Stalled {
			return 0, true, ""
		}
		return t.Stall.Seconds(), true, ""
	case "resume_within":
		if !t.Resumed {
			return 0, false, "I/O did not resume before the phase ended"
		}
		return t.Resume.Seconds(), true, ""
	case "throughput_after":
		if t.Before <= 0 {
			return 0, false, "no throughput in the 10 s before the inject to compare with"
		}
		return t.AfterRatio, true, ""
	case "errors":
		return float64(t.Errors), true, ""
	case "max_latency":
		if t.MaxLatency <= 0 {
			return 0, false, "no I/O completed in the drill's window"
		}
		return t.MaxLatency.Seconds(), true, ""
	case "lost_writes", "corrupt_blocks", "unreadable_blocks":
		return verifyMetric(metric, drillVerify(d, res.Verify, target))
	}
	return 0, false, metric + " is not measured per drill"
}

// drillVerify returns the verify passes run after a drill on one target
// (the engine names them "drill NAME").
func drillVerify(d *workload.DrillResult, all []verify.Summary, target string) []verify.Summary {
	var out []verify.Summary
	for _, v := range all {
		if v.Phase == d.Phase && v.When == "drill "+d.Name && v.Target == target {
			out = append(out, v)
		}
	}
	return out
}

// verifyClassesOf lists the classes a verify metric counts: lost_writes
// lost and unwritten blocks, corrupt_blocks corrupt, torn and misdirected
// ones, unreadable_blocks those whose read failed.
func verifyClassesOf(metric string) []verify.Class {
	switch metric {
	case "lost_writes":
		return []verify.Class{verify.Lost, verify.Unwritten}
	case "unreadable_blocks":
		return []verify.Class{verify.Unreadable}
	}
	return []verify.Class{verify.Corrupt, verify.Torn, verify.Misdirected}
}

// VerifyCount counts the distinct blocks in classes over verify passes:
// a block found in several passes (a drill's and the phase end's) is one
// block, so the figure never exceeds the blocks there are. Per target it
// is the number of distinct offsets the passes' findings list, or the
// worst single pass when that is more (a pass lists at most its first
// 1000 findings); summed over targets.
func VerifyCount(classes []verify.Class, passes []verify.Summary) uint64 {
	type tally struct {
		worst uint64
		seen  map[int64]bool
	}
	per := map[string]*tally{}
	for i := range passes {
		p := &passes[i]
		t := per[p.Target]
		if t == nil {
			t = &tally{seen: map[int64]bool{}}
			per[p.Target] = t
		}
		var n uint64
		for _, c := range classes {
			n += p.Counts[c.String()]
		}
		t.worst = max(t.worst, n)
		for _, f := range p.Findings {
			if slices.Contains(classes, f.Class) {
				t.seen[f.Offset] = true
			}
		}
	}
	var total uint64
	for _, t := range per {
		total += max(t.worst, uint64(len(t.seen)))
	}
	return total
}

// verifyMetric is lost_writes, corrupt_blocks or unreadable_blocks over
// verify passes; with none, nothing was measured.
func verifyMetric(metric string, passes []verify.Summary) (float64, bool, string) {
	if len(passes) == 0 {
		return 0, false, "no verify pass ran"
	}
	return float64(VerifyCount(verifyClassesOf(metric), passes)), true, ""
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
		if p.Name == phase || (p.Sub != nil && p.Sub.Parent == phase) {
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
// and target; when it was not measured, why may say why.
func measure(metric, phase, target string, res *workload.Result, extra Extra) (v float64, ok bool, why string) {
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
			return 0, false, ""
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
		return sum, true, ""
	case "mean_latency":
		for _, p := range sel {
			sum += p.Lat.Mean.Seconds() * float64(p.Ops)
			ops64 += p.Ops
		}
		if ops64 == 0 {
			return 0, false, ""
		}
		return sum / float64(ops64), true, ""
	case "max_latency":
		var m time.Duration
		for _, p := range sel {
			m = max(m, p.Lat.Max)
		}
		return m.Seconds(), len(sel) > 0 && m > 0, ""
	case "p50", "p90", "p99", "p99.9", "p99.99":
		var q float64
		fmt.Sscanf(base[1:], "%g", &q)
		h := mergeHists(sel)
		if h == nil || h.TotalCount() == 0 {
			return 0, false, ""
		}
		v := time.Duration(h.ValueAtPercentile(q))
		var m time.Duration
		for _, p := range sel {
			m = max(m, p.Lat.Max)
		}
		return min(v, m).Seconds(), true, ""
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
			return float64(n), true, ""
		}
		return worst.Seconds(), true, ""
	case "lost_writes", "corrupt_blocks", "unreadable_blocks":
		var passes []verify.Summary
		for _, v := range res.Verify {
			if (phase == "" || v.Phase == phase) && (target == "" || v.Target == target) {
				passes = append(passes, v)
			}
		}
		return verifyMetric(base, passes)
	}
	if extra.Measured != nil {
		v, ok := extra.Measured(metric, phase, target)
		return v, ok, ""
	}
	return 0, false, ""
}

// mergeHists merges the selected results' histograms, in the first one's
// geometry (one run's histograms all share one).
func mergeHists(sel []workload.PhaseResult) *hdr.Histogram {
	var h *hdr.Histogram
	for _, p := range sel {
		if p.Hist == nil {
			continue
		}
		if h == nil {
			h = workload.NewHistogramLike(p.Hist)
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
