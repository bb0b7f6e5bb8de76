package preflight

import (
	"fmt"
	"strings"

	"lunbench/scenarios"
	"lunbench/workload"
)

// DrillBudget is one drill's predicted failover budget on one target, as
// `lunbench check --scenario` reports it before any drill has run.
type DrillBudget struct {
	Phase  string          `json:"phase"`
	Drill  string          `json:"drill"`
	Target string          `json:"target"`
	Budget workload.Budget `json:"budget"`
}

// TargetCauses are the likely causes a drill's report would list for a
// target reached through an IP if a stall broke max_stall, with the
// values found now (Accounts is not set: there is no stall yet).
type TargetCauses struct {
	Target string           `json:"target"`
	Causes []workload.Cause `json:"likely_causes"`
}

// TargetsCauses lists, for each target of sc reached through an IP, the
// likely causes of a long stall with the host's values.
func TargetsCauses(h Host, sc *scenarios.Scenario) []TargetCauses {
	fo := ReadFailovers(h, sc.Targets)
	var out []TargetCauses
	for _, t := range sc.Targets {
		if cs := fo[t.Name].Causes(0); len(cs) > 0 {
			for i := range cs {
				cs[i].Accounts = false
			}
			out = append(out, TargetCauses{Target: t.Name, Causes: cs})
		}
	}
	return out
}

// DrillBudgets predicts the budget of every drill of sc on every target
// of its phase, from h.
func DrillBudgets(h Host, sc *scenarios.Scenario) []DrillBudget {
	fo := ReadFailovers(h, sc.Targets)
	var out []DrillBudget
	for _, p := range sc.Phases {
		names := p.Targets
		if len(names) == 0 {
			for _, t := range sc.Targets {
				names = append(names, t.Name)
			}
		}
		for _, d := range p.Drills {
			for _, n := range names {
				out = append(out, DrillBudget{Phase: p.Name, Drill: d.Name, Target: n, Budget: fo[n].Predict(d.Failure)})
			}
		}
	}
	return out
}

// writeBudgets adds the drills' budgets to check's text, each with its
// terms and where they were read.
func writeBudgets(b *strings.Builder, bs []DrillBudget) {
	if len(bs) == 0 {
		return
	}
	b.WriteString("\nFailover budget of the scenario's drills (worst-case stall from the live settings):\n")
	for _, d := range bs {
		fmt.Fprintf(b, "\n  %s/%s on %s: ", d.Phase, d.Drill, d.Target)
		bg := d.Budget
		if !bg.Available {
			fmt.Fprintf(b, "not available: %s\n", bg.Reason)
			continue
		}
		pred := secs(bg.Predicted)
		if bg.Unbounded {
			pred = "unbounded"
		}
		fmt.Fprintf(b, "%s for %s failure (from the %s), %s\n", pred, article(bg.Failure), bg.FailureFrom, bg.Session)
		for _, t := range bg.Terms {
			fmt.Fprintf(b, "    + %-40s %7s  %s\n", t.Name, secs(t.Value), t.Source)
		}
		for _, t := range bg.NotAdded {
			fmt.Fprintf(b, "      %-40s %7s  %s; %s\n", t.Name, secs(t.Value), t.Source, t.Why)
		}
		fmt.Fprintf(b, "    then: %s\n", bg.Ends)
	}
}

// writeCauses adds to check's text, per target reached through an IP,
// what a drill's report would blame for a stall above max_stall.
func writeCauses(b *strings.Builder, tcs []TargetCauses) {
	for _, tc := range tcs {
		fmt.Fprintf(b, "\nLikely causes a drill on %s would list for a stall above max_stall, in order, with the values found now:\n", tc.Target)
		for i, c := range tc.Causes {
			bound := ""
			if c.Bound > 0 {
				bound = " (up to " + secs(c.Bound) + ")"
			}
			fmt.Fprintf(b, "  %d. %s%s\n", i+1, c.Title, bound)
			for _, v := range c.Values {
				fmt.Fprintf(b, "       %s = %s  (%s)\n", v.Name, v.Value, v.Source)
			}
		}
	}
}

// article puts "a" or "an" before a failure kind.
func article(kind string) string {
	if strings.HasPrefix(kind, "a") {
		return "an " + kind
	}
	return "a " + kind
}

// BudgetText is a budget in one line: "predicted 20s (noop_out_interval
// 5s + ...), measured 17.7s (89%)", or "not available: why".
func BudgetText(b *workload.Budget) string {
	if b == nil {
		return ""
	}
	if !b.Available {
		return "not available: " + b.Reason
	}
	s := fmt.Sprintf("predicted %s for %s failure (%s)", secs(b.Predicted), article(b.Failure), termsText(b))
	if b.Unbounded {
		s = fmt.Sprintf("predicted unbounded for %s failure (%s)", article(b.Failure), termsText(b))
	}
	s += fmt.Sprintf(", measured %s", secs(b.Measured))
	if b.Ratio > 0 && !b.Unbounded {
		s += fmt.Sprintf(" (%.0f%%)", 100*b.Ratio)
	}
	return s
}

// termsText lists the terms with their values: "noop_out_interval 5 s +
// noop_out_timeout 5 s + replacement_timeout 10 s".
func termsText(b *workload.Budget) string {
	s := ""
	for i, t := range b.Terms {
		if i > 0 {
			s += " + "
		}
		if b.Unbounded && t.Name == "features" {
			s += "queue_if_no_path, no bound"
			continue
		}
		sep := " "
		if strings.Contains(t.Name, " x ") {
			sep = " = "
		}
		s += t.Name + sep + secs(t.Value)
	}
	return s
}
