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

// hostsMarkdown is the "Hosts" section of a run over several hosts: each
// host's status and clock, every phase over all hosts (exact merged
// percentiles), and each drill's effect host by host. "" for a run on one
// host.
func hostsMarkdown(r *RunJSON, t0 time.Time) string {
	raw, ok := r.Extra["hosts"]
	if !ok {
		return ""
	}
	var hosts []docHostJSON
	if err := json.Unmarshal(raw, &hosts); err != nil {
		return "## Hosts\n\nrun.json's extra.hosts cannot be read: " + mdCell(err.Error()) + "\n\n"
	}
	var b strings.Builder
	b.WriteString("## Hosts\n\nEach host's own results are in hosts/NAME/, laid out as a run on one host. Times are on this machine's clock; each host's offset was measured over its channel (± half the fastest round trip).\n\n")
	hostOf := map[string]string{}
	var rows [][]string
	for _, h := range hosts {
		for _, tg := range h.Targets {
			hostOf[tg] = h.Name
		}
		end := "-"
		if !h.DataEnd.IsZero() {
			end = Clock(h.DataEnd.Sub(t0))
		}
		rows = append(rows, []string{h.Name, orDash(h.SSH), h.Status, strings.Join(h.Targets, ", "),
			fmt.Sprintf("%s ± %s", signedLat(h.Clock.Offset), Lat(h.Clock.Uncertainty)), end,
			fmt.Sprintf("%d / %d", h.PreErr, h.PreWarn), orDash(h.Error)})
	}
	mdTable(&b, []string{"host", "ssh", "status", "targets", "clock offset", "data ends", "preflight errors / warnings", "note"}, rows)
	var aggs []docAggregateJSON
	if json.Unmarshal(r.Extra["aggregate"], &aggs) == nil && len(aggs) > 0 {
		b.WriteString("### All hosts together\n\nEvery target of every host per phase × op; the latency histograms are added bucket by bucket, so these are true percentiles of all I/Os.\n\n")
		rows = nil
		for _, a := range aggs {
			rows = append(rows, []string{a.Phase, a.Op.String(), strings.Join(a.Hosts, ", "), fmt.Sprintf("%.0f", a.IOPS),
				fmt.Sprintf("%.1f", a.BytesPerSec/(1<<20)), Lat(a.Lat.P50), Lat(a.Lat.P99), Lat(a.Lat.P999), Lat(a.Lat.Max), fmt.Sprint(a.Errors)})
		}
		mdTable(&b, []string{"phase", "op", "hosts", "IOPS", "MiB/s", "p50", "p99", "p99.9", "max", "errors"}, rows)
	}
	if len(r.Drills) > 0 {
		b.WriteString("### Drills, host by host\n\nWho stalled, for how long, and who lost writes.\n\n")
		rows = nil
		for _, d := range r.Drills {
			for _, tg := range d.Targets {
				stall := "no"
				if tg.Stalled {
					stall = Lat(tg.Stall)
				}
				resume := "-"
				if tg.Stalled && tg.Resumed {
					resume = signedLat(tg.Resume)
				}
				rows = append(rows, []string{d.Phase, d.Name, orDash(hostOf[tg.Target]), tg.Target, stall, resume,
					fmt.Sprint(tg.Errors), lostAfter(r, d.Name, tg.Target)})
			}
		}
		mdTable(&b, []string{"phase", "drill", "host", "target", "stall", "resume", "errors", "lost writes"}, rows)
	}
	return b.String()
}

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
