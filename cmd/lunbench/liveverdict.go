package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"lunbench/report"
	"lunbench/report/live"
	"lunbench/scenarios"
	"lunbench/workload"
)

var _ workload.Sink = (*liveVerdict)(nil)

// liveVerdict evaluates, while the run goes, the criteria that can be
// known broken before the end: those on a figure that only grows as the
// run goes on (errors, max_latency, stalls, max_stall, with their read_
// and write_ forms) compared with <=, < or ==. Once such a figure passes
// its threshold no later I/O can mend it, so the dashboard shows the rule
// red at once. Rules on rates and percentiles, and >= rules, wait for the
// end (report.Evaluate).
//
// It is a Sink on the aggregator's goroutine: a few map updates per
// snapshot, and set is called only when the text changes.
type liveVerdict struct {
	crits []scenarios.Criterion
	set   func(text string, failed bool)

	// Per phase × target × op, from the completed intervals (ramp left
	// out, as the phase results leave it out).
	errors map[liveKey]uint64
	maxLat map[liveKey]time.Duration
	// Per phase × target, from the stalls going on: each stall (known by
	// its start) counted once, at its longest so far.
	stalls map[liveKey]map[time.Time]time.Duration
	last   string
}

// liveKey is a phase × target × op; op is ignored for stalls.
type liveKey struct {
	phase, target string
	op            workload.Op
}

// newLiveVerdict returns nil when the scenario has no rule that can break
// early: nothing to show.
func newLiveVerdict(sc *scenarios.Scenario, set func(text string, failed bool)) *liveVerdict {
	v := &liveVerdict{set: set, errors: map[liveKey]uint64{}, maxLat: map[liveKey]time.Duration{},
		stalls: map[liveKey]map[time.Time]time.Duration{}}
	for _, c := range sc.Criteria {
		if monotonic(c) {
			v.crits = append(v.crits, c)
		}
	}
	if len(v.crits) == 0 {
		return nil
	}
	v.publish()
	return v
}

// liveVerdictSinks returns the live verdict for the dashboard as sinks to
// add to a run: none when no rule can break early.
func liveVerdictSinks(sc *scenarios.Scenario, dash *live.Dashboard) []workload.Sink {
	if v := newLiveVerdict(sc, dash.SetVerdict); v != nil {
		return []workload.Sink{v}
	}
	return nil
}

// lineVerdict is the live verdict in line mode: a line on w each time the
// set of broken rules changes (the progress lines go to w from the same
// goroutine, so the two never interleave).
func lineVerdict(w io.Writer) func(text string, failed bool) {
	last := ""
	return func(text string, failed bool) {
		if failed && text != last {
			fmt.Fprintf(w, "  ! %s\n", text)
		}
		last = text
	}
}

// monotonic reports whether a rule can be found broken mid-run.
func monotonic(c scenarios.Criterion) bool {
	switch c.Cmp {
	case scenarios.LE, scenarios.LT, scenarios.EQ:
	default:
		return false
	}
	switch strings.TrimPrefix(strings.TrimPrefix(c.Metric, "read_"), "write_") {
	case "errors", "max_latency":
		return true
	}
	return c.Metric == "stalls" || c.Metric == "max_stall"
}

// Add folds the snapshot's completed intervals and ongoing stalls in.
func (v *liveVerdict) Add(s *workload.Snapshot) {
	for _, iv := range s.Intervals {
		if iv.Ramp {
			continue
		}
		k := liveKey{iv.Phase, iv.Target, iv.Op}
		v.errors[k] += iv.Errors
		v.maxLat[k] = max(v.maxLat[k], iv.Lat.Max)
	}
	for _, st := range s.Stalls {
		k := liveKey{phase: s.Phase, target: st.Target}
		m := v.stalls[k]
		if m == nil {
			m = map[time.Time]time.Duration{}
			v.stalls[k] = m
		}
		m[st.Since] = max(m[st.Since], st.For)
	}
	if len(s.Intervals) > 0 || len(s.Stalls) > 0 {
		v.publish()
	}
}

// measure is the figure of metric over one phase ("" = all) and target
// ("" = all), and whether anything was seen for it yet.
func (v *liveVerdict) measure(metric, phase, target string) (float64, bool) {
	match := func(k liveKey) bool {
		return (phase == "" || k.phase == phase) && (target == "" || k.target == target)
	}
	ops := func(k liveKey) bool {
		return !strings.HasPrefix(metric, "read_") && !strings.HasPrefix(metric, "write_") ||
			strings.HasPrefix(metric, k.op.String()+"_")
	}
	var sum float64
	var seen bool
	switch strings.TrimPrefix(strings.TrimPrefix(metric, "read_"), "write_") {
	case "errors":
		for k, n := range v.errors {
			if match(k) && ops(k) {
				sum, seen = sum+float64(n), true
			}
		}
	case "max_latency":
		for k, d := range v.maxLat {
			if match(k) && ops(k) {
				sum, seen = max(sum, d.Seconds()), true
			}
		}
	case "stalls", "max_stall":
		for k, m := range v.stalls {
			if !match(k) {
				continue
			}
			for _, d := range m {
				if metric == "stalls" {
					sum++
				} else {
					sum = max(sum, d.Seconds())
				}
			}
		}
		seen = true // no stall yet is a measured zero
	}
	return sum, seen
}

// broken lists the rules broken so far, each as "rule (measured …)".
func (v *liveVerdict) broken() []string {
	var out []string
	for _, c := range v.crits {
		unit, _ := scenarios.MetricUnit(c.Metric)
		// A rule for every target is checked target by target, as
		// report.Evaluate checks it: a total over targets could break
		// a per-target count that no single target breaks.
		targets := []string{c.Target}
		if c.Target == "" {
			targets = v.targets()
		}
		for _, tg := range targets {
			if got, ok := v.measure(c.Metric, c.Phase, tg); ok && !c.Cmp.Holds(got, c.Threshold) {
				out = append(out, fmt.Sprintf("%s (%s on %s)", c.Text, report.FormatMetric(unit, got), tg))
				break
			}
		}
	}
	return out
}

// targets lists the targets seen so far.
func (v *liveVerdict) targets() []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for k := range v.errors {
		add(k.target)
	}
	for k := range v.stalls {
		add(k.target)
	}
	slices.Sort(out) // a stable text: the first broken target by name
	return out
}

// publish hands the verdict so far to the dashboard when it changed.
func (v *liveVerdict) publish() {
	b := v.broken()
	text := fmt.Sprintf("no rule broken yet (%d checked live)", len(v.crits)) // fits 80 columns
	if len(b) > 0 {
		text = "FAIL " + b[0]
		if len(b) > 1 {
			text += fmt.Sprintf(" +%d more", len(b)-1)
		}
	}
	if text != v.last {
		v.last = text
		v.set(text, len(b) > 0)
	}
}
