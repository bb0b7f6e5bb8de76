// Package metrics serves what a run or a watch measures as Prometheus /
// OpenMetrics text, for the monitoring people already have (Prometheus,
// Grafana). It is a sink like the dashboard: it takes the aggregator's
// snapshots, the events and the diskstats samples, never anything from a
// worker, so the I/O hot path does not know it exists.
//
// Names follow Prometheus conventions (base units, _total counters,
// _seconds histograms) and labels stay low-cardinality: target, op,
// device, role, state, kind.
package metrics

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"lunbench/report/livestate"
	"lunbench/workload"
)

// LatencyBuckets are the latency histogram's upper bounds in seconds:
// 50 µs to 60 s, about three a decade, so both a sub-millisecond p99 and a
// 40 s failover stall land in a bucket of their own.
var latencyBuckets = []float64{
	50e-6, 100e-6, 200e-6, 500e-6,
	1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 200e-3, 500e-3,
	1, 2, 5, 10, 20, 30, 60,
}

// key is a target × op.
type key struct {
	target string
	op     workload.Op
}

// ioTotals are the running totals of one target × op.
type ioTotals struct {
	ops, bytes, errors uint64
	inFlight           int
	// hist merges every interval's latency histogram; it is rebinned into
	// the Prometheus buckets at scrape time only. sum is in seconds.
	hist *hdr.Histogram
	sum  float64
}

// Exporter keeps the latest state of a run for scraping. It is a
// workload.Sink and a workload.EventSink; AddDiskStats, SetPathState,
// SetVerdict and SetDrillActive feed it as they feed the dashboard (both
// embed a livestate.State). Its methods are safe for concurrent use: the
// aggregator writes, the HTTP server reads.
type Exporter struct {
	livestate.State

	mu       sync.Mutex
	io       map[key]*ioTotals
	ioOrder  []key
	stalls   map[string]time.Duration
	stallsN  map[string]uint64
	drillN   map[string]uint64
	phase    string
	phaseIdx int
	phases   int
	elapsed  time.Duration
	ramp     bool
	// names maps a target's path to its name (diskstats rows carry the
	// path), so a target has one label value in every metric.
	names map[string]string
	// boundIdx is, per latency bound, the index in an exported
	// histogram's counts of the bucket the bound falls in.
	boundIdx []int
	// fromSlices counts ops and bytes from every snapshot's slices:
	// `watch` has no intervals, its slices are diskstats deltas.
	fromSlices bool
}

// CountSlices makes the exporter count I/Os and bytes from the snapshots'
// slices, as `watch` needs (its snapshots have no intervals and no
// latency histograms, so lunbench_io_latency_seconds stays absent).
func (x *Exporter) CountSlices() {
	x.mu.Lock()
	x.fromSlices = true
	x.mu.Unlock()
}

var (
	_ workload.Sink      = (*Exporter)(nil)
	_ workload.EventSink = (*Exporter)(nil)
)

// New returns an empty Exporter. targets maps each target's name to its
// path (nil for a watch, whose targets are the devices named).
func New(targets map[string]string) *Exporter {
	names := map[string]string{}
	for n, p := range targets {
		names[p] = n
	}
	return &Exporter{io: map[key]*ioTotals{},
		stalls: map[string]time.Duration{}, stallsN: map[string]uint64{}, drillN: map[string]uint64{}, names: names,
		boundIdx: boundIndexes()}
}

// boundIndexes finds where each latency bound lies in the counts of a
// histogram of workload.NewHistogram's geometry: each bound is recorded
// once into an empty one, and the recorded indexes, in order, are the
// bounds' (counts are laid out in increasing value; the bounds are more
// than 3 significant digits apart, so no two share a bucket).
func boundIndexes() []int {
	h := workload.NewHistogram()
	for _, b := range latencyBuckets {
		h.RecordValue(int64(b * 1e9))
	}
	var out []int
	for i, c := range h.Export().Counts {
		if c > 0 {
			out = append(out, i)
		}
	}
	return out
}

// rebin turns exported histogram counts into cumulative counts at or under
// each latency bound (within the histogram's 3 significant digits) and the
// total.
func rebin(counts []int64, boundIdx []int) (cum map[float64]uint64, total uint64) {
	cum = make(map[float64]uint64, len(latencyBuckets))
	j := 0
	for i, c := range counts {
		for j < len(boundIdx) && i > boundIdx[j] {
			cum[latencyBuckets[j]] = total
			j++
		}
		total += uint64(c)
	}
	for ; j < len(boundIdx); j++ {
		cum[latencyBuckets[j]] = total
	}
	return cum, total
}

// Add takes a snapshot: the completed intervals go into the totals and the
// latency histogram (their HDR histogram is read here, while it is valid),
// the last slices give what is in flight, and the stalls in progress
// their age.
func (x *Exporter) Add(s *workload.Snapshot) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.phase, x.phaseIdx, x.phases, x.elapsed, x.ramp = s.Phase, s.PhaseIndex, s.PhaseCount, s.Elapsed, s.Ramp
	for i := range s.Intervals {
		iv := &s.Intervals[i]
		t := x.totals(key{iv.Target, iv.Op})
		t.ops += iv.Ops
		t.bytes += iv.Bytes
		t.errors += iv.Errors
		if iv.Hist != nil {
			// Merging walks the counts without allocating; listing the
			// buckets (Distribution) allocated 1 MB a histogram.
			t.hist.Merge(iv.Hist)
			t.sum += iv.Lat.Mean.Seconds() * float64(iv.Hist.TotalCount())
		}
	}
	for i := range s.Slices {
		sl := &s.Slices[i]
		t := x.totals(key{sl.Target, sl.Op})
		t.inFlight = sl.InFlight
		if x.fromSlices {
			t.ops += sl.Ops
			t.bytes += sl.Bytes
			t.errors += sl.Errors
		}
	}
	clear(x.stalls)
	for _, st := range s.Stalls {
		x.stalls[st.Target] = st.For
	}
}

func (x *Exporter) totals(k key) *ioTotals {
	t := x.io[k]
	if t == nil {
		t = &ioTotals{hist: workload.NewHistogram()}
		x.io[k] = t
		x.ioOrder = append(x.ioOrder, k)
	}
	return t
}

// Event counts stalls and drill events and follows drill, path and
// session states.
func (x *Exporter) Event(e workload.Event) {
	x.Observe(e)
	x.mu.Lock()
	defer x.mu.Unlock()
	switch e.Kind {
	case workload.EvStallEnd:
		x.stallsN[e.Target]++
	case workload.EvDrillInject:
		x.drillN["inject"]++
	case workload.EvDrillRecover:
		x.drillN["recover"]++
	case workload.EvDrillMark:
		x.drillN["mark"]++
	}
}

// Registry returns a registry holding the exporter's metrics and the Go
// runtime's and process's, for promhttp.
func (x *Exporter) Registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(x, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
