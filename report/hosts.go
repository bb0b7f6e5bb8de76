package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"lunbench/workload"
)

// A run over several hosts (package remote) records its hosts and the
// all-hosts aggregates in run.json's extra; these mirror what it writes
// (remote.HostSummary, remote.Aggregate), as report cannot import remote.
type docHostJSON struct {
	Name   string `json:"name"`
	SSH    string `json:"ssh"`
	Status string `json:"status"`
	Clock  struct {
		Offset      time.Duration `json:"offset_ns"`
		Uncertainty time.Duration `json:"uncertainty_ns"`
	} `json:"clock"`
	DataEnd  time.Time `json:"data_end"`
	Error    string    `json:"error"`
	Targets  []string  `json:"targets"`
	PreErr   int       `json:"preflight_errors"`
	PreWarn  int       `json:"preflight_warnings"`
	BytesIn  int64     `json:"protocol_bytes_in"`
	BytesOut int64     `json:"protocol_bytes_out"`
}

type docAggregateJSON struct {
	Phase       string                  `json:"phase"`
	Op          workload.Op             `json:"op"`
	Hosts       []string                `json:"hosts"`
	IOPS        float64                 `json:"iops"`
	BytesPerSec float64                 `json:"bytes_per_sec"`
	Errors      uint64                  `json:"errors"`
	Lat         workload.LatencySummary `json:"latency"`
}

// docHosts is the "Hosts" section of a run over several hosts: each
// host's status and clock, every phase over all hosts (exact merged
// percentiles), and each drill's effect host by host. Nil for a run on one
// host.
type docHosts struct {
	Intro  string
	Tables []docHostTable
}

// docHostTable is one table of the section; Title "" for the first.
type docHostTable struct {
	Title, Intro string
	Head         []string
	Rows         [][]string
}

func hostsSection(r *RunJSON, t0 time.Time) *docHosts {
	raw, ok := r.Extra["hosts"]
	if !ok {
		return nil
	}
	out := &docHosts{Intro: "Each host's own results are in hosts/NAME/, laid out as a run on one host. Times are on this machine's clock; each host's offset was measured over its channel (± half the fastest round trip)."}
	var hosts []docHostJSON
	if err := json.Unmarshal(raw, &hosts); err != nil {
		out.Intro = "run.json's extra.hosts cannot be read: " + err.Error()
		return out
	}
	hostOf := map[string]string{}
	tb := docHostTable{Head: []string{"host", "ssh", "status", "targets", "clock offset", "data ends", "preflight errors / warnings", "note"}}
	for _, h := range hosts {
		for _, tg := range h.Targets {
			hostOf[tg] = h.Name
		}
		end := "-"
		if !h.DataEnd.IsZero() {
			end = Clock(h.DataEnd.Sub(t0))
		}
		clock := "-" // never measured
		if h.Clock.Uncertainty > 0 {
			clock = fmt.Sprintf("%s ± %s", signedLat(h.Clock.Offset), Lat(h.Clock.Uncertainty))
		}
		tb.Rows = append(tb.Rows, []string{h.Name, orDash(h.SSH), h.Status, strings.Join(h.Targets, ", "), clock, end,
			fmt.Sprintf("%d / %d", h.PreErr, h.PreWarn), orDash(h.Error)})
	}
	out.Tables = append(out.Tables, tb)
	var aggs []docAggregateJSON
	if json.Unmarshal(r.Extra["aggregate"], &aggs) == nil && len(aggs) > 0 {
		tb := docHostTable{Title: "All hosts together",
			Intro: "Every target of every host per phase × op; the latency histograms are added bucket by bucket, so these are true percentiles of all I/Os.",
			Head:  []string{"phase", "op", "hosts", "IOPS", "MiB/s", "p50", "p99", "p99.9", "max", "errors"}}
		for _, a := range aggs {
			tb.Rows = append(tb.Rows, []string{a.Phase, a.Op.String(), strings.Join(a.Hosts, ", "), fmt.Sprintf("%.0f", a.IOPS),
				fmt.Sprintf("%.1f", a.BytesPerSec/(1<<20)), Lat(a.Lat.P50), Lat(a.Lat.P99), Lat(a.Lat.P999), Lat(a.Lat.Max), fmt.Sprint(a.Errors)})
		}
		out.Tables = append(out.Tables, tb)
	}
	if len(r.Drills) > 0 {
		tb := docHostTable{Title: "Drills, host by host", Intro: "Who stalled, for how long, and who lost writes.",
			Head: []string{"phase", "drill", "host", "target", "stall", "resume", "errors", "lost writes"}}
		for _, d := range r.Drills {
			for _, tg := range d.Targets {
				stall, resume := "no", "-"
				if tg.Stalled {
					stall = Lat(tg.Stall)
					if tg.Resumed {
						resume = signedLat(tg.Resume)
					}
				}
				tb.Rows = append(tb.Rows, []string{d.Phase, d.Name, orDash(hostOf[tg.Target]), tg.Target, stall, resume,
					fmt.Sprint(tg.Errors), lostAfter(r, d.Name, tg.Target)})
			}
		}
		out.Tables = append(out.Tables, tb)
	}
	return out
}

// markdownHosts writes the section, if any.
func (o *doc) markdownHosts(b *strings.Builder) {
	if o.Hosts == nil {
		return
	}
	b.WriteString("## Hosts\n\n" + mdCell(o.Hosts.Intro) + "\n\n")
	for _, t := range o.Hosts.Tables {
		if t.Title != "" {
			fmt.Fprintf(b, "### %s\n\n%s\n\n", t.Title, mdCell(t.Intro))
		}
		mdTable(b, t.Head, t.Rows)
	}
}

// hostsHTML is the section in report.html.
const hostsHTML = `{{with .Hosts}}<h2>Hosts</h2>
<p>{{.Intro}}</p>
{{range .Tables}}{{if .Title}}<h3>{{.Title}}</h3>
<p>{{.Intro}}</p>
{{end}}<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{end}}`

// lostAfter is the lost writes the verify pass after a drill found on a
// target, "-" when none ran.
func lostAfter(r *RunJSON, drill, target string) string {
	for _, v := range r.Verify {
		if v.Target == target && v.When == "drill "+drill {
			return fmt.Sprint(v.Counts["lost"])
		}
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
