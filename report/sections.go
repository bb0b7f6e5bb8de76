package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"lunbench/collect/preflight"
	"lunbench/workload"
	"lunbench/workload/verify"
)

// maxFindingsShown bounds the verify findings the documents list per pass;
// run.json keeps up to a thousand.
const maxFindingsShown = 10

// docDrill is one row of the drills table: one drill × target (or one row
// for a drill that was not injected).
type docDrill struct {
	Phase, Drill, Target                string
	At, Inject, Recover                 string
	Detection, Stall, Resume, Errors    string
	Before, Worst, After, PathMove, Ver string
}

// docVerify is one verify pass.
type docVerify struct {
	Phase, When, Target, At, Took, Blocks string
	// Counts are per class, in verify.Class order.
	Counts   []string
	InDoubt  string
	Result   string
	Findings []docFinding
	// FindingsLeft counts findings not listed.
	FindingsLeft int
}

type docFinding struct{ Offset, Class, Detail string }

// docPreflight is the host preflight recorded with the run.
type docPreflight struct {
	// Note replaces the findings when there is no readable preflight.
	Note      string
	Summary   string
	Unchecked string
	Findings  []docPreflightFinding
}

type docPreflightFinding struct{ Severity, Check, Target, Where, Found, Why, Fix string }

// verifyClasses lists the class names in the order documents show them.
func verifyClasses() []string {
	out := make([]string, verify.NumClasses)
	for c := verify.Class(0); c < verify.NumClasses; c++ {
		out[c] = c.String()
	}
	return out
}

// signedLat is Lat for a duration that may be negative (a drill whose I/O
// stopped before its inject command ran).
func signedLat(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + Lat(-d)
	case d == 0:
		return "0s"
	}
	return Lat(d)
}

// commandText says what a drill command did: exit status and time, or that
// it timed out or could not run.
func commandText(c *workload.CommandResult) string {
	switch {
	case c == nil:
		return "-"
	case c.TimedOut:
		return "timed out after " + Lat(c.Dur)
	case c.Err != "":
		return "failed: " + c.Err
	}
	return fmt.Sprintf("exit %d in %s", c.ExitCode, signedLat(c.Dur))
}

// errnoText is "3 (EIO×2, ETIMEDOUT×1)".
func errnoText(n uint64, by map[string]uint64) string {
	if len(by) == 0 {
		return Thousands(float64(n))
	}
	var parts []string
	for e, k := range by {
		parts = append(parts, fmt.Sprintf("%s×%d", e, k))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s (%s)", Thousands(float64(n)), strings.Join(parts, ", "))
}

// verifyText sums up verify passes in a few words: "ok (1,024 blocks)" or
// "2 lost, 1 torn of 1,024 blocks".
func verifyText(passes []verify.Summary) string {
	if len(passes) == 0 {
		return "-"
	}
	var blocks uint64
	counts := map[string]uint64{}
	for _, v := range passes {
		blocks += v.Blocks
		for k, n := range v.Counts {
			counts[k] += n
		}
	}
	var bad []string
	for _, c := range verifyClasses()[1:] {
		if n := counts[c]; n > 0 {
			bad = append(bad, fmt.Sprintf("%s %s", Thousands(float64(n)), c))
		}
	}
	if len(bad) == 0 {
		return fmt.Sprintf("ok (%s blocks)", Thousands(float64(blocks)))
	}
	return fmt.Sprintf("%s of %s blocks", strings.Join(bad, ", "), Thousands(float64(blocks)))
}

// backoffText says how often the workers paused between retries after
// consecutive errors ("" when they never did).
func backoffText(p *workload.PhaseResult) string {
	if p.Backoffs == 0 {
		return ""
	}
	return fmt.Sprintf(" (retries backed off %s times, %s in all)", Thousands(float64(p.Backoffs)), p.BackoffTime.Round(time.Millisecond))
}

// ratioText is the after/before ratio as a share, "-" without a before.
func ratioText(t workload.DrillTarget) string {
	if t.Before <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", t.AfterRatio*100)
}

func pathMoveText(t workload.DrillTarget) string {
	var parts []string
	if m := t.PathMove; m != nil {
		parts = append(parts, fmt.Sprintf("%s → %s after %s", strings.Join(m.From, ","), strings.Join(m.To, ","), signedLat(m.After)))
	}
	if t.DeviceGone > 0 {
		parts = append(parts, "device gone "+Lat(t.DeviceGone))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// drillRows builds the drills table.
func drillRows(r *RunJSON, t0 time.Time) []docDrill {
	var out []docDrill
	for i := range r.Drills {
		d := &r.Drills[i]
		row := docDrill{Phase: d.Phase, Drill: d.Name}
		if !d.Injected {
			row.At, row.Inject = "-", "not injected"
			if d.Manual {
				row.Inject = "not injected (manual drill never marked)"
			}
			out = append(out, row)
			continue
		}
		row.At = clockMs(d.InjectAt.Sub(t0))
		row.Inject = commandText(d.Inject)
		if d.Manual {
			row.Inject = "marked by the operator"
		}
		row.Recover = "-"
		if d.Recover != nil {
			row.Recover = fmt.Sprintf("at +%s: %s", signedLat(d.RecoverAt.Sub(d.InjectAt)), commandText(d.Recover))
		}
		if len(d.Targets) == 0 {
			out = append(out, row)
		}
		for _, t := range d.Targets {
			tr := row
			tr.Target = t.Target
			tr.Detection, tr.Stall, tr.Resume = "-", "no stall", "-"
			if t.Stalled {
				tr.Detection, tr.Stall = signedLat(t.Detection), Lat(t.Stall)
				tr.Resume = "not resumed"
				if t.Resumed {
					tr.Resume = signedLat(t.Resume)
				}
			}
			if t.Note != "" {
				tr.Stall += " (" + t.Note + ")"
			}
			tr.Errors = errnoText(t.Errors, t.Errnos)
			tr.Before, tr.Worst = MiBps(t.Before), MiBps(t.Worst)
			tr.After = fmt.Sprintf("%s (%s)", MiBps(t.After), ratioText(t))
			tr.PathMove = pathMoveText(t)
			tr.Ver = verifyText(drillVerify(d, r.Verify, t.Target))
			out = append(out, tr)
		}
	}
	return out
}

// verifyRows builds the data verification section.
func verifyRows(r *RunJSON, t0 time.Time) []docVerify {
	var out []docVerify
	for i := range r.Verify {
		v := &r.Verify[i]
		dv := docVerify{Phase: v.Phase, When: v.When, Target: v.Target, Blocks: Thousands(float64(v.Blocks)),
			InDoubt: Thousands(float64(v.InDoubt)), Result: verifyText([]verify.Summary{*v}), At: "-", Took: "-"}
		if !v.Start.IsZero() {
			dv.At = clockMs(v.Start.Sub(t0))
			if !v.End.IsZero() {
				dv.Took = signedLat(v.End.Sub(v.Start))
			}
		}
		for _, c := range verifyClasses() {
			dv.Counts = append(dv.Counts, Thousands(float64(v.Counts[c])))
		}
		for j, f := range v.Findings {
			if j == maxFindingsShown {
				dv.FindingsLeft = len(v.Findings) - maxFindingsShown
				break
			}
			dv.Findings = append(dv.Findings, docFinding{Offset: offsetText(f.Offset), Class: f.Class.String(), Detail: f.Detail})
		}
		out = append(out, dv)
	}
	return out
}

// offsetText is a byte offset as a person and a hex dump both read it.
func offsetText(off int64) string {
	return fmt.Sprintf("%s (0x%x)", Thousands(float64(off)), off)
}

// preflightDoc reads run.json's preflight for the documents.
func preflightDoc(r *RunJSON) docPreflight {
	raw, ok := r.Extra[preflightKey]
	if !ok {
		return docPreflight{Note: "No host preflight was recorded with this run."}
	}
	var pre preflight.Report
	if err := json.Unmarshal(raw, &pre); err != nil {
		return docPreflight{Note: "The preflight recorded with this run cannot be read: " + err.Error()}
	}
	out := docPreflight{Summary: pre.Summary.Text, Unchecked: pre.Unchecked()}
	for _, f := range pre.Findings {
		where := f.Where
		if len(f.Others) > 0 {
			where += fmt.Sprintf(" (and %d more: %s)", len(f.Others), strings.Join(f.Others, ", "))
		}
		out.Findings = append(out.Findings, docPreflightFinding{Severity: string(f.Severity), Check: f.Check,
			Target: f.Target, Where: where, Found: f.Found, Why: f.Why, Fix: f.Fix})
	}
	return out
}
