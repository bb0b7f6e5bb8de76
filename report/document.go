package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/montanaflynn/stats"

	"lunbench/iscsi/probe"
	"lunbench/workload"
)

// maxEvents bounds the events listed in the documents; the rest stay in
// events.jsonl.
const maxEvents = 500

// maxTopology bounds how much of topology.json the documents quote.
const maxTopology = 20000

// SeriesStats summarises the per-interval throughput of one phase ×
// target × op (ramp intervals left out): how steady it was.
type SeriesStats struct {
	Phase, Target string
	Op            workload.Op
	N             int
	// In MiB/s.
	Mean, Stddev, Min, P5, P95, Max float64
	// CV is the coefficient of variation, Stddev / Mean.
	CV float64
}

// ThroughputStats computes SeriesStats from intervals.csv rows, in the
// order phases first appear.
func ThroughputStats(rows []IntervalRow) []SeriesStats {
	type key struct {
		phase, target string
		op            workload.Op
	}
	var keys []key
	vals := map[key][]float64{}
	for _, r := range rows {
		if r.Ramp {
			continue
		}
		k := key{r.Phase, r.Target, r.Op}
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = append(vals[k], r.MiBs)
	}
	var out []SeriesStats
	for _, k := range keys {
		v := stats.Float64Data(vals[k])
		s := SeriesStats{Phase: k.phase, Target: k.target, Op: k.op, N: len(v)}
		s.Mean, _ = v.Mean()
		s.Stddev, _ = v.StandardDeviation()
		s.Min, _ = v.Min()
		s.Max, _ = v.Max()
		s.P5, _ = v.Percentile(5)
		s.P95, _ = v.Percentile(95)
		if s.Mean > 0 {
			s.CV = s.Stddev / s.Mean
		}
		out = append(out, s)
	}
	return out
}

// doc is what both documents show, prepared once.
type doc struct {
	Title   string
	Verdict string
	Status  string
	Error   string
	// Warnings are shown with the verdict and do not fail the run (a
	// RAM-backed target, a stall far above its failover budget).
	Warnings []string
	Facts    [][2]string
	Criteria []docCriterion
	Phases   []docPhase
	Sizes    []docSize
	Methods  []docMethod
	Sweeps   []docSweep
	Curves   []docCurve
	Steady   []docSteady
	Series   []docSeries
	Devices  []docDevice
	Stalls   []docStall
	Drills   []docDrill
	Budgets  []docBudget
	Causes   []docCauses
	Verify   []docVerify
	// VerifyClasses heads the verify counts columns.
	VerifyClasses []string
	Preflight     docPreflight
	Probes        []docProbe
	ProbeNote     string
	LoginWatches  [][]string
	Events        []docEvent
	// EventsLeft counts events not listed.
	EventsLeft int
	Host       [][2]string
	Targets    []docTarget
	Extra      []docExtra
	// Hosts is the section of a run over several hosts (hosts.go).
	Hosts    *docHosts
	Charts   []chartFile
	Scenario string
	// Unfinished says why the run did not finish; NotRun lists the phases
	// that never started; Rebuilt notes phase figures read back from
	// intervals.csv and the hlogs.
	Unfinished string
	NotRun     string
	Rebuilt    bool
}

type docCriterion struct{ Text, Phase, Target, Measured, Threshold, Result, Note string }

type docPhase struct {
	Phase, Target, Op, IOPS, MiBs                 string
	Mean, P50, P90, P99, P999, P9999, Max, Errors string
}

type docSeries struct{ Phase, Target, Op, N, Mean, Stddev, Min, P5, P95, Max, CV string }

type docStall struct{ Phase, Target, At, Length, InFlight, Note string }

type docEvent struct{ At, Kind, Phase, Target, Path, Detail string }

type docTarget struct {
	Name  string
	Facts [][2]string
}

type docExtra struct{ Name, JSON string }

func buildDoc(d *runData, charts []chartFile) *doc {
	r := d.run
	v := strings.ToUpper(string(r.Verdict))
	if d.unfinished != "" && r.Verdict != Error {
		v = Incomplete
	}
	if v == "" {
		v = "NONE (" + r.Status + ")"
	}
	out := &doc{Title: "lunbench report: " + r.Scenario, Verdict: v, Status: r.Status, Error: r.Error, Charts: charts,
		Scenario: string(d.scenario), Warnings: Warnings(r), Unfinished: d.unfinished, NotRun: strings.Join(d.notRun, ", "),
		Rebuilt: d.rebuilt}
	out.Facts = [][2]string{{"scenario", r.Scenario}, {"source", r.Source}, {"status", r.Status}}
	if !r.Start.IsZero() {
		out.Facts = append(out.Facts, [2]string{"start", r.Start.UTC().Format("2006-01-02 15:04:05 MST")})
	}
	if !r.End.IsZero() {
		out.Facts = append(out.Facts, [2]string{"end", r.End.UTC().Format("2006-01-02 15:04:05 MST")},
			[2]string{"duration", Clock(r.End.Sub(r.Start))})
	}
	out.Facts = append(out.Facts, [2]string{"seed", fmt.Sprint(r.Seed)}, [2]string{"interval", fmt.Sprintf("%gs", r.IntervalSec)},
		[2]string{"lunbench", r.Lunbench})
	for _, c := range r.Criteria {
		out.Criteria = append(out.Criteria, docCriterion{Text: criterionText(c), Phase: phaseOrRun(c.Phase), Target: c.Target,
			Measured: c.MeasuredText, Threshold: strings.TrimSpace(c.Cmp + " " + c.ThresholdText), Result: criterionResult(c), Note: c.Note})
	}
	for _, p := range r.Phases {
		l := p.Lat
		out.Phases = append(out.Phases, docPhase{Phase: p.Phase, Target: p.Target, Op: p.Op.String(),
			IOPS: Thousands(p.IOPS), MiBs: fmt.Sprintf("%.1f", p.BytesPerSec/(1<<20)),
			Mean: Lat(l.Mean), P50: Lat(l.P50), P90: Lat(l.P90), P99: Lat(l.P99), P999: Lat(l.P999), P9999: Lat(l.P9999),
			Max: Lat(l.Max), Errors: Thousands(float64(p.Errors)) + backoffText(&p)})
	}
	out.Sizes = sizeRows(r)
	out.Methods = methodRows(r)
	out.Sweeps = sweepRows(r)
	out.Curves = curveRows(r)
	out.Steady = steadyRows(r)
	series := ThroughputStats(d.ivs)
	out.Warnings = append(out.Warnings, cvWarnings(series, r.Criteria)...)
	out.Devices = docDevices(d.deviceStats())
	for _, s := range series {
		out.Series = append(out.Series, docSeries{Phase: s.Phase, Target: s.Target, Op: s.Op.String(), N: fmt.Sprint(s.N),
			Mean: f1(s.Mean), Stddev: f1(s.Stddev), Min: f1(s.Min), P5: f1(s.P5), P95: f1(s.P95), Max: f1(s.Max),
			CV: fmt.Sprintf("%.1f%%", s.CV*100)})
	}
	for _, s := range r.Stalls {
		ds := docStall{Phase: s.Phase, Target: s.Target, At: Clock(s.Start.Sub(d.t0)), Length: Lat(s.Dur), InFlight: fmt.Sprint(s.InFlight)}
		if s.Unresolved {
			ds.Note = "unresolved: no I/O completed before the phase ended"
		}
		switch {
		case s.PhaseEnd:
			ds.Note = strings.TrimPrefix(ds.Note+"; during the verify pass at the phase end: its reads hung (after the measured window)", "; ")
		case s.DuringVerify:
			ds.Note = strings.TrimPrefix(ds.Note+"; during a verify pass: its reads hung (the workers were parked)", "; ")
		}
		out.Stalls = append(out.Stalls, ds)
	}
	out.Drills = drillRows(r, d.t0)
	out.Hosts = hostsSection(r, d.t0)
	out.Budgets, out.Causes = budgetRows(r)
	out.Verify = verifyRows(r, d.t0)
	out.VerifyClasses = verifyClasses()
	out.Preflight = preflightDoc(r)
	out.Probes, out.ProbeNote = probeDocs(r)
	out.LoginWatches = loginWatchRows(r)
	for i, e := range d.events {
		if i >= maxEvents {
			out.EventsLeft = len(d.events) - maxEvents
			break
		}
		det := e.Detail
		if e.Errno != "" {
			det = strings.TrimSpace(det + " " + e.Errno)
		}
		out.Events = append(out.Events, docEvent{At: clockMs(e.Time.Sub(d.t0)), Kind: e.Kind.String(), Phase: e.Phase,
			Target: e.Target, Path: e.Path, Detail: det})
	}
	h := r.Host
	out.Host = [][2]string{{"hostname", h.Hostname}, {"kernel", h.Kernel}, {"os/arch", h.OS + "/" + h.Arch},
		{"CPUs", fmt.Sprint(h.CPUs)}, {"Go", h.GoVer}}
	for _, t := range r.Targets {
		dv := t.Device
		facts := [][2]string{{"path", dv.Path}, {"resolved", dv.Resolved}, {"kind", string(dv.Kind)},
			{"size", sizeText(dv.Size)}, {"block size", fmt.Sprintf("%d logical, %d physical", dv.LogicalBlock, dv.PhysicalBlock)},
			{"device", fmt.Sprintf("%d:%d %s", dv.Major, dv.Minor, dv.KernelName)}}
		for _, kv := range [][2]string{{"vendor", dv.Vendor}, {"model", dv.Model}, {"revision", dv.Rev}, {"serial", dv.Serial},
			{"WWID", dv.WWID}, {"dm name", dv.DMName}, {"dm uuid", dv.DMUUID}} {
			if kv[1] != "" {
				facts = append(facts, kv)
			}
		}
		facts = append(facts, [2]string{"rotational", fmt.Sprint(dv.Rotational)})
		if t.Created {
			facts = append(facts, [2]string{"created by lunbench", "yes"})
		}
		if t.RAMBacked != "" {
			facts = append(facts, [2]string{"RAM-backed", t.RAMBacked})
		}
		out.Targets = append(out.Targets, docTarget{Name: t.Name, Facts: facts})
	}
	var names []string
	for k := range r.Extra {
		if k != preflightKey && k != probe.RunJSONKey && k != probe.LoginWatchKey && k != "hosts" && k != "aggregate" { // they have sections of their own
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		var b bytes.Buffer
		if json.Indent(&b, r.Extra[k], "", "  ") != nil {
			b.Reset()
			b.Write(r.Extra[k])
		}
		out.Extra = append(out.Extra, docExtra{Name: k, JSON: b.String()})
	}
	if len(d.topology) > 0 {
		t := strings.TrimRight(string(d.topology), "\n")
		if len(t) > maxTopology {
			t = t[:maxTopology] + "\n… (cut; see topology.json)"
		}
		out.Extra = append(out.Extra, docExtra{Name: "topology (topology.json)", JSON: t})
	}
	return out
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// clockMs is mm:ss.mmm since the run's start.
func clockMs(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds() % 1000
	return fmt.Sprintf("%s.%03d", Clock(d.Truncate(time.Second)), ms)
}

func sizeText(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%s %s (%s bytes)", trimFloat(v, 2), units[i], Thousands(float64(n)))
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdCell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func kvRows(kv [][2]string) [][]string {
	var out [][]string
	for _, p := range kv {
		out = append(out, []string{p[0], p[1]})
	}
	return out
}

// Markdown renders report.md. Charts are referenced by file name, next to
// the document.
func (o *doc) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", o.Title)
	fmt.Fprintf(&b, "> **Verdict: %s**", o.Verdict)
	if o.Status != "" && o.Status != "finished" {
		fmt.Fprintf(&b, " — run %s", o.Status)
	}
	b.WriteString("\n")
	if o.Error != "" {
		fmt.Fprintf(&b, ">\n> error: %s\n", mdCell(o.Error))
	}
	if o.Unfinished != "" {
		fmt.Fprintf(&b, ">\n> %s. Its criteria are not evaluated.\n", mdCell(o.Unfinished))
		if o.NotRun != "" {
			fmt.Fprintf(&b, ">\n> phases not run: %s\n", mdCell(o.NotRun))
		}
	}
	for _, w := range o.Warnings {
		fmt.Fprintf(&b, ">\n> ⚠ warning: %s\n", mdCell(w))
	}
	b.WriteString("\n")
	mdTable(&b, []string{"run", ""}, kvRows(o.Facts))
	o.markdownMethods(&b)
	b.WriteString("## Criteria\n\n")
	if len(o.Criteria) == 0 {
		b.WriteString("The scenario has no criteria.\n\n")
	} else {
		var rows [][]string
		for _, c := range o.Criteria {
			res := "✅ PASS"
			switch c.Result {
			case notEvaluated:
				res = "⚠️ NOT EVALUATED"
			case "FAIL":
				res = "❌ FAIL"
			}
			if c.Note != "" {
				res += " (" + c.Note + ")"
			}
			rows = append(rows, []string{c.Text, c.Phase, c.Target, c.Measured, c.Threshold, res})
		}
		mdTable(&b, []string{"criterion", "phase", "target", "measured", "threshold", "result"}, rows)
	}
	o.markdownHosts(&b)
	b.WriteString("## Results per phase\n\nRamp excluded. Latencies are per I/O, from HDR histograms; max is exact.\n\n")
	if o.Rebuilt {
		b.WriteString(rebuiltNote + "\n\n")
	}
	var rows [][]string
	for _, p := range o.Phases {
		rows = append(rows, []string{p.Phase, p.Target, p.Op, p.IOPS, p.MiBs, p.Mean, p.P50, p.P90, p.P99, p.P999, p.P9999, p.Max, p.Errors})
	}
	mdTable(&b, []string{"phase", "target", "op", "IOPS", "MiB/s", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max", "errors"}, rows)
	o.markdownSizes(&b)
	o.markdownSweeps(&b)
	o.markdownCurves(&b)
	o.markdownSteady(&b)
	if len(o.Series) > 0 {
		b.WriteString("## Throughput stability\n\nPer-interval throughput in MiB/s over each phase (ramp excluded); CV is stddev / mean.\n\n")
		rows = nil
		for _, s := range o.Series {
			rows = append(rows, []string{s.Phase, s.Target, s.Op, s.N, s.Mean, s.Stddev, s.Min, s.P5, s.P95, s.Max, s.CV})
		}
		mdTable(&b, []string{"phase", "target", "op", "intervals", "mean", "stddev", "min", "p5", "p95", "max", "CV"}, rows)
	}
	o.markdownDevices(&b)
	b.WriteString("## Stalls\n\n")
	if len(o.Stalls) == 0 {
		b.WriteString("No stalls.\n\n")
	} else {
		rows = nil
		for _, s := range o.Stalls {
			rows = append(rows, []string{s.Phase, s.Target, s.At, s.Length, s.InFlight, s.Note})
		}
		mdTable(&b, []string{"phase", "target", "at", "length", "in flight", "note"}, rows)
	}
	o.markdownDrills(&b)
	o.markdownVerify(&b)
	o.markdownPreflight(&b)
	o.markdownProbes(&b)
	b.WriteString("## Events\n\n")
	if len(o.Events) == 0 {
		b.WriteString("No events recorded.\n\n")
	} else {
		rows = nil
		for _, e := range o.Events {
			rows = append(rows, []string{e.At, e.Kind, e.Phase, e.Target, e.Path, e.Detail})
		}
		mdTable(&b, []string{"at", "event", "phase", "target", "path", "detail"}, rows)
		if o.EventsLeft > 0 {
			fmt.Fprintf(&b, "%d more events in events.jsonl.\n\n", o.EventsLeft)
		}
	}
	if len(o.Charts) > 0 {
		b.WriteString("## Charts\n\n")
		for _, c := range o.Charts {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c.Title, c.File)
		}
	}
	b.WriteString("## Environment\n\n")
	mdTable(&b, []string{"host", ""}, kvRows(o.Host))
	for _, t := range o.Targets {
		mdTable(&b, []string{"target " + mdCell(t.Name), ""}, kvRows(t.Facts))
	}
	for _, e := range o.Extra {
		fmt.Fprintf(&b, "### %s\n\n```json\n%s\n```\n\n", e.Name, e.JSON)
	}
	if o.Scenario != "" {
		b.WriteString("## Scenario as run\n\n```yaml\n" + strings.TrimRight(o.Scenario, "\n") + "\n```\n")
	}
	return b.String()
}

// drillsIntro explains the drills table's columns.
const drillsIntro = "Times from the inject (the command's start, or the operator's mark). Detection: inject to the last " +
	"completion before the gap; stall: the gap; resume: inject to the first completion after it. Throughput " +
	"(reads and writes): the 10 s before, the worst whole second of the window, the 10 s after resuming (after / before)."

// verifyIntro explains the verify counts.
const verifyIntro = "Every written block read back and sorted: ok, lost (an older generation than acknowledged), " +
	"misdirected (a stamp naming another offset), torn, corrupt, unwritten. In doubt: blocks whose last write was " +
	"not acknowledged and that held the old or the new generation (both are accepted)."

func (o *doc) markdownDrills(b *strings.Builder) {
	if len(o.Drills) == 0 {
		return
	}
	b.WriteString("## Drills\n\n" + drillsIntro + "\n\n")
	var rows [][]string
	for _, d := range o.Drills {
		rows = append(rows, []string{d.Phase, d.Drill, d.Target, d.At, d.Inject, d.Recover, d.Detection, d.Stall, d.Resume,
			d.Errors, d.Before, d.Worst, d.After, d.PathMove, d.Ver})
	}
	mdTable(b, []string{"phase", "drill", "target", "inject at", "inject", "recover", "detection", "stall", "resume",
		"errors", "before", "worst second", "after", "path move", "verify"}, rows)
	o.markdownBudgets(b)
}

func (o *doc) markdownVerify(b *strings.Builder) {
	if len(o.Verify) == 0 {
		return
	}
	b.WriteString("## Data verification\n\n" + verifyIntro + "\n\n")
	var rows [][]string
	for _, v := range o.Verify {
		rows = append(rows, append(append([]string{v.Phase, v.When, v.Target, v.At, v.Took, v.Blocks}, v.Counts...), v.InDoubt, v.Result))
	}
	head := append(append([]string{"phase", "when", "target", "at", "took", "blocks"}, o.VerifyClasses...), "in doubt", "result")
	mdTable(b, head, rows)
	for _, v := range o.Verify {
		if len(v.Findings) == 0 {
			continue
		}
		fmt.Fprintf(b, "### Findings: %s, %s, %s\n\n", mdCell(v.Target), mdCell(v.When), mdCell(phaseOrRun(v.Phase)))
		rows = nil
		for _, f := range v.Findings {
			rows = append(rows, []string{f.Offset, f.Class, f.Detail})
		}
		mdTable(b, []string{"offset", "class", "detail"}, rows)
		if v.FindingsLeft > 0 {
			fmt.Fprintf(b, "%d more findings in run.json.\n\n", v.FindingsLeft)
		}
	}
}

func (o *doc) markdownPreflight(b *strings.Builder) {
	p := o.Preflight
	b.WriteString("## Host preflight\n\n")
	if p.Note != "" {
		b.WriteString(p.Note + "\n\n")
		return
	}
	fmt.Fprintf(b, "**%s**\n\n", mdCell(p.Summary))
	if p.Unchecked != "" {
		fmt.Fprintf(b, "Nothing about a SAN could be checked: %s.\n\n", p.Unchecked)
	}
	if len(p.Findings) == 0 {
		return
	}
	var rows [][]string
	for _, f := range p.Findings {
		rows = append(rows, []string{f.Severity, f.Check, f.Target, f.Where, f.Found, f.Why, f.Fix})
	}
	mdTable(b, []string{"severity", "check", "target", "where", "found", "why it matters", "fix"}, rows)
}

// pageHead opens both HTML documents (report.html, compare.html): the
// page, its title and the start of a style sheet they share.
const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1700px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{background:#f2f2f2}
.banner{font-size:1.6em;font-weight:bold;padding:0.6em 1em;border-radius:6px;color:#fff;margin:1em 0}
`

const htmlPage = pageHead + `.PASS{background:#2e7d32}.FAIL{background:#c62828}.other{background:#ef6c00}
.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}.warn{color:#ef6c00;font-weight:bold}
p.warn{color:#8a4b00;background:#fff4e0;border-left:4px solid #ef6c00;padding:0.4em 0.8em}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}.chart{overflow-x:auto}.chart img{cursor:zoom-in}
.chart img.full{max-width:none;cursor:zoom-out}.hint{color:#666;font-size:0.9em}
pre{background:#f6f6f6;padding:1em;overflow:auto}
</style></head><body>
<h1>{{.Title}}</h1>
<div class="banner {{if eq .Verdict "PASS"}}PASS{{else if eq .Verdict "FAIL"}}FAIL{{else}}other{{end}}">Verdict: {{.Verdict}}{{if and .Status (ne .Status "finished")}} — run {{.Status}}{{end}}</div>
{{if .Error}}<p class="bad">error: {{.Error}}</p>{{end}}
{{if .Unfinished}}<p class="bad">{{.Unfinished}}. Its criteria are not evaluated.{{if .NotRun}} Phases not run: {{.NotRun}}.{{end}}</p>{{end}}
{{range .Warnings}}<p class="warn">⚠ warning: {{.}}</p>
{{end}}<table>{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .Methods}}<h2>Workload and acceptance methods</h2>
<p>What this run had beyond fixed-size phases, and where it is shown.</p>
<table><tr><th>method</th><th>in this run</th></tr>
{{range .Methods}}<tr><td>{{.Method}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{end}}
<h2>Criteria</h2>
{{if .Criteria}}<table><tr><th>criterion</th><th>phase</th><th>target</th><th>measured</th><th>threshold</th><th>result</th></tr>
{{range .Criteria}}<tr><td>{{.Text}}</td><td>{{.Phase}}</td><td>{{.Target}}</td><td class="n">{{.Measured}}</td><td class="n">{{.Threshold}}</td><td class="{{if pass .Result}}ok{{else}}bad{{end}}">{{.Result}}{{if .Note}} ({{.Note}}){{end}}</td></tr>
{{end}}</table>{{else}}<p>The scenario has no criteria.</p>{{end}}
` + hostsHTML + `<h2>Results per phase</h2>
<p>Ramp excluded. Latencies are per I/O, from HDR histograms; max is exact.</p>
{{if .Rebuilt}}<p>{{rebuilt}}</p>{{end}}
<table><tr><th>phase</th><th>target</th><th>op</th><th>IOPS</th><th>MiB/s</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th><th>errors</th></tr>
{{range .Phases}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td class="n">{{.IOPS}}</td><td class="n">{{.MiBs}}</td><td class="n">{{.Mean}}</td><td class="n">{{.P50}}</td><td class="n">{{.P90}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td><td class="n">{{.P9999}}</td><td class="n">{{.Max}}</td><td class="n">{{.Errors}}</td></tr>
{{end}}</table>
{{if .Sizes}}<h2>Block-size mix</h2>
<p>Per block size of each mixed phase: the share the scenario asked for, the share of I/Os it got, IOPS and MiB/s (ramp excluded).</p>
<table><tr><th>phase</th><th>target</th><th>op</th><th>bs</th><th>mix</th><th>share of I/Os</th><th>IOPS</th><th>MiB/s</th></tr>
{{range .Sizes}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td class="n">{{.BS}}</td><td class="n">{{.Mix}}</td><td class="n">{{.Got}}</td><td class="n">{{.IOPS}}</td><td class="n">{{.MiBs}}</td></tr>
{{end}}</table>{{end}}
{{if .Sweeps}}<h2>Sweeps</h2>
<p>One row per swept value, in the order run (each a phase of its own, ramp excluded).</p>
<table><tr><th>sweep</th><th>key</th><th>value</th><th>target</th><th>op</th><th>IOPS</th><th>MiB/s</th><th>p50</th><th>p99</th><th>p99.9</th></tr>
{{range .Sweeps}}<tr><td>{{.Sweep}}</td><td>{{.Key}}</td><td>{{.Value}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td class="n">{{.IOPS}}</td><td class="n">{{.MiBs}}</td><td class="n">{{.P50}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td></tr>
{{end}}</table>{{end}}
{{if .Curves}}<h2>Latency against load</h2>
<p>Each curve first ran uncapped (max), then open loop at each share of that maximum; the signed-off figure is the criterion iops_at_p99 (the highest IOPS at a point whose p99 is within its bound), under Criteria. Missed slots are paced I/Os the target fell too far behind to issue (their latency is counted as if they had waited).</p>
<table><tr><th>curve</th><th>target</th><th>op</th><th>point</th><th>paced at (IOPS)</th><th>achieved IOPS</th><th>missed slots</th><th>p50</th><th>p99</th><th>p99.9</th></tr>
{{range .Curves}}<tr><td>{{.Curve}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td>{{.Point}}</td><td class="n">{{.Paced}}</td><td class="n">{{.IOPS}}</td><td class="n">{{.Missed}}</td><td class="n">{{.P50}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td></tr>
{{end}}</table>{{end}}
{{if .Steady}}<h2>Steady state</h2>
<p>SNIA's rule over the last window of rounds: max − min of the metric within max_excursion of the window's average, and the fitted line's change across the window within max_slope.</p>
<table><tr><th>phase</th><th>metric</th><th>result</th><th>window</th><th>average</th><th>excursion</th><th>slope</th></tr>
{{range .Steady}}<tr><td>{{.Phase}}</td><td>{{.Metric}}</td><td class="{{if .OK}}ok{{else}}bad{{end}}">{{.Result}}</td><td>{{.Window}}</td><td class="n">{{.Avg}}</td><td class="n">{{.Excursion}}</td><td class="n">{{.Slope}}</td></tr>
{{end}}</table>{{end}}
{{if .Series}}<h2>Throughput stability</h2>
<p>Per-interval throughput in MiB/s over each phase (ramp excluded); CV is stddev / mean.</p>
<table><tr><th>phase</th><th>target</th><th>op</th><th>intervals</th><th>mean</th><th>stddev</th><th>min</th><th>p5</th><th>p95</th><th>max</th><th>CV</th></tr>
{{range .Series}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td class="n">{{.N}}</td><td class="n">{{.Mean}}</td><td class="n">{{.Stddev}}</td><td class="n">{{.Min}}</td><td class="n">{{.P5}}</td><td class="n">{{.P95}}</td><td class="n">{{.Max}}</td><td class="n">{{.CV}}</td></tr>
{{end}}</table>{{end}}
{{if .Devices}}<h2>Devices per phase</h2>
<p>Means of the iostat columns over each phase, from diskstats.csv; awaits in ms, weighted by the I/O rate. A filesystem device (fs) is shared: other processes' I/O is included.</p>
<table><tr><th>phase</th><th>target</th><th>device</th><th>role</th><th>r/s</th><th>w/s</th><th>MiB/s</th><th>r_await</th><th>w_await</th><th>aqu-sz</th><th>%util</th></tr>
{{range .Devices}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Device}}</td><td>{{.Role}}</td><td class="n">{{.Rs}}</td><td class="n">{{.Ws}}</td><td class="n">{{.MiBs}}</td><td class="n">{{.RAwait}}</td><td class="n">{{.WAwait}}</td><td class="n">{{.AquSz}}</td><td class="n">{{.Util}}</td></tr>
{{end}}</table>{{end}}
<h2>Stalls</h2>
{{if .Stalls}}<table><tr><th>phase</th><th>target</th><th>at</th><th>length</th><th>in flight</th><th>note</th></tr>
{{range .Stalls}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td class="n">{{.At}}</td><td class="n">{{.Length}}</td><td class="n">{{.InFlight}}</td><td>{{.Note}}</td></tr>
{{end}}</table>{{else}}<p>No stalls.</p>{{end}}
{{if .Drills}}<h2>Drills</h2>
<p>{{drillsIntro}}</p>
<table><tr><th>phase</th><th>drill</th><th>target</th><th>inject at</th><th>inject</th><th>recover</th><th>detection</th><th>stall</th><th>resume</th><th>errors</th><th>before</th><th>worst second</th><th>after</th><th>path move</th><th>verify</th></tr>
{{range .Drills}}<tr><td>{{.Phase}}</td><td>{{.Drill}}</td><td>{{.Target}}</td><td class="n">{{.At}}</td><td>{{.Inject}}</td><td>{{.Recover}}</td><td class="n">{{.Detection}}</td><td class="n">{{.Stall}}</td><td class="n">{{.Resume}}</td><td>{{.Errors}}</td><td class="n">{{.Before}}</td><td class="n">{{.Worst}}</td><td class="n">{{.After}}</td><td>{{.PathMove}}</td><td>{{.Ver}}</td></tr>
{{end}}</table>
{{if .Budgets}}<h3>Failover budget: predicted against measured</h3>
<p>{{budgetIntro}}</p>
<table><tr><th>phase</th><th>drill</th><th>target</th><th>failure</th><th>predicted</th><th>measured</th><th>measured / predicted</th><th>terms</th><th>read, not added</th><th>then</th><th>note</th></tr>
{{range .Budgets}}<tr><td>{{.Phase}}</td><td>{{.Drill}}</td><td>{{.Target}}</td><td>{{.Failure}}</td><td class="n">{{.Predicted}}</td><td class="n">{{.Measured}}</td><td class="n">{{.Ratio}}</td><td>{{range $i, $t := .Terms}}{{if $i}} +<br>{{end}}{{$t}}{{end}}</td><td>{{range .NotAdded}}{{.}}<br>{{end}}</td><td>{{.Ends}}</td><td{{if .Finding}} class="warn"{{end}}>{{.Note}}</td></tr>
{{end}}</table>{{end}}
{{range .Causes}}<h3>Likely causes: {{.Heading}}</h3>
<p>{{causesIntro}}</p>
<ol>{{range .Causes}}<li><b>{{.Title}}</b>{{if .Bound}} ({{.Bound}}){{end}}: {{.Explain}}.<ul>{{range .Values}}<li>{{.}}</li>{{end}}</ul></li>
{{end}}</ol>
{{end}}{{end}}
{{if .Verify}}<h2>Data verification</h2>
<p>{{verifyIntro}}</p>
<table><tr><th>phase</th><th>when</th><th>target</th><th>at</th><th>took</th><th>blocks</th>{{range .VerifyClasses}}<th>{{.}}</th>{{end}}<th>in doubt</th><th>result</th></tr>
{{range .Verify}}<tr><td>{{.Phase}}</td><td>{{.When}}</td><td>{{.Target}}</td><td class="n">{{.At}}</td><td class="n">{{.Took}}</td><td class="n">{{.Blocks}}</td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.InDoubt}}</td><td>{{.Result}}</td></tr>
{{end}}</table>
{{range .Verify}}{{if .Findings}}<h3>Findings: {{.Target}}, {{.When}}, {{.Phase}}</h3>
<table><tr><th>offset</th><th>class</th><th>detail</th></tr>
{{range .Findings}}<tr><td class="n">{{.Offset}}</td><td>{{.Class}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{if .FindingsLeft}}<p>{{.FindingsLeft}} more findings in run.json.</p>{{end}}
{{end}}{{end}}{{end}}
<h2>Host preflight</h2>
{{with .Preflight}}{{if .Note}}<p>{{.Note}}</p>{{else}}<p><b>{{.Summary}}</b></p>
{{if .Unchecked}}<p>Nothing about a SAN could be checked: {{.Unchecked}}.</p>{{end}}
{{if .Findings}}<table><tr><th>severity</th><th>check</th><th>target</th><th>where</th><th>found</th><th>why it matters</th><th>fix</th></tr>
{{range .Findings}}<tr><td class="{{if eq .Severity "error"}}bad{{end}}">{{.Severity}}</td><td>{{.Check}}</td><td>{{.Target}}</td><td>{{.Where}}</td><td>{{.Found}}</td><td>{{.Why}}</td><td>{{.Fix}}</td></tr>
{{end}}</table>{{end}}{{end}}{{end}}
` + htmlProbes + `
<h2>Events</h2>
{{if .Events}}<table><tr><th>at</th><th>event</th><th>phase</th><th>target</th><th>path</th><th>detail</th></tr>
{{range .Events}}<tr><td class="n">{{.At}}</td><td>{{.Kind}}</td><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Path}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{if .EventsLeft}}<p>{{.EventsLeft}} more events in events.jsonl.</p>{{end}}{{else}}<p>No events recorded.</p>{{end}}
{{if .Charts}}<h2>Charts</h2>
<p class="hint">Each chart fits the page; click one to see it at full size, click again to fit it.</p>
{{range .Charts}}<div class="chart"><img alt="{{.Title}}" title="{{.Title}} (click: full size)" src="{{png .PNG}}" onclick="this.classList.toggle('full')"></div>
{{end}}{{end}}
<h2>Environment</h2>
<table>{{range .Host}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{range .Targets}}<h3>target {{.Name}}</h3><table>{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{end}}{{range .Extra}}<h3>{{.Name}}</h3><pre>{{.JSON}}</pre>
{{end}}{{if .Scenario}}<h2>Scenario as run</h2>
<pre>{{.Scenario}}</pre>{{end}}
</body></html>
`

// HTML renders report.html with every chart embedded, so the file can be
// mailed or attached to a ticket on its own.
func (o *doc) HTML() ([]byte, error) {
	t, err := template.New("report").Funcs(template.FuncMap{
		"png": func(b []byte) template.URL {
			return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
		},
		"pass":        func(s string) bool { return s == "PASS" },
		"rebuilt":     func() string { return rebuiltNote },
		"drillsIntro": func() string { return drillsIntro },
		"verifyIntro": func() string { return verifyIntro },
		"budgetIntro": func() string { return budgetIntro },
		"causesIntro": func() string { return causesIntro },
	}).Parse(htmlPage)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeDocuments(dir string, d *runData, charts []chartFile) error {
	o := buildDoc(d, charts)
	if err := WriteAtomic(filepath.Join(dir, "report.md"), []byte(o.Markdown())); err != nil {
		return fmt.Errorf("report.md: %w", err)
	}
	h, err := o.HTML()
	if err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	if err := WriteAtomic(filepath.Join(dir, "report.html"), h); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	return nil
}
