package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
)

// compareDocRow is one figure across the runs as compare.md and
// compare.html show it.
type compareDocRow struct {
	Phase, Target, Op, Metric, Base string
	Others                          []compareDocCell
}

type compareDocCell struct {
	Value, Change, Mark string
	Regression, Better  bool
}

// compareDoc prepares what both documents show.
type compareDoc struct {
	Title, Verdict string
	Failed         bool
	Runs           []ComparedRun
	Labels         []string // B, C, ...
	Base           string
	Threshold      string
	Rows           []compareDocRow
	NotCompared    []NotCompared
	Charts         []chartFile
}

func (c *Comparison) doc() *compareDoc {
	o := &compareDoc{Title: "lunbench compare", Verdict: c.Verdict(), Failed: c.Regressions > 0, Runs: c.Runs,
		Base: c.Runs[0].Label, Threshold: trimFloat(c.Threshold*100, 2) + "%", NotCompared: c.NotCompared, Charts: c.chartFiles}
	for _, r := range c.Runs[1:] {
		o.Labels = append(o.Labels, r.Label)
	}
	for _, row := range c.Rows {
		op := row.Op
		if op == "" {
			op = "all"
		}
		dr := compareDocRow{Phase: row.Phase, Target: row.Target, Op: op, Metric: row.Metric, Base: row.formatValue(row.Cells[0])}
		for _, cell := range row.Cells[1:] {
			ch, mark := row.formatChange(cell, row.Cells[0])
			dr.Others = append(dr.Others, compareDocCell{Value: row.formatValue(cell), Change: ch, Mark: mark,
				Regression: cell.Regression, Better: cell.Improvement})
		}
		o.Rows = append(o.Rows, dr)
	}
	return o
}

// Markdown renders compare.md: the runs, the table with regressions in
// bold, what was not compared, the verdict and the charts by file name.
func (c *Comparison) Markdown() string {
	o := c.doc()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", o.Title)
	mark := "✅"
	if o.Failed {
		mark = "❌"
	}
	fmt.Fprintf(&b, "> %s **%s**\n\n", mark, o.Verdict)
	fmt.Fprintf(&b, "Regression threshold %s against the baseline %s.\n\n", o.Threshold, o.Base)
	var runs [][]string
	for i, r := range o.Runs {
		role := ""
		if i == 0 {
			role = "baseline"
		}
		start := ""
		if !r.Start.IsZero() {
			start = r.Start.UTC().Format("2006-01-02 15:04:05Z")
		}
		runs = append(runs, []string{r.Label, role, r.Dir, r.Scenario, start, r.Status})
	}
	mdTable(&b, []string{"run", "", "directory", "scenario", "start", "status"}, runs)
	head := []string{"phase", "target", "op", "metric", o.Base}
	for _, l := range o.Labels {
		head = append(head, l, l+" vs "+o.Base)
	}
	var rows [][]string
	for _, r := range o.Rows {
		line := []string{r.Phase, r.Target, r.Op, r.Metric, r.Base}
		for _, cell := range r.Others {
			ch := cell.Change
			switch {
			case cell.Regression:
				ch = "**" + ch + " REGRESSION**"
			case cell.Better:
				ch += " better"
			}
			line = append(line, cell.Value, ch)
		}
		rows = append(rows, line)
	}
	mdTable(&b, head, rows)
	if len(o.NotCompared) > 0 {
		b.WriteString("## Not compared\n\nA phase × target × op some runs do not have.\n\n")
		for _, n := range o.NotCompared {
			fmt.Fprintf(&b, "- %s %s %s: in %s, missing in %s\n", n.Phase, n.Target, n.Op, strings.Join(n.In, ", "), strings.Join(n.NotIn, ", "))
		}
		b.WriteString("\n")
	}
	if len(o.Charts) > 0 {
		b.WriteString("## Charts\n\nDotted lines are each run's mean over the phase; the label gives the change against the baseline, in red where it is a regression.\n\n")
		for _, ch := range o.Charts {
			fmt.Fprintf(&b, "![%s](%s)\n\n", ch.Title, ch.File)
		}
	}
	return b.String()
}

// HTML renders compare.html, self-contained (charts embedded).
func (c *Comparison) HTML() ([]byte, error) {
	t, err := template.New("compare").Funcs(template.FuncMap{
		"png": func(b []byte) template.URL {
			return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
		},
	}).Parse(compareHTML)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, c.doc()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const compareHTML = pageHead + `.PASS{background:#2e7d32}.FAIL{background:#c62828}
td.bad{color:#fff;background:#c62828;font-weight:bold}td.good{color:#2e7d32;font-weight:bold}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}.chart{overflow-x:auto}.chart img{cursor:zoom-in}
.chart img.full{max-width:none;cursor:zoom-out}.hint{color:#666;font-size:0.9em}
</style></head><body>
<h1>{{.Title}}</h1>
<div class="banner {{if .Failed}}FAIL{{else}}PASS{{end}}">{{.Verdict}}</div>
<p>Regression threshold {{.Threshold}} against the baseline {{.Base}}.</p>
<table><tr><th>run</th><th></th><th>directory</th><th>scenario</th><th>start</th><th>status</th></tr>
{{range $i, $r := .Runs}}<tr><td>{{$r.Label}}</td><td>{{if eq $i 0}}baseline{{end}}</td><td>{{$r.Dir}}</td><td>{{$r.Scenario}}</td><td>{{if not $r.Start.IsZero}}{{$r.Start.UTC.Format "2006-01-02 15:04:05Z"}}{{end}}</td><td>{{$r.Status}}</td></tr>
{{end}}</table>
<table><tr><th>phase</th><th>target</th><th>op</th><th>metric</th><th>{{.Base}}</th>{{range .Labels}}<th>{{.}}</th><th>{{.}} vs {{$.Base}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Phase}}</td><td>{{.Target}}</td><td>{{.Op}}</td><td>{{.Metric}}</td><td class="n">{{.Base}}</td>{{range .Others}}<td class="n">{{.Value}}</td><td class="n{{if .Regression}} bad{{else if .Better}} good{{end}}">{{.Change}}{{if .Mark}} {{.Mark}}{{end}}</td>{{end}}</tr>
{{end}}</table>
{{if .NotCompared}}<h2>Not compared</h2><ul>{{range .NotCompared}}<li>{{.Phase}} {{.Target}} {{.Op}}: in {{range .In}}{{.}} {{end}}, missing in {{range .NotIn}}{{.}} {{end}}</li>{{end}}</ul>{{end}}
{{if .Charts}}<h2>Charts</h2>
<p class="hint">Dotted lines are each run's mean over the phase; the label gives the change against the baseline, in red where it is a regression. Click a chart for full size.</p>
{{range .Charts}}<div class="chart"><img alt="{{.Title}}" title="{{.Title}} (click: full size)" src="{{png .PNG}}" onclick="this.classList.toggle('full')"></div>
{{end}}{{end}}
</body></html>
`
