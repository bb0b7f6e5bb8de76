package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

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
// criteria and the verdict, for a wide (unlimited) output.
func PrintSummary(w io.Writer, r *RunJSON) { PrintSummaryWidth(w, r, 0) }

// PrintSummaryWidth is PrintSummary fitted to a terminal of width columns
// (0: no limit): when the phase table is wider, it drops the columns a
// reader can best spare (mean, then p50, then p99.9) and says so, rather
// than let every line wrap.
func PrintSummaryWidth(w io.Writer, r *RunJSON, width int) {
	t := &textTable{head: []string{"phase", "target", "op", "IOPS", "MiB/s", "mean", "p50", "p99", "p99.9", "max", "errors"}, left: 3}
	for _, p := range r.Phases {
		t.rows = append(t.rows, []string{p.Phase, p.Target, p.Op.String(), Thousands(p.IOPS), fmt.Sprintf("%.1f", p.MBps),
			Lat(p.Lat.Mean), Lat(p.Lat.P50), Lat(p.Lat.P99), Lat(p.Lat.P999), Lat(p.Lat.Max), fmt.Sprint(p.Errors)})
	}
	if dropped := t.fit(width, "mean", "p50", "p99.9"); len(dropped) > 0 {
		t.write(w)
		fmt.Fprintf(w, "(%s left out to fit %d columns: see report.md)\n", strings.Join(dropped, ", "), width)
	} else {
		t.write(w)
	}
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
	printMethods(w, r)
	printDrills(w, r)
	printBudgets(w, r)
	printVerify(w, r)
	if len(r.Criteria) > 0 {
		fmt.Fprintln(w)
		t := &textTable{head: []string{"criterion", "phase", "target", "measured", "result"}, left: 5}
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
			t.rows = append(t.rows, []string{criterionText(c), ph, c.Target, c.MeasuredText, res})
		}
		t.fit(width)
		t.write(w)
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

// textTable is a console table: the first left columns left-aligned (names
// read best so), the rest right-aligned (numbers), two spaces apart.
type textTable struct {
	head []string
	rows [][]string
	left int
}

func (t *textTable) widths() []int {
	ws := make([]int, len(t.head))
	for i, h := range t.head {
		ws[i] = utf8.RuneCountInString(h)
		for _, r := range t.rows {
			ws[i] = max(ws[i], utf8.RuneCountInString(r[i]))
		}
	}
	return ws
}

// width is the table's line length.
func (t *textTable) width() int {
	n := 0
	for _, w := range t.widths() {
		n += w + 2
	}
	return n - 2
}

// fit makes the table at most width columns wide (0: no limit): it drops
// the columns named in spare, in that order, while it is too wide, then
// shortens the widest name column (phase names can be long) with …, down
// to 8. It returns the columns dropped.
func (t *textTable) fit(width int, spare ...string) (dropped []string) {
	for _, col := range spare {
		if width <= 0 || t.width() <= width {
			return dropped
		}
		t.drop(col)
		dropped = append(dropped, col)
	}
	for width > 0 && t.width() > width {
		ws := t.widths()
		i := 0
		for j := 1; j < t.left && j < len(ws); j++ {
			if ws[j] > ws[i] {
				i = j
			}
		}
		n := max(8, ws[i]-(t.width()-width))
		if n >= ws[i] {
			return dropped
		}
		before := t.width()
		for _, r := range t.rows {
			if rs := []rune(r[i]); len(rs) > n {
				r[i] = string(rs[:n-1]) + "…"
			}
		}
		if t.width() >= before { // the header is what is wide: leave it
			return dropped
		}
	}
	return dropped
}

// drop removes the column named col.
func (t *textTable) drop(col string) {
	i := slices.Index(t.head, col)
	if i < 0 {
		return
	}
	t.head = slices.Delete(t.head, i, i+1)
	for j := range t.rows {
		t.rows[j] = slices.Delete(t.rows[j], i, i+1)
	}
}

func (t *textTable) write(w io.Writer) {
	ws := t.widths()
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", ws[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < t.left {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}
