package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"lunbench/workload"
	"lunbench/workload/verify"
)

var _ workload.Sink = (*Progress)(nil)

// Progress prints one line per interval in line mode: the phase, elapsed of
// total, and per op the IOPS, throughput and p99 summed over targets.
type Progress struct {
	W io.Writer
}

// Add prints the snapshot's completed intervals as one line.
func (p *Progress) Add(s *workload.Snapshot) {
	if len(s.Intervals) == 0 {
		return
	}
	type agg struct {
		ops, bytes, errs uint64
		p99, max         time.Duration
		secs             float64
	}
	var per [workload.NumOps]*agg
	for _, iv := range s.Intervals {
		a := per[iv.Op]
		if a == nil {
			a = &agg{}
			per[iv.Op] = a
		}
		a.ops += iv.Ops
		a.bytes += iv.Bytes
		a.errs += iv.Errors
		a.p99 = max(a.p99, iv.Lat.P99)
		a.max = max(a.max, iv.Lat.Max)
		a.secs = max(a.secs, iv.End.Sub(iv.Start).Seconds())
	}
	var b strings.Builder
	total := "?"
	if s.PhaseLength > 0 {
		total = Clock(s.PhaseLength)
	}
	fmt.Fprintf(&b, "[%d/%d %s] %s/%s", s.PhaseIndex+1, s.PhaseCount, s.Phase, Clock(s.PhaseElapsed), total)
	if s.Ramp {
		b.WriteString(" (ramp)")
	}
	for op, a := range per {
		if a == nil || a.secs <= 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s %s IOPS %s p99 %s", workload.Op(op), Thousands(float64(a.ops)/a.secs),
			MiBps(float64(a.bytes)/a.secs), Lat(a.p99))
		if a.errs > 0 {
			fmt.Fprintf(&b, " errors %d", a.errs)
		}
	}
	for _, st := range s.Stalls {
		fmt.Fprintf(&b, "  STALL %s %s (%d in flight)", st.Target, Lat(st.For), st.InFlight)
	}
	fmt.Fprintln(p.W, b.String())
}

// PrintSummary writes the final table: per phase × target × op, then the
// criteria and the verdict.
func PrintSummary(w io.Writer, r *RunJSON) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttarget\top\tIOPS\tMiB/s\tmean\tp50\tp99\tp99.9\tmax\terrors\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t\n", p.Phase, p.Target, p.Op,
			Thousands(p.IOPS), p.MBps, Lat(p.Lat.Mean), Lat(p.Lat.P50), Lat(p.Lat.P99), Lat(p.Lat.P999),
			Lat(p.Lat.Max), p.Errors)
	}
	tw.Flush()
	for _, p := range r.Phases {
		if len(p.Errnos) == 0 {
			continue
		}
		var parts []string
		for e, n := range p.Errnos {
			parts = append(parts, fmt.Sprintf("%s×%d", e, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "errors in %s on %s (%s): %s%s\n", p.Phase, p.Target, p.Op, strings.Join(parts, ", "), backoffText(&p))
	}
	printDrills(w, r)
	printBudgets(w, r)
	printVerify(w, r)
	if len(r.Criteria) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "criterion\tphase\ttarget\tmeasured\tresult")
		for _, c := range r.Criteria {
			res := "PASS"
			switch {
			case !c.Pass:
				res = "FAIL"
			case r.Status != "" && r.Status != "finished":
				// A pass on part of the run vouches for nothing.
				res = notEvaluated
				c.Note = "the run did not finish"
			}
			if c.Note != "" {
				res += " (" + c.Note + ")"
			}
			ph := c.Phase
			if ph == "" {
				ph = "(run)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", criterionText(c), ph, c.Target, c.MeasuredText, res)
		}
		tw.Flush()
	}
	for _, wn := range Warnings(r) {
		fmt.Fprintf(w, "\nwarning: %s", wn)
	}
	fmt.Fprintf(w, "\nverdict: %s\n", strings.ToUpper(string(r.Verdict)))
}

// Warnings are what a reader of the figures must know before trusting
// them: a target in RAM measures memory, not storage, and a drill stalled
// far beyond its failover budget.
func Warnings(r *RunJSON) []string {
	var out []string
	for _, t := range r.Targets {
		if t.RAMBacked != "" {
			out = append(out, fmt.Sprintf("target %q is RAM-backed (%s): its figures measure memory, not storage", t.Name, t.RAMBacked))
		}
	}
	return append(out, budgetWarnings(r)...)
}

// block starts a titled block of the summary and returns the tabwriter
// its lines go through.
func block(w io.Writer, title string) *tabwriter.Writer {
	fmt.Fprintf(w, "\n%s:\n", title)
	return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
}

// printDrills writes one line per drill × target: stall, resume, errors
// and throughput before → after.
func printDrills(w io.Writer, r *RunJSON) {
	if len(r.Drills) == 0 {
		return
	}
	tw := block(w, "drills")
	for _, d := range r.Drills {
		name := d.Phase + "/" + d.Name
		if !d.Injected {
			fmt.Fprintf(tw, "  %s\t\tnot injected\n", name)
			continue
		}
		for _, t := range d.Targets {
			stall, resume := "no stall", ""
			if t.Stalled {
				stall, resume = "stall "+Lat(t.Stall), "resumed after "+signedLat(t.Resume)
				if !t.Resumed {
					resume = "not resumed"
				}
			}
			if t.Note != "" {
				stall += " (" + t.Note + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\terrors %s\t%s → %s (%s)\n", name, t.Target, stall, resume,
				errnoText(t.Errors, t.Errnos), MiBps(t.Before), MiBps(t.After), ratioText(t))
		}
	}
	tw.Flush()
}

// printVerify writes one line per verify pass with its counts.
func printVerify(w io.Writer, r *RunJSON) {
	if len(r.Verify) == 0 {
		return
	}
	tw := block(w, "verify")
	for _, v := range r.Verify {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", phaseOrRun(v.Phase), v.When, v.Target, verifyText([]verify.Summary{v}))
	}
	tw.Flush()
}
