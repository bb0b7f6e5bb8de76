package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"lunbench/workload"
)

// DefaultThreshold is the relative change beyond which compare calls a
// worse figure a regression: 10%.
const DefaultThreshold = 0.10

// ParseThreshold reads a regression threshold given as a percentage,
// "10%" or "10", and returns it as a fraction (0.10).
func ParseThreshold(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("threshold %q: want a percentage of 0 or more, such as 10%%", s)
	}
	return v / 100, nil
}

// ComparedRun is one results directory of a comparison. The first is the
// baseline (label A), the others B, C, ...
type ComparedRun struct {
	Label    string    `json:"label"`
	Dir      string    `json:"dir"`
	Scenario string    `json:"scenario"`
	Start    time.Time `json:"start"`
	Status   string    `json:"status"`
}

// CompareCell is one run's figure in a CompareRow.
type CompareCell struct {
	Value float64 `json:"value"`
	// Missing is set when the run has no such phase × target × op, or did
	// not measure the figure; NotMeasured tells the second case (a latency
	// of a phase with no completions, or of a killed run without hlogs).
	Missing     bool `json:"missing,omitempty"`
	NotMeasured bool `json:"not_measured,omitempty"`
	// Change is (value - baseline) / baseline; nil for the baseline and
	// when it is undefined (a missing value, or a baseline of 0).
	Change *float64 `json:"change,omitempty"`
	// Regression: worse than the baseline by more than the threshold (or
	// from none to some, for errors and stalls). Improvement: better by
	// more than the threshold.
	Regression  bool `json:"regression,omitempty"`
	Improvement bool `json:"improvement,omitempty"`
}

// CompareRow is one figure of one phase × target × op across the runs.
type CompareRow struct {
	Phase  string `json:"phase"`
	Target string `json:"target"`
	// Op is read or write; empty for figures of the phase × target as a
	// whole (max stall).
	Op     string `json:"op,omitempty"`
	Metric string `json:"metric"`
	// Unit is that of the values: MiB/s, IOPS, s (latencies and stalls), errors.
	Unit string `json:"unit"`
	// HigherIsBetter tells which way is worse.
	HigherIsBetter bool `json:"higher_is_better"`
	// Cells has one entry per run, the baseline first.
	Cells []CompareCell `json:"cells"`
}

// NotCompared is a phase × target × op that only some runs have.
type NotCompared struct {
	Phase  string   `json:"phase"`
	Target string   `json:"target"`
	Op     string   `json:"op"`
	In     []string `json:"in"`
	NotIn  []string `json:"not_in"`
}

// Comparison is what `lunbench compare` finds: each figure of the
// baseline against the same figure of every other run.
type Comparison struct {
	Threshold   float64       `json:"threshold"`
	Runs        []ComparedRun `json:"runs"`
	Rows        []CompareRow  `json:"rows"`
	NotCompared []NotCompared `json:"not_compared,omitempty"`
	// Regressions counts the cells marked as regressions.
	Regressions int `json:"regressions"`
	// Charts lists the overlay charts written, when they were.
	Charts []string `json:"charts,omitempty"`

	data []*runData
	// chartFiles are the charts written, with their PNGs, for compare.html.
	chartFiles []chartFile
}

// compareMetric is one figure compare reads from a phase result.
type compareMetric struct {
	name, unit     string
	higherIsBetter bool
	// perOp is false for figures of the phase × target (stalls).
	perOp bool
	// get returns the figure and whether it was measured.
	get func(d *runData, pr workload.PhaseResult) (float64, bool)
}

func latencyMetric(name string, f func(workload.LatencySummary) time.Duration) compareMetric {
	return compareMetric{name: name, unit: "s", perOp: true, get: func(_ *runData, pr workload.PhaseResult) (float64, bool) {
		v := f(pr.Lat)
		return v.Seconds(), v > 0
	}}
}

func compareMetrics() []compareMetric {
	return []compareMetric{
		{name: "throughput", unit: "MiB/s", higherIsBetter: true, perOp: true,
			get: func(_ *runData, pr workload.PhaseResult) (float64, bool) { return pr.BytesPerSec / (1 << 20), true }},
		{name: "iops", unit: "IOPS", higherIsBetter: true, perOp: true,
			get: func(_ *runData, pr workload.PhaseResult) (float64, bool) { return pr.IOPS, true }},
		latencyMetric("p50", func(l workload.LatencySummary) time.Duration { return l.P50 }),
		latencyMetric("p99", func(l workload.LatencySummary) time.Duration { return l.P99 }),
		latencyMetric("p99.9", func(l workload.LatencySummary) time.Duration { return l.P999 }),
		{name: "errors", unit: "errors", perOp: true,
			get: func(_ *runData, pr workload.PhaseResult) (float64, bool) { return float64(pr.Errors), true }},
		{name: "max_stall", unit: "s",
			get: func(d *runData, pr workload.PhaseResult) (float64, bool) {
				return d.maxStall(pr.Phase, pr.Target).Seconds(), true
			}},
	}
}

// maxStall is the longest stall of a phase × target in run.json; 0 when
// there was none.
func (d *runData) maxStall(phase, target string) time.Duration {
	var m time.Duration
	for _, s := range d.run.Stalls {
		if s.Phase == phase && s.Target == target {
			m = max(m, s.Dur)
		}
	}
	return m
}

// Compare reads the results directories (the first is the baseline) and
// matches their phases, targets and ops by name. threshold is relative
// (0.10 for 10%). An error means a directory could not be read as
// results: it names the directory and the file.
func Compare(dirs []string, threshold float64) (*Comparison, error) {
	if len(dirs) < 2 {
		return nil, fmt.Errorf("compare needs at least two results directories, got %d", len(dirs))
	}
	if threshold < 0 || math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return nil, fmt.Errorf("threshold %v: want a percentage of 0 or more", threshold)
	}
	c := &Comparison{Threshold: threshold}
	for i, dir := range dirs {
		d, err := loadRunCore(dir)
		if err != nil {
			return nil, err
		}
		if len(d.run.Phases) == 0 {
			d.phasesFromIntervals(dir)
		}
		c.data = append(c.data, d)
		c.Runs = append(c.Runs, ComparedRun{Label: runLabel(i), Dir: dir, Scenario: d.run.Scenario, Start: d.run.Start, Status: d.run.Status})
	}
	c.match()
	return c, nil
}

// phasesFromIntervals rebuilds the per phase × target × op results of a
// run whose run.json has none (a killed run: run.json still says
// "running") from intervals.csv: counts and rates over the measured
// intervals, the max latency, and the percentiles from the hlog files
// where there are any.
func (d *runData) phasesFromIntervals(dir string) {
	keys, groups := groupBy(d.ivs, func(r *IntervalRow) (phaseKey, bool) { return phaseKey{r.Phase, r.Target, r.Op}, !r.Ramp })
	for _, k := range keys {
		pr := workload.PhaseResult{Phase: k.Phase, Target: k.Target, Op: k.Op}
		for _, r := range groups[k] {
			if pr.Start.IsZero() || r.Start.Before(pr.Start) {
				pr.Start = r.Start
			}
			if r.End.After(pr.End) {
				pr.End = r.End
			}
			pr.Seconds += r.End.Sub(r.Start).Seconds()
			pr.Ops += r.Ops
			pr.Bytes += r.Bytes
			pr.Errors += r.Errors
			pr.Lat.Max = max(pr.Lat.Max, time.Duration(r.MaxUs*1e3))
		}
		if pr.Seconds > 0 {
			pr.IOPS = float64(pr.Ops) / pr.Seconds
			pr.BytesPerSec = float64(pr.Bytes) / pr.Seconds
			pr.MBps = pr.BytesPerSec / (1 << 20)
		}
		d.run.Phases = append(d.run.Phases, pr)
	}
	d.hists = readHists(dir, d.run)
	for i := range d.run.Phases {
		pr := &d.run.Phases[i]
		if h := d.hists[phaseKey{pr.Phase, pr.Target, pr.Op}]; h != nil {
			at := func(q float64) time.Duration { return time.Duration(h.ValueAtPercentile(q)) }
			pr.Lat.Count = uint64(h.TotalCount())
			pr.Lat.P50, pr.Lat.P90, pr.Lat.P99, pr.Lat.P999, pr.Lat.P9999 = at(50), at(90), at(99), at(99.9), at(99.99)
		}
	}
}

// runLabel names the i-th run: A, B, ..., Z, R27, ...
func runLabel(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("R%d", i+1)
}

// match fills Rows and NotCompared.
func (c *Comparison) match() {
	keys, idx := c.phaseKeys()
	metrics := compareMetrics()
	stallDone := map[[2]string]bool{}
	for _, k := range keys {
		prs := idx[k]
		var in, notIn []string
		for i, pr := range prs {
			if pr != nil {
				in = append(in, runLabel(i))
			} else {
				notIn = append(notIn, runLabel(i))
			}
		}
		// Compared when the baseline and at least one other run have it.
		if prs[0] == nil || len(in) < 2 {
			c.NotCompared = append(c.NotCompared, NotCompared{Phase: k.Phase, Target: k.Target, Op: k.Op.String(), In: in, NotIn: notIn})
			continue
		}
		if len(notIn) > 0 {
			c.NotCompared = append(c.NotCompared, NotCompared{Phase: k.Phase, Target: k.Target, Op: k.Op.String(), In: in, NotIn: notIn})
		}
		for _, m := range metrics {
			row := CompareRow{Phase: k.Phase, Target: k.Target, Metric: m.name, Unit: m.unit, HigherIsBetter: m.higherIsBetter}
			if m.perOp {
				row.Op = k.Op.String()
			} else {
				// Stalls belong to the phase × target: one row, after its first op.
				pt := [2]string{k.Phase, k.Target}
				if stallDone[pt] {
					continue
				}
				stallDone[pt] = true
			}
			for i, pr := range prs {
				cell := CompareCell{Missing: true}
				if pr != nil {
					v, ok := m.get(c.data[i], *pr)
					cell = CompareCell{Value: v, Missing: !ok, NotMeasured: !ok}
				}
				row.Cells = append(row.Cells, cell)
			}
			c.judge(&row)
			c.Rows = append(c.Rows, row)
		}
	}
	// Each phase × target's rows together, its stall row after its ops.
	group := map[[2]string]int{}
	for _, r := range c.Rows {
		if _, ok := group[[2]string{r.Phase, r.Target}]; !ok {
			group[[2]string{r.Phase, r.Target}] = len(group)
		}
	}
	rank := func(r CompareRow) int {
		g := 2 * group[[2]string{r.Phase, r.Target}]
		if r.Op == "" {
			g++
		}
		return g
	}
	sort.SliceStable(c.Rows, func(i, j int) bool { return rank(c.Rows[i]) < rank(c.Rows[j]) })
}

// phaseKeys lists every phase × target × op of any run, in the baseline's
// order and then in the order later runs add them, with each run's
// result (nil where a run has none).
func (c *Comparison) phaseKeys() ([]phaseKey, map[phaseKey][]*workload.PhaseResult) {
	var keys []phaseKey
	idx := map[phaseKey][]*workload.PhaseResult{}
	for i, d := range c.data {
		for j := range d.run.Phases {
			pr := &d.run.Phases[j]
			k := phaseKey{pr.Phase, pr.Target, pr.Op}
			if idx[k] == nil {
				keys = append(keys, k)
				idx[k] = make([]*workload.PhaseResult, len(c.data))
			}
			if idx[k][i] == nil {
				idx[k][i] = pr
			}
		}
	}
	return keys, idx
}

// judge sets each cell's change against the baseline and whether it is a
// regression or an improvement.
func (c *Comparison) judge(row *CompareRow) {
	base := row.Cells[0]
	for i := 1; i < len(row.Cells); i++ {
		cell := &row.Cells[i]
		if cell.Missing || base.Missing {
			continue
		}
		// worse > 0 means the run is worse than the baseline.
		worse := cell.Value - base.Value
		if row.HigherIsBetter {
			worse = -worse
		}
		if base.Value == 0 {
			// No relative change from zero: going from no errors or no
			// stall to some is a regression whatever the threshold.
			if worse > 0 && !row.HigherIsBetter {
				cell.Regression = true
				c.Regressions++
			}
			continue
		}
		ch := (cell.Value - base.Value) / base.Value
		cell.Change = &ch
		rel := worse / math.Abs(base.Value)
		switch {
		case rel > c.Threshold+1e-9:
			cell.Regression = true
			c.Regressions++
		case -rel > c.Threshold+1e-9:
			cell.Improvement = true
		}
	}
}

// formatValue writes a figure in the units a person reads.
func (r *CompareRow) formatValue(cell CompareCell) string {
	switch {
	case cell.NotMeasured:
		return "n/a"
	case cell.Missing:
		return "missing"
	}
	switch r.Unit {
	case "MiB/s":
		return MiBps(cell.Value * (1 << 20))
	case "s":
		if cell.Value == 0 {
			if r.Metric == "max_stall" {
				return "none"
			}
			return "0"
		}
		return Lat(time.Duration(math.Round(cell.Value * 1e9)))
	default:
		return Thousands(cell.Value)
	}
}

// formatChange writes a cell's change against the baseline and its mark.
func (r *CompareRow) formatChange(cell, base CompareCell) (change, mark string) {
	switch {
	case cell.Missing || base.Missing:
		change = "-"
	case cell.Change != nil && math.Abs(*cell.Change) < 0.0005:
		change = "0.0%" // not "-0.0%"
	case cell.Change != nil:
		change = fmt.Sprintf("%+.1f%%", *cell.Change*100)
	case cell.Value == base.Value:
		change = "="
	default:
		change = "new" // from zero
	}
	switch {
	case cell.Regression:
		mark = "REGRESSION"
	case cell.Improvement:
		mark = "better"
	}
	return change, mark
}

// WriteTable prints the comparison for a person: the runs, one line per
// figure with each run's value, its change against the baseline and a
// mark, what could not be compared, and the verdict.
func (c *Comparison) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Compared against %s, regression threshold %s\n\n", c.Runs[0].Label, trimFloat(c.Threshold*100, 2)+"%")
	for i, r := range c.Runs {
		role := ""
		if i == 0 {
			role = " (baseline)"
		}
		status := ""
		if r.Status != "" && r.Status != "finished" {
			status = ", status " + r.Status
		}
		start := "start unknown"
		if !r.Start.IsZero() {
			start = r.Start.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(&b, "  %s%s: %s (scenario %s, %s%s)\n", r.Label, role, r.Dir, r.Scenario, start, status)
	}
	b.WriteString("\n")
	head := []string{"phase", "target", "op", "metric", c.Runs[0].Label}
	for _, r := range c.Runs[1:] {
		head = append(head, r.Label, r.Label+" vs "+c.Runs[0].Label, "")
	}
	table := [][]string{head}
	var last [3]string
	for _, row := range c.Rows {
		op := row.Op
		if op == "" {
			op = "all" // a figure of the phase × target (stalls)
		}
		id := [3]string{row.Phase, row.Target, op}
		line := []string{row.Phase, row.Target, op, row.Metric, row.formatValue(row.Cells[0])}
		// A person reads the blocks better without the repeats.
		if id == last {
			line[0], line[1], line[2] = "", "", ""
		} else if id[0] == last[0] && id[1] == last[1] {
			line[0], line[1] = "", ""
		}
		last = id
		for _, cell := range row.Cells[1:] {
			ch, mark := row.formatChange(cell, row.Cells[0])
			line = append(line, row.formatValue(cell), ch, mark)
		}
		table = append(table, line)
	}
	writeColumns(&b, table)
	if len(c.NotCompared) > 0 {
		b.WriteString("\nNot compared (a phase × target × op some runs do not have):\n")
		for _, n := range c.NotCompared {
			fmt.Fprintf(&b, "  %s %s %s: in %s, missing in %s\n", n.Phase, n.Target, n.Op, strings.Join(n.In, ", "), strings.Join(n.NotIn, ", "))
		}
	}
	b.WriteString("\n" + c.Verdict() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Verdict is the comparison's last line.
func (c *Comparison) Verdict() string {
	th := trimFloat(c.Threshold*100, 2) + "%"
	if c.Regressions == 0 {
		return fmt.Sprintf("No regression beyond %s against %s.", th, c.Runs[0].Label)
	}
	var per []string
	for i, r := range c.Runs[1:] {
		n := 0
		for _, row := range c.Rows {
			if row.Cells[i+1].Regression {
				n++
			}
		}
		if n > 0 {
			per = append(per, fmt.Sprintf("%s %d", r.Label, n))
		}
	}
	s := "s"
	if c.Regressions == 1 {
		s = ""
	}
	return fmt.Sprintf("REGRESSION: %d figure%s worse than %s by more than %s (%s), marked above.", c.Regressions, s, c.Runs[0].Label, th, strings.Join(per, ", "))
}

// writeColumns lays out rows as left-aligned columns two spaces apart,
// without trailing blanks.
func writeColumns(b *strings.Builder, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, cell := range r {
			line.WriteString(cell)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-len([]rune(cell))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// WriteJSON writes the comparison as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// DefaultCompareDir is where compare writes when not told: a
// compare-<UTC time> directory next to the baseline run (the results
// root, git-ignored), so comparisons stay with the runs they compare.
func DefaultCompareDir(baseline string, now time.Time) string {
	return filepath.Join(filepath.Dir(filepath.Clean(baseline)), "compare-"+now.UTC().Format("2006-01-02T15-04-05Z"))
}

// phaseNames lists the phases of all runs, the baseline's first.
func (c *Comparison) phaseNames() []string {
	var out []string
	for _, d := range c.data {
		for _, pr := range d.run.Phases {
			if !slices.Contains(out, pr.Phase) {
				out = append(out, pr.Phase)
			}
		}
	}
	return out
}
