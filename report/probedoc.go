package report

import (
	"encoding/json"
	"fmt"
	"strings"

	"lunbench/iscsi/probe"
)

// docProbe is one target's probe (the probe: block) recorded with the run.
type docProbe struct {
	Target, Summary string
	// Logins: portal, initiator, login, expected, result.
	Logins [][]string
	// LUs: portal, LUN, vendor, product, serial, WWID, capacity.
	LUs [][]string
	// Latency: portal, pings, min, p50, p99.
	Latency  [][]string
	Findings []docPreflightFinding
}

// loginWatchRows reads run.json's login watches (drills with probe_login):
// phase, drill, target, portal, logins failed, back after.
func loginWatchRows(r *RunJSON) [][]string {
	raw, ok := r.Extra[probe.LoginWatchKey]
	if !ok {
		return nil
	}
	var ws []probe.LoginWatch
	if err := json.Unmarshal(raw, &ws); err != nil {
		return [][]string{{"", "", "", "", "", "", "", "cannot be read: " + err.Error()}}
	}
	var rows [][]string
	for _, w := range ws {
		back := "never"
		switch {
		case w.Failures == 0:
			back = "no login failed"
		case w.Recovered:
			back = Lat(w.Back)
		}
		note := w.Note
		if !w.Recovered && w.LastError != "" {
			note = strings.TrimSpace(note + " last: " + w.LastError)
		}
		rows = append(rows, []string{w.Phase, w.Drill, w.Target, w.Portal, fmt.Sprintf("%d of %d", w.Failures, w.Attempts), back, Lat(w.Slowest), note})
	}
	return rows
}

// probeDocs reads run.json's probes for the documents; note says why there
// are none.
func probeDocs(r *RunJSON) (out []docProbe, note string) {
	raw, ok := r.Extra[probe.RunJSONKey]
	if !ok {
		return nil, "No target probe ran: no target has a probe: block."
	}
	var recs []probe.Recorded
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, "The probe recorded with this run cannot be read: " + err.Error()
	}
	for _, rec := range recs {
		if rec.Result == nil {
			continue
		}
		d := docProbe{Target: rec.Target, Summary: rec.Result.Summary.Text}
		for _, t := range rec.Result.Targets {
			for _, pr := range t.Portals {
				probePortalRows(&d, t.IQN, pr)
			}
		}
		for _, f := range rec.Result.Findings {
			where := f.Where
			if len(f.Others) > 0 {
				where += " (and " + strings.Join(f.Others, ", ") + ")"
			}
			d.Findings = append(d.Findings, docPreflightFinding{Severity: string(f.Severity), Check: f.Check,
				Target: rec.Target, Where: where, Found: f.Found, Why: f.Why, Fix: f.Fix})
		}
		out = append(out, d)
	}
	return out, ""
}

func probePortalRows(d *docProbe, iqn string, pr probe.PortalResult) {
	at := pr.Portal + " " + iqn
	for _, l := range pr.Logins {
		res := "accepted"
		if !l.Accepted {
			res = "refused: " + l.Error
		}
		d.Logins = append(d.Logins, []string{at, l.Initiator, l.Auth, l.Expected, res})
	}
	for _, lu := range pr.LUs {
		if lu.Bytes == 0 {
			continue // a controller LUN
		}
		d.LUs = append(d.LUs, []string{at, fmt.Sprint(lu.LUN), lu.Vendor, lu.Product, lu.Serial, lu.WWID, probe.FormatBytes(lu.Bytes)})
	}
	if l := pr.Latency; l != nil {
		d.Latency = append(d.Latency, []string{pr.Portal, fmt.Sprint(l.N), Lat(l.Min), Lat(l.P50), Lat(l.P99)})
	}
}

func (o *doc) markdownProbes(b *strings.Builder) {
	b.WriteString("## Target probe\n\n")
	if o.ProbeNote != "" {
		b.WriteString(o.ProbeNote + "\n\n")
		return
	}
	if len(o.LoginWatches) > 0 {
		b.WriteString("Logins during drills (probe_login): inject to the first login the portal accepted again, the target's own recovery.\n\n")
		mdTable(b, []string{"phase", "drill", "target", "portal", "logins failed", "back after", "slowest login", "note"}, o.LoginWatches)
	}
	for _, p := range o.Probes {
		fmt.Fprintf(b, "### %s\n\n**%s**\n\n", mdCell(p.Target), mdCell(p.Summary))
		mdTable(b, []string{"portal and target", "initiator", "login", "expected", "result"}, p.Logins)
		if len(p.LUs) > 0 {
			mdTable(b, []string{"portal and target", "LUN", "vendor", "product", "serial", "WWID", "capacity"}, p.LUs)
		}
		if len(p.Latency) > 0 {
			mdTable(b, []string{"portal", "NOP-Out pings", "min", "p50", "p99"}, p.Latency)
		}
		var rows [][]string
		for _, f := range p.Findings {
			rows = append(rows, []string{f.Severity, f.Check, f.Where, f.Found, f.Why, f.Fix})
		}
		if len(rows) > 0 {
			mdTable(b, []string{"severity", "check", "where", "found", "why it matters", "fix"}, rows)
		}
	}
}

const htmlProbes = `<h2>Target probe</h2>
{{if .ProbeNote}}<p>{{.ProbeNote}}</p>{{end}}
{{if .LoginWatches}}<p>Logins during drills (probe_login): inject to the first login the portal accepted again, the target's own recovery.</p>
<table><tr><th>phase</th><th>drill</th><th>target</th><th>portal</th><th>logins failed</th><th>back after</th><th>slowest login</th><th>note</th></tr>
{{range .LoginWatches}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{range .Probes}}<h3>{{.Target}}</h3><p><b>{{.Summary}}</b></p>
<table><tr><th>portal and target</th><th>initiator</th><th>login</th><th>expected</th><th>result</th></tr>
{{range .Logins}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .LUs}}<table><tr><th>portal and target</th><th>LUN</th><th>vendor</th><th>product</th><th>serial</th><th>WWID</th><th>capacity</th></tr>
{{range .LUs}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .Latency}}<table><tr><th>portal</th><th>NOP-Out pings</th><th>min</th><th>p50</th><th>p99</th></tr>
{{range .Latency}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .Findings}}<table><tr><th>severity</th><th>check</th><th>where</th><th>found</th><th>why it matters</th><th>fix</th></tr>
{{range .Findings}}<tr><td class="{{if eq .Severity "error"}}bad{{end}}">{{.Severity}}</td><td>{{.Check}}</td><td>{{.Where}}</td><td>{{.Found}}</td><td>{{.Why}}</td><td>{{.Fix}}</td></tr>
{{end}}</table>{{end}}
{{end}}`
