package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// docMethod is one line of the overview of the workload features and
// acceptance methods a run had (a block-size mix, a sweep, a curve, steady
// state): what it was, where the document shows it, and, for a curve, the
// figure signed off.
type docMethod struct{ Method, Detail string }

// methodRows lists the run's workload features and acceptance methods, in
// the order of the sections that show them.
func methodRows(r *RunJSON) []docMethod {
	var out []docMethod
	var mixed []string
	for _, p := range r.Phases {
		if len(p.Sizes) > 0 && !slices.Contains(mixed, p.Phase) {
			mixed = append(mixed, p.Phase)
		}
	}
	if len(mixed) > 0 {
		out = append(out, docMethod{"block-size mix", strings.Join(mixed, ", ") + ": IOPS per size under Block-size mix"})
	}
	sweeps := subGroups(r, false)
	for _, parent := range parents(sweeps) {
		var key string
		var labels []string
		for _, g := range sweeps {
			if g.parent == parent && len(labels) == 0 {
				key = g.key
				for _, pt := range g.points {
					labels = append(labels, pt.label)
				}
			}
		}
		out = append(out, docMethod{"sweep", fmt.Sprintf("%s over %s (%s): table under Sweeps, chart sweep_%s.png",
			parent, key, strings.Join(labels, ", "), hlogSafe(parent))})
	}
	curves := subGroups(r, true)
	for _, parent := range parents(curves) {
		out = append(out, docMethod{"latency-vs-load curve", fmt.Sprintf("%s: %s; table under Latency against load, chart curve_%s.png",
			parent, signedOff(r, parent), hlogSafe(parent))})
	}
	for _, s := range r.Steady {
		res := fmt.Sprintf("steady after %d rounds of %gs", len(s.Rounds), s.RoundSec)
		if !s.Steady {
			res = fmt.Sprintf("NOT steady: %d rounds of %gs to its timeout", len(s.Rounds), s.RoundSec)
		}
		out = append(out, docMethod{"steady state", fmt.Sprintf("%s: %s; under Steady state, chart steady_%s.png",
			s.Phase, res, hlogSafe(s.Phase))})
	}
	return out
}

// signedOff says what figure a curve signs off: each of its iops_at_p99
// criteria with the value measured and the result, or that it has none.
func signedOff(r *RunJSON, curve string) string {
	var parts []string
	for _, c := range r.Criteria {
		if c.Metric != "iops_at_p99" || c.Phase != curve {
			continue
		}
		res := criterionResult(c)
		on := ""
		if c.Target != "" {
			on = " on " + c.Target
		}
		parts = append(parts, fmt.Sprintf("signed-off figure %s IOPS%s (%s: %s)", c.MeasuredText, on, criterionText(c), res))
	}
	if len(parts) == 0 {
		return "no iops_at_p99 criterion, so no figure signed off"
	}
	return strings.Join(parts, "; ")
}

// markdownMethods writes the overview, when the run had any of them.
func (o *doc) markdownMethods(b *strings.Builder) {
	if len(o.Methods) == 0 {
		return
	}
	b.WriteString("## Workload and acceptance methods\n\nWhat this run had beyond fixed-size phases, and where it is shown.\n\n")
	var rows [][]string
	for _, m := range o.Methods {
		rows = append(rows, []string{m.Method, m.Detail})
	}
	mdTable(b, []string{"method", "in this run"}, rows)
}

// printMethods writes the overview to the console summary.
func printMethods(w io.Writer, r *RunJSON) {
	ms := methodRows(r)
	if len(ms) == 0 {
		return
	}
	tw := block(w, "workload and acceptance methods")
	for _, m := range ms {
		fmt.Fprintf(tw, "  %s\t%s\n", m.Method, m.Detail)
	}
	tw.Flush()
}

// docSweep is one value of a sweep for one target × op, for the documents.
type docSweep struct{ Sweep, Key, Target, Op, Value, IOPS, MiBs, P50, P99, P999 string }

// sweepRows lists every sub-phase of the run's sweeps.
func sweepRows(r *RunJSON) []docSweep {
	var out []docSweep
	for _, g := range subGroups(r, false) {
		for _, pt := range g.points {
			out = append(out, docSweep{Sweep: g.parent, Key: g.key, Target: g.target, Op: g.op.String(), Value: pt.label,
				IOPS: Thousands(pt.iops), MiBs: fmt.Sprintf("%.1f", pt.mibs),
				P50: Lat(pt.lat.P50), P99: Lat(pt.lat.P99), P999: Lat(pt.lat.P999)})
		}
	}
	return out
}

// markdownSweeps writes the sweeps section, when the run had one.
func (o *doc) markdownSweeps(b *strings.Builder) {
	if len(o.Sweeps) == 0 {
		return
	}
	b.WriteString("## Sweeps\n\nOne row per swept value, in the order run (each a phase of its own, ramp excluded).\n\n")
	var rows [][]string
	for _, s := range o.Sweeps {
		rows = append(rows, []string{s.Sweep, s.Key, s.Value, s.Target, s.Op, s.IOPS, s.MiBs, s.P50, s.P99, s.P999})
	}
	mdTable(b, []string{"sweep", "key", "value", "target", "op", "IOPS", "MiB/s", "p50", "p99", "p99.9"}, rows)
}

// criterionResult is a criterion's result as the documents write it.
func criterionResult(c CriterionResult) string {
	switch {
	case c.NotEvaluated:
		return notEvaluated
	case !c.Pass:
		return "FAIL"
	}
	return "PASS"
}
