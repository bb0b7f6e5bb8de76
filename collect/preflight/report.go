package preflight

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Severity says how much a finding matters. Errors make `lunbench check`
// exit 1; warnings and info do not.
type Severity string

// The severities, most serious first.
const (
	Error Severity = "error"
	Warn  Severity = "warn"
	Info  Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warn:
		return 1
	}
	return 2
}

// Finding is one thing check noticed: what, where, why it matters, and how to
// fix it. Found and Where never carry a secret (CHAP passwords are redacted
// when parsed and never read from sysfs).
type Finding struct {
	Severity Severity `json:"severity"`
	// Check names the rule, e.g. "iscsi.replacement_timeout" (see the
	// table in the package documentation).
	Check string `json:"check"`
	// Target is the expectation key or multipath map the finding concerns,
	// "" when it concerns the host as a whole. Scenarios use it to make a
	// finding a criterion of one target.
	Target string `json:"target,omitempty"`
	// Where is a file:line or a sysfs/procfs path, as seen from the root.
	Where string `json:"where"`
	// Others holds further places where the very same finding was made
	// (the same setting in several node records, say).
	Others []string `json:"others,omitempty"`
	Found  string   `json:"found"`
	Why    string   `json:"why"`
	Fix    string   `json:"fix"`
}

// CheckNoInitiator is the check of the one finding made on a host with no
// iSCSI initiator and no multipath at all, where nothing else can be checked.
const CheckNoInitiator = "host.no-iscsi"

// Unchecked returns why the host's iSCSI and multipath set-up could not be
// checked, or "" when it could: a clean report from a host with no
// initiator proves nothing about a SAN.
func (r Report) Unchecked() string {
	for _, f := range r.Findings {
		if f.Check == CheckNoInitiator {
			return "no iSCSI initiator or dm-multipath on this host"
		}
	}
	return ""
}

// Source is one place check looked at, and what it found there.
type Source struct {
	What  string `json:"what"`
	Where string `json:"where"`
	Found bool   `json:"found"`
	Note  string `json:"note,omitempty"`
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Infos    int    `json:"infos"`
	Text     string `json:"text"`
}

func (s Summary) String() string { return s.Text }

// Report is the result of a preflight check. It marshals to JSON as is
// (`lunbench check --json`, and run.json's preflight block).
type Report struct {
	Root     string    `json:"root"`
	Time     time.Time `json:"time"`
	Checked  []Source  `json:"checked"`
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	// Budgets are the drills' predicted failover budgets per target, when
	// check is given a scenario (see DrillBudgets).
	Budgets []DrillBudget `json:"budgets,omitempty"`
	// Causes are, per target reached through an IP, the likely causes a
	// drill's report would list for a stall above max_stall.
	Causes []TargetCauses `json:"likely_causes,omitempty"`
}

// ExitCode is what `lunbench check` exits with: 1 when any finding is an
// error, else 0. (2, for usage errors, is the command's business.)
func (r Report) ExitCode() int {
	if r.Count(Error) > 0 {
		return 1
	}
	return 0
}

// Count returns the number of findings of one severity.
func (r Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// ForTarget returns the findings about one expectation key, for scenario
// criteria.
func (r Report) ForTarget(target string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Target == target {
			out = append(out, f)
		}
	}
	return out
}

// finish merges identical findings made at several places, sorts them
// (errors first, then by check and place) and fills in the summary.
func (r *Report) finish() {
	r.Finish("the host is not set up the way the drills assume")
}

// Finish merges identical findings made at several places, sorts them
// (errors first, then by check and place) and fills in the summary, whose
// text ends with failNote when there are errors. Other commands that report
// findings the way check does (probe) build a Report and call it.
func (r *Report) Finish(failNote string) {
	type key struct{ sev, check, target, found, why, fix string }
	idx := map[key]int{}
	var merged []Finding
	for _, f := range r.Findings {
		k := key{string(f.Severity), f.Check, f.Target, f.Found, f.Why, f.Fix}
		if i, ok := idx[k]; ok {
			m := &merged[i]
			if f.Where != m.Where && !contains(m.Others, f.Where) {
				m.Others = append(m.Others, f.Where)
			}
			for _, o := range f.Others {
				if o != m.Where && !contains(m.Others, o) {
					m.Others = append(m.Others, o)
				}
			}
			continue
		}
		idx[k] = len(merged)
		merged = append(merged, f)
	}
	sort.SliceStable(merged, func(i, j int) bool {
		a, b := merged[i], merged[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() < b.Severity.rank()
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return lessWhere(a.Where, b.Where)
	})
	r.Findings = merged
	s := Summary{Errors: r.Count(Error), Warnings: r.Count(Warn), Infos: r.Count(Info)}
	s.Text = fmt.Sprintf("%s, %s, %d info", plural(s.Errors, "error"), plural(s.Warnings, "warning"), s.Infos)
	if s.Errors > 0 {
		s.Text += ": " + failNote + " (exit 1)"
	} else {
		s.Text += " (exit 0)"
	}
	r.Summary = s
}

// lessWhere orders "file:line" places by file, then by line number.
func lessWhere(a, b string) bool {
	fa, la := splitWhere(a)
	fb, lb := splitWhere(b)
	if fa != fb {
		return fa < fb
	}
	return la < lb
}

func splitWhere(w string) (string, int) {
	i := strings.LastIndexByte(w, ':')
	if i < 0 {
		return w, 0
	}
	n, err := strconv.Atoi(w[i+1:])
	if err != nil {
		return w, 0
	}
	return w[:i], n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ANSI colours for WriteText.
const (
	ansiRed    = "\x1b[31;1m"
	ansiYellow = "\x1b[33;1m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
	ansiReset  = "\x1b[0m"
)

// maxOthers is how many further places WriteText lists before it counts:
// enough for every session and node record of a four-path host.
const maxOthers = 12

// WriteText writes the report for people: what was looked at, each finding
// with where, why and fix, and the summary line. color adds ANSI colours.
func (r Report) WriteText(w io.Writer, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	fmt.Fprintf(&b, "lunbench check: iSCSI initiator and dm-multipath preflight of %s\n\n", r.Root)
	b.WriteString("Checked:\n")
	wWhat, wWhere := 0, 0
	for _, s := range r.Checked {
		wWhat = max(wWhat, len(s.What))
		wWhere = max(wWhere, len(s.Where))
	}
	for _, s := range r.Checked {
		mark := "ok"
		if !s.Found {
			mark = paint(ansiDim, "--")
		}
		line := fmt.Sprintf("  %s  %-*s  %-*s", mark, wWhat, s.What, wWhere, s.Where)
		if s.Note != "" {
			line += "  " + s.Note
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	r.writeFindings(&b, color)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFindings writes the findings and the summary line the way WriteText
// does, for commands that print their own header (probe).
func (r Report) WriteFindings(w io.Writer, color bool) error {
	var b strings.Builder
	r.writeFindings(&b, color)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) writeFindings(b *strings.Builder, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	if len(r.Findings) == 0 {
		b.WriteString("\nNo findings.\n")
	}
	for _, f := range r.Findings {
		var label string
		switch f.Severity {
		case Error:
			label = paint(ansiRed, "ERROR")
		case Warn:
			label = paint(ansiYellow, "WARN ")
		default:
			label = paint(ansiCyan, "INFO ")
		}
		head := label + " " + f.Check
		if f.Target != "" {
			head += " [" + f.Target + "]"
		}
		fmt.Fprintf(b, "\n%s\n", head)
		fmt.Fprintf(b, "  where: %s\n", f.Where)
		for i, o := range f.Others {
			if i == maxOthers {
				fmt.Fprintf(b, "   also: ... and %d more\n", len(f.Others)-maxOthers)
				break
			}
			fmt.Fprintf(b, "   also: %s\n", o)
		}
		fmt.Fprintf(b, "  found: %s\n", f.Found)
		if f.Why != "" {
			fmt.Fprintf(b, "  why:   %s\n", f.Why)
		}
		if f.Fix != "" {
			fmt.Fprintf(b, "  fix:   %s\n", f.Fix)
		}
	}
	writeBudgets(b, r.Budgets)
	writeCauses(b, r.Causes)
	fmt.Fprintf(b, "\nSummary: %s\n", r.Summary.Text)
}
