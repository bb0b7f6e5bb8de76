package remote

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// Aggregates adds up every target's phase results per phase × op. The
// histograms add exactly (the same buckets, counts summed), so the
// aggregate's percentiles are those of one histogram of every I/O.
// Throughput is over the phase's measured duration.
func Aggregates(results []workload.PhaseResult, targets []scenarios.Target) []Aggregate {
	hostOf := map[string]string{}
	for _, t := range targets {
		hostOf[t.Name] = t.HostOf()
	}
	var out []Aggregate
	idx := map[string]int{}
	seconds := map[string]float64{}
	type exact struct{ min, max, sum time.Duration }
	ex := map[string]*exact{}
	for _, r := range results {
		key := fmt.Sprintf("%s\x00%d", r.Phase, r.Op)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Aggregate{Phase: r.Phase, Op: r.Op})
		}
		a := &out[i]
		a.Ops += r.Ops
		a.Bytes += r.Bytes
		a.Errors += r.Errors
		seconds[key] = max(seconds[key], r.Seconds)
		if r.Lat.Count > 0 {
			e := ex[key]
			if e == nil {
				e = &exact{min: r.Lat.Min}
				ex[key] = e
			}
			e.min, e.max = min(e.min, r.Lat.Min), max(e.max, r.Lat.Max)
			e.sum += r.Lat.Mean * time.Duration(r.Lat.Count)
		}
		if r.Hist != nil {
			if a.Hist == nil {
				a.Hist = hdr.New(r.Hist.LowestTrackableValue(), r.Hist.HighestTrackableValue(), int(r.Hist.SignificantFigures()))
			}
			a.Hist.Merge(r.Hist)
		}
	}
	for key, i := range idx {
		a := &out[i]
		if s := seconds[key]; s > 0 {
			a.IOPS, a.BytesPerSec = float64(a.Ops)/s, float64(a.Bytes)/s
		}
		if a.Hist != nil && a.Hist.TotalCount() > 0 {
			a.Lat = summarize(a.Hist)
			// Min, max and mean are exact in every phase result, so they
			// are exact here too; the percentiles never pass the max.
			if e := ex[key]; e != nil {
				a.Lat.Min, a.Lat.Max = e.min, e.max
				a.Lat.Mean = e.sum / time.Duration(a.Lat.Count)
				for _, p := range []*time.Duration{&a.Lat.P50, &a.Lat.P90, &a.Lat.P99, &a.Lat.P999, &a.Lat.P9999} {
					*p = min(*p, e.max)
				}
			}
		}
		for _, r := range results {
			if r.Phase == a.Phase && r.Op == a.Op {
				a.Hosts = appendHost(a.Hosts, r.Target, hostOf)
			}
		}
	}
	return out
}

func appendHost(hosts []string, target string, hostOf map[string]string) []string {
	h := hostOf[target]
	for _, x := range hosts {
		if x == h {
			return hosts
		}
	}
	return append(hosts, h)
}

// summarize is a histogram's latency summary (values in nanoseconds).
func summarize(h *hdr.Histogram) workload.LatencySummary {
	d := func(v int64) time.Duration { return time.Duration(v) }
	return workload.LatencySummary{Count: uint64(h.TotalCount()), Min: d(h.Min()), Mean: time.Duration(h.Mean()),
		Stddev: time.Duration(h.StdDev()), P50: d(h.ValueAtPercentile(50)), P90: d(h.ValueAtPercentile(90)),
		P99: d(h.ValueAtPercentile(99)), P999: d(h.ValueAtPercentile(99.9)), P9999: d(h.ValueAtPercentile(99.99)), Max: d(h.Max())}
}

// writeAggregateHists writes each aggregate's histogram to
// hist/<phase>_all-hosts_<op>.phase.hlog, so the percentiles can be
// recomputed from the files.
func writeAggregateHists(dir string, aggs []Aggregate) error {
	for _, a := range aggs {
		if a.Hist == nil {
			continue
		}
		var b bytes.Buffer
		w := hdr.NewHistogramLogWriter(&b)
		w.OutputLogFormatVersion()
		w.OutputComment(fmt.Sprintf("lunbench %s phase=%s all hosts op=%s, values in nanoseconds", report.Version, a.Phase, a.Op))
		w.OutputLegend()
		a.Hist.SetTag(a.Op.String())
		if err := w.OutputIntervalHistogram(a.Hist); err != nil {
			return err
		}
		name := report.PhaseHlogName(a.Phase, "all-hosts", a.Op)
		if err := report.WriteAtomic(filepath.Join(dir, "hist", name), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
