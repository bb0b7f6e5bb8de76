package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"lunbench/collect/preflight"
	"lunbench/scenarios"
	"lunbench/workload"
)

// AddBudgets sets, for each injected drill × target of run, the failover
// budget the host's settings predict (from fo, read before the run's
// first I/O, by target name) beside the measured stall, and, when that
// stall breaks the scenario's max_stall and the target is reached through
// an IP, the likely causes. A target missing from fo gets a budget that
// says why nothing was predicted.
func AddBudgets(run *RunJSON, sc *scenarios.Scenario, fo map[string]preflight.Failover) {
	for i := range run.Drills {
		dr := &run.Drills[i]
		if !dr.Injected {
			continue
		}
		d := findDrill(sc, dr.Phase, dr.Name)
		for j := range dr.Targets {
			dt := &dr.Targets[j]
			f, ok := fo[dt.Target]
			if !ok {
				f = preflight.Failover{Target: dt.Target, Reason: "the host's settings were not read for this target"}
			}
			b := f.Predict(d.Failure)
			preflight.Judge(&b, dt.Stall)
			dt.Budget = &b
			if rule, ok := maxStallRule(sc, d, dr.Phase, dt.Target); ok && dt.Stalled &&
				!rule.Cmp.Holds(dt.Stall.Seconds(), rule.Threshold) {
				dt.Causes = f.Causes(dt.Stall)
			}
		}
	}
}

// findDrill returns the scenario's drill, or an empty one when the
// scenario no longer has it (a report rebuilt from an edited scenario).
func findDrill(sc *scenarios.Scenario, phase, name string) scenarios.Drill {
	if sc != nil {
		for _, p := range sc.Phases {
			if p.Name != phase {
				continue
			}
			for _, d := range p.Drills {
				if d.Name == name {
					return d
				}
			}
		}
	}
	return scenarios.Drill{Name: name}
}

// maxStallRule is the max_stall rule a drill's stall on target answers
// to: the drill's own expect:, else the strictest of the phase's, the
// target's and the run's criteria.
func maxStallRule(sc *scenarios.Scenario, d scenarios.Drill, phase, target string) (scenarios.Criterion, bool) {
	for _, c := range d.Expect {
		if c.Metric == "max_stall" && (c.Target == "" || c.Target == target) {
			return c, true
		}
	}
	var best scenarios.Criterion
	found := false
	if sc == nil {
		return best, false
	}
	for _, c := range sc.Criteria {
		if c.Metric != "max_stall" || c.Drill != "" || c.Phase != "" && c.Phase != phase || c.Target != "" && c.Target != target {
			continue
		}
		if !found || c.Threshold < best.Threshold {
			best, found = c, true
		}
	}
	return best, found
}

// docBudget is one drill × target's budget row in the report.
type docBudget struct {
	Phase, Drill, Target, Failure, Predicted, Measured, Ratio, Note string
	// Terms are "name value (source)", one per term; NotAdded the same
	// for settings read but not added.
	Terms, NotAdded []string
	Ends            string
	Finding         bool
}

// docCauses are the likely causes of one drill × target's long stall.
type docCauses struct {
	Heading string
	Causes  []docCause
}

type docCause struct {
	Title, Bound, Explain string
	Values                []string
}

// budgetRows builds the report's failover budget table and likely causes.
func budgetRows(r *RunJSON) ([]docBudget, []docCauses) {
	var rows []docBudget
	var causes []docCauses
	for _, d := range r.Drills {
		for _, t := range d.Targets {
			if b := t.Budget; b != nil {
				rows = append(rows, budgetRow(d, t, b))
			}
			if len(t.Causes) > 0 {
				causes = append(causes, causesDoc(d, t))
			}
		}
	}
	return rows, causes
}

func budgetRow(d workload.DrillResult, t workload.DrillTarget, b *workload.Budget) docBudget {
	row := docBudget{Phase: d.Phase, Drill: d.Name, Target: t.Target, Failure: b.Failure + " (" + b.FailureFrom + ")",
		Measured: secondsText(b.Measured), Predicted: "-", Ratio: "-", Ends: b.Ends}
	switch {
	case !b.Available:
		row.Note = "not available: " + b.Reason
	case b.Unbounded:
		row.Predicted = "unbounded"
	default:
		row.Predicted = secondsText(b.Predicted) + " (tolerance +" + secondsText(b.Tolerance) + ")"
		row.Ratio = fmt.Sprintf("%.0f%%", 100*b.Ratio)
	}
	if b.Finding != "" {
		row.Note, row.Finding = b.Finding, true
	}
	for _, tm := range b.Terms {
		row.Terms = append(row.Terms, fmt.Sprintf("%s %s (%s)", tm.Name, secondsText(tm.Value), tm.Source))
	}
	for _, tm := range b.NotAdded {
		row.NotAdded = append(row.NotAdded, fmt.Sprintf("%s %s (%s): %s", tm.Name, secondsText(tm.Value), tm.Source, tm.Why))
	}
	return row
}

func causesDoc(d workload.DrillResult, t workload.DrillTarget) docCauses {
	out := docCauses{Heading: fmt.Sprintf("%s / %s on %s: stall %s", d.Phase, d.Name, t.Target, secondsText(t.Stall))}
	for _, c := range t.Causes {
		dc := docCause{Title: c.Title, Explain: c.Explain}
		if c.Bound > 0 {
			dc.Bound = "up to " + secondsText(c.Bound)
		}
		if c.Accounts {
			dc.Bound += ": can account for the whole stall"
		}
		for _, v := range c.Values {
			dc.Values = append(dc.Values, fmt.Sprintf("%s = %s (%s)", v.Name, v.Value, v.Source))
		}
		out.Causes = append(out.Causes, dc)
	}
	return out
}

// budgetWarnings are the findings the verdict section shows: each drill ×
// target whose stall ran far above its budget.
func budgetWarnings(r *RunJSON) []string {
	var out []string
	for _, d := range r.Drills {
		for _, t := range d.Targets {
			if t.Budget != nil && t.Budget.Finding != "" {
				out = append(out, fmt.Sprintf("drill %s / %s on %s: %s", d.Phase, d.Name, t.Target, t.Budget.Finding))
			}
		}
	}
	return out
}

// budgetIntro explains the failover budget table.
const budgetIntro = "The worst-case stall the host's live iSCSI and multipath settings predict for each drill's failure, " +
	"read before the run, beside the measured stall. A measured stall above predicted + tolerance (2 s + 20%) is a finding."

// causesIntro heads the likely causes.
const causesIntro = "The stall broke the scenario's max_stall on a target reached through an IP. Likely causes, in order, " +
	"with the values found on the host:"

func (o *doc) markdownBudgets(b *strings.Builder) {
	if len(o.Budgets) > 0 {
		b.WriteString("### Failover budget: predicted against measured\n\n" + budgetIntro + "\n\n")
		var rows [][]string
		for _, r := range o.Budgets {
			note := r.Note
			if r.Finding {
				note = "⚠ " + note
			}
			rows = append(rows, []string{r.Phase, r.Drill, r.Target, r.Failure, r.Predicted, r.Measured, r.Ratio,
				strings.Join(r.Terms, " + "), strings.Join(r.NotAdded, "; "), r.Ends, note})
		}
		mdTable(b, []string{"phase", "drill", "target", "failure", "predicted", "measured", "measured / predicted",
			"terms", "read, not added", "then", "note"}, rows)
	}
	for _, c := range o.Causes {
		fmt.Fprintf(b, "### Likely causes: %s\n\n%s\n\n", mdCell(c.Heading), causesIntro)
		for i, cs := range c.Causes {
			bound := ""
			if cs.Bound != "" {
				bound = " (" + cs.Bound + ")"
			}
			fmt.Fprintf(b, "%d. **%s**%s: %s.\n", i+1, mdCell(cs.Title), bound, mdCell(cs.Explain))
			for _, v := range cs.Values {
				fmt.Fprintf(b, "   - %s\n", mdCell(v))
			}
		}
		b.WriteString("\n")
	}
}

// printBudgets writes the failover budget of each drill × target under
// the drills, its findings, and the likely causes of a long stall.
func printBudgets(w io.Writer, r *RunJSON) {
	var lines []string
	for _, d := range r.Drills {
		for _, t := range d.Targets {
			if t.Budget == nil {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %s/%s  %s  %s", d.Phase, d.Name, t.Target, preflight.BudgetText(t.Budget)))
			if t.Budget.Finding != "" {
				lines = append(lines, "  ! "+t.Budget.Finding)
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nfailover budget:\n%s\n", strings.Join(lines, "\n"))
	}
	for _, d := range r.Drills {
		for _, t := range d.Targets {
			if len(t.Causes) == 0 {
				continue
			}
			fmt.Fprintf(w, "\nlikely causes of the %s stall on %s in %s/%s (above max_stall), in order:\n", secondsText(t.Stall), t.Target, d.Phase, d.Name)
			for i, c := range t.Causes {
				bound := ""
				if c.Bound > 0 {
					bound = ", up to " + secondsText(c.Bound)
				}
				if c.Accounts {
					bound += ", can account for the whole stall"
				}
				var vals []string
				for _, v := range c.Values {
					vals = append(vals, v.Name+" = "+v.Value)
				}
				fmt.Fprintf(w, "  %d. %s%s: %s\n", i+1, c.Title, bound, strings.Join(vals, ", "))
			}
		}
	}
}

// secondsText is a duration as the budget shows it: as Lat does, and 0
// as "0s" (no stall is a measurement, not a missing one).
func secondsText(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return Lat(d)
}
