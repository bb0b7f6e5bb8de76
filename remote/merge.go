package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/collect/preflight"
	"lunbench/report"
	"lunbench/workload"
)

// HostsKey and AggregateKey are run.json extra keys of a run over several
// hosts: the hosts' summaries, and each phase × op over every host.
const (
	HostsKey     = "hosts"
	AggregateKey = "aggregate"
)

// Aggregate is one phase × op over every target of every host: its
// histogram is the exact sum of theirs, so its percentiles are true ones.
type Aggregate struct {
	Phase       string                  `json:"phase"`
	Op          workload.Op             `json:"op"`
	Hosts       []string                `json:"hosts"`
	Ops         uint64                  `json:"ops"`
	Bytes       uint64                  `json:"bytes"`
	Errors      uint64                  `json:"errors"`
	IOPS        float64                 `json:"iops"`
	BytesPerSec float64                 `json:"bytes_per_sec"`
	Lat         workload.LatencySummary `json:"latency"`
	Hist        *hdr.Histogram          `json:"-"`
}

// createDirs makes the results directory and each host's under hosts/.
func (c *coordinator) createDirs() error {
	top, err := report.CreateDir(c.opt.Dir)
	if err != nil {
		return err
	}
	c.top = top
	if err := top.WriteScenario(c.sc); err != nil {
		return fmt.Errorf("write scenario.yaml: %w", err)
	}
	for _, h := range c.hosts {
		d, err := report.CreateDir(filepath.Join(c.opt.Dir, "hosts", h.Name))
		if err != nil {
			return err
		}
		h.dir = d
		if err := d.WriteScenario(h.sub); err != nil {
			return fmt.Errorf("host %s: write scenario.yaml: %w", h.Name, err)
		}
	}
	return nil
}

// finish writes each host's run.json and histograms, then the merged
// run.json with the criteria judged on every host's data, and renders.
func (c *coordinator) finish() (*Outcome, error) {
	end := time.Now()
	merged := &workload.Result{Start: c.start, End: end, Seed: c.sc.Seed}
	var sums []HostSummary
	var errs []error
	for _, h := range c.hosts {
		sums = append(sums, c.summary(h))
		run := c.hostRun(h, end)
		if err := h.dir.WriteRun(run); err != nil {
			errs = append(errs, err)
		}
		if r := h.result; r != nil {
			if err := h.dir.WritePhaseHists(r.Phases); err != nil {
				errs = append(errs, err)
			}
			merged.Targets = append(merged.Targets, r.Targets...)
			merged.Phases = append(merged.Phases, r.Phases...)
			merged.Stalls = append(merged.Stalls, r.Stalls...)
			merged.Verify = append(merged.Verify, r.Verify...)
			merged.Steady = append(merged.Steady, r.Steady...)
			merged.Interrupted = merged.Interrupted || r.Interrupted
			merged.PhasesRun = max(merged.PhasesRun, r.PhasesRun)
		}
		h.disk.close()
		errs = append(errs, h.dir.Close())
	}
	c.disk.close()
	merged.Drills = c.mergeDrills()
	merged.Interrupted = merged.Interrupted || c.stopped
	slices.SortStableFunc(merged.Phases, func(a, b workload.PhaseResult) int {
		return c.phaseIx[a.Phase] - c.phaseIx[b.Phase]
	})
	aggs := Aggregates(merged.Phases, c.sc.Targets)
	run := &report.RunJSON{Lunbench: report.Version, Scenario: c.sc.Name, Source: c.sc.Source, Status: "finished",
		Host: report.ThisHost(), Start: c.start, End: end, Seed: c.sc.Seed, IntervalSec: c.sc.Interval.Seconds(),
		Targets: merged.Targets, Phases: merged.Phases, Stalls: merged.Stalls, Drills: merged.Drills,
		Verify: merged.Verify, Steady: merged.Steady, Extra: map[string]json.RawMessage{}}
	b := report.ThisBuild()
	run.Build = &b
	run.Extra[HostsKey], _ = json.Marshal(sums)
	run.Extra[AggregateKey], _ = json.Marshal(aggs)
	run.Criteria = report.Evaluate(c.sc, merged, report.ExtraFor(run))
	run.Verdict = report.VerdictOf(run.Criteria, merged)
	for _, s := range sums {
		if s.Status == "lost" || s.Status == "failed" {
			run.Status, run.Verdict = "failed", report.Error
			run.Error = joinErr(run.Error, fmt.Sprintf("host %s %s: %s", s.Name, s.Status, s.Error))
		}
	}
	if run.Status == "finished" && merged.Interrupted {
		run.Status = "interrupted"
	}
	if err := c.top.WriteRun(run); err != nil {
		errs = append(errs, err)
	}
	if err := c.top.WritePhaseHists(merged.Phases); err != nil {
		errs = append(errs, err)
	}
	if err := writeAggregateHists(c.opt.Dir, aggs); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.top.Close())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if !c.opt.NoRender {
		c.opt.Status("drawing the charts and writing the reports")
		if err := report.Render(c.opt.Dir, report.Options{}); err != nil {
			return nil, fmt.Errorf("report: %w (rebuild with: lunbench report %s)", err, c.opt.Dir)
		}
		for _, h := range c.hosts {
			if h.result != nil {
				report.Render(h.dir.Path, report.Options{})
			}
		}
	}
	return &Outcome{Run: run, Result: merged, Hosts: sums, Interrupted: merged.Interrupted}, nil
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// summary is a host's line in run.json's extra.hosts.
func (c *coordinator) summary(h *host) HostSummary {
	s := HostSummary{Name: h.Name, SSH: h.SSH, Status: h.status, Version: h.version, Arch: h.arch, Clock: h.clock,
		DataEnd: h.lastEnd, LostAt: h.lostAt, Error: h.errText}
	if s.Status == "" {
		s.Status = "unknown"
	}
	for _, t := range h.sub.Targets {
		s.Targets = append(s.Targets, t.Name)
	}
	var pre preflight.Report
	if json.Unmarshal(h.pre, &pre) == nil {
		s.PreflightErrors, s.PreflightWarning = pre.Count(preflight.Error), pre.Count(preflight.Warn)
	}
	if h.conn != nil {
		s.BytesIn, s.BytesOut = h.conn.Received, h.conn.Sent
	}
	return s
}

// hostRun is a host's own run.json, as a run on that host alone would
// have written it (times on the coordinator's timeline).
func (c *coordinator) hostRun(h *host, end time.Time) *report.RunJSON {
	run := &report.RunJSON{Lunbench: report.Version, Scenario: c.sc.Name, Source: c.sc.Source, Status: h.status,
		Start: c.start, End: end, Seed: c.sc.Seed, IntervalSec: c.sc.Interval.Seconds(), Extra: map[string]json.RawMessage{}}
	if h.runHost != nil {
		run.Host = *h.runHost
	}
	if len(h.pre) > 0 {
		run.Extra["preflight"] = h.pre
	}
	sum, _ := json.Marshal(c.summary(h))
	run.Extra["host"] = sum
	if r := h.result; r != nil {
		run.Start, run.End, run.RunID = r.Start, r.End, r.RunID
		run.Targets, run.Phases, run.Stalls, run.Drills = r.Targets, r.Phases, r.Stalls, r.Drills
		run.Verify, run.Steady = r.Verify, r.Steady
	} else if !h.lastEnd.IsZero() {
		run.End = h.lastEnd
	}
	if h.errText != "" {
		run.Error = h.errText
		run.Verdict = report.Error
	}
	return run
}

// mergeDrills puts each drill's hosts together: one result per drill with
// every host's targets, and the command as it ran once for all.
func (c *coordinator) mergeDrills() []workload.DrillResult {
	var out []workload.DrillResult
	idx := map[string]int{}
	for _, h := range c.hosts {
		if h.result == nil {
			continue
		}
		for _, d := range h.result.Drills {
			key := d.Phase + "\x00" + d.Name
			i, ok := idx[key]
			if !ok {
				idx[key] = len(out)
				d.Targets = slices.Clone(d.Targets)
				out = append(out, d)
				continue
			}
			m := &out[i]
			m.Targets = append(m.Targets, d.Targets...)
			m.Injected = m.Injected || d.Injected
			if !d.InjectAt.IsZero() && (m.InjectAt.IsZero() || d.InjectAt.Before(m.InjectAt)) {
				m.InjectAt = d.InjectAt
			}
			if d.WindowEnd.After(m.WindowEnd) {
				m.WindowEnd = d.WindowEnd
			}
		}
	}
	// The command results as the coordinator saw them run.
	for i := range out {
		d := &out[i]
		pi := c.phaseIx[d.Phase]
		for di, dr := range c.sc.Phases[pi].Drills {
			if dr.Name != d.Name {
				continue
			}
			if r, ok := c.drills.results[drillToken(pi, di, "inject")]; ok {
				d.Inject = &r
			}
			if r, ok := c.drills.results[drillToken(pi, di, "recover")]; ok {
				d.Recover = &r
				d.RecoverAt = r.Start
			}
		}
	}
	return out
}

// PrintHosts writes the hosts' table of a run's summary: status, clock
// offset and where each host's data ends.
func PrintHosts(w io.Writer, hosts []HostSummary) {
	fmt.Fprintf(w, "%-12s %-11s %-22s %-12s %s\n", "host", "status", "clock offset", "data ends", "note")
	for _, h := range hosts {
		end := "-"
		if !h.DataEnd.IsZero() {
			end = h.DataEnd.UTC().Format("15:04:05.000")
		}
		fmt.Fprintf(w, "%-12s %-11s %-22s %-12s %s\n", h.Name, h.Status,
			fmt.Sprintf("%+v ± %v", h.Clock.Offset.Round(time.Microsecond), h.Clock.Uncertainty.Round(time.Microsecond)), end, h.Error)
	}
}
