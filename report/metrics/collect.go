package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"lunbench/collect"
)

// The metrics' descriptions. Device figures are iostat's columns in base
// units: per second rates, seconds, ratios.
var (
	ioLabels  = []string{"target", "op"}
	devLabels = []string{"device", "target", "role"}

	descOps      = prometheus.NewDesc("lunbench_io_ops_total", "I/Os completed, per target and op (ramp included).", ioLabels, nil)
	descBytes    = prometheus.NewDesc("lunbench_io_bytes_total", "Bytes transferred by completed I/Os.", ioLabels, nil)
	descErrors   = prometheus.NewDesc("lunbench_io_errors_total", "I/Os that failed.", ioLabels, nil)
	descInFlight = prometheus.NewDesc("lunbench_io_in_flight", "I/Os issued and not yet completed, at the last tick.", ioLabels, nil)
	descLatency  = prometheus.NewDesc("lunbench_io_latency_seconds", "I/O latency, measured per I/O from the intended start (HDR histogram, rebinned).", ioLabels, nil)

	descDevReads   = prometheus.NewDesc("lunbench_device_reads_per_second", "iostat r/s of the device over the last sample.", devLabels, nil)
	descDevWrites  = prometheus.NewDesc("lunbench_device_writes_per_second", "iostat w/s.", devLabels, nil)
	descDevRBytes  = prometheus.NewDesc("lunbench_device_read_bytes_per_second", "iostat rkB/s, in bytes.", devLabels, nil)
	descDevWBytes  = prometheus.NewDesc("lunbench_device_write_bytes_per_second", "iostat wkB/s, in bytes.", devLabels, nil)
	descDevRAwait  = prometheus.NewDesc("lunbench_device_read_await_seconds", "iostat r_await.", devLabels, nil)
	descDevWAwait  = prometheus.NewDesc("lunbench_device_write_await_seconds", "iostat w_await.", devLabels, nil)
	descDevQueue   = prometheus.NewDesc("lunbench_device_queue_length", "iostat aqu-sz: the mean number of requests queued or in service.", devLabels, nil)
	descDevUtil    = prometheus.NewDesc("lunbench_device_utilization_ratio", "iostat %util as a ratio (0 to 1).", devLabels, nil)
	descDevInFl    = prometheus.NewDesc("lunbench_device_in_flight", "Requests in flight at the sample (in_flight in sysfs): stays up while a stall holds aqu-sz at 0.", devLabels, nil)
	descPathState  = prometheus.NewDesc("lunbench_path_state", "1 for a path device's current SCSI or multipath state.", []string{"device", "state"}, nil)
	descSessState  = prometheus.NewDesc("lunbench_session_state", "1 for an iSCSI session's or connection's current state.", []string{"session", "state"}, nil)
	descStalled    = prometheus.NewDesc("lunbench_stall_active", "1 while the target has I/O in flight and nothing completing.", []string{"target"}, nil)
	descStallAge   = prometheus.NewDesc("lunbench_stall_age_seconds", "How long the stall in progress has lasted; 0 with none.", []string{"target"}, nil)
	descStalls     = prometheus.NewDesc("lunbench_stalls_total", "Stalls that ended.", []string{"target"}, nil)
	descDrill      = prometheus.NewDesc("lunbench_drill_active", "1 between a drill's inject and its recovery.", nil, nil)
	descDrillEv    = prometheus.NewDesc("lunbench_drill_events_total", "Drill injects, recoveries and manual marks.", []string{"kind"}, nil)
	descPhase      = prometheus.NewDesc("lunbench_phase_info", "1 for the phase running now (ramp: whether it is in its warm-up).", []string{"phase", "ramp"}, nil)
	descPhaseIdx   = prometheus.NewDesc("lunbench_phase_index", "The running phase's number, from 1.", nil, nil)
	descPhaseCount = prometheus.NewDesc("lunbench_phases", "How many phases the run has.", nil, nil)
	descElapsed    = prometheus.NewDesc("lunbench_elapsed_seconds", "Time since the run (or watch) started, at the last snapshot.", nil, nil)
	descFailing    = prometheus.NewDesc("lunbench_verdict_failing", "1 once a pass/fail rule that can only get worse is broken (the verdict so far), 0 while none is.", nil, nil)
)

// Describe sends every metric's description.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOps, descBytes, descErrors, descInFlight, descLatency,
		descDevReads, descDevWrites, descDevRBytes, descDevWBytes, descDevRAwait, descDevWAwait, descDevQueue, descDevUtil, descDevInFl,
		descPathState, descSessState, descStalled, descStallAge, descStalls, descDrill, descDrillEv,
		descPhase, descPhaseIdx, descPhaseCount, descElapsed, descFailing} {
		ch <- d
	}
}

// Collect sends the current values. It copies what it needs under the
// lock and builds the metrics outside it, so a scrape holds the
// aggregator up for no longer than a copy.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	x.mu.Lock()
	type ioRow struct {
		k      key
		t      ioTotals
		counts []int64 // the latency histogram's, exported
	}
	ios := make([]ioRow, 0, len(x.ioOrder))
	for _, k := range x.ioOrder {
		t := *x.io[k]
		ios = append(ios, ioRow{k, t, t.hist.Export().Counts})
	}
	boundIdx := x.boundIdx
	stalls, stallsN, drillN := copyMap(x.stalls), copyMap(x.stallsN), copyMap(x.drillN)
	phase, phaseIdx, phases, elapsed, ramp := x.phase, x.phaseIdx, x.phases, x.elapsed, x.ramp
	x.mu.Unlock()
	f := x.Frame()

	for _, r := range ios {
		lv := []string{r.k.target, r.k.op.String()}
		ch <- prometheus.MustNewConstMetric(descOps, prometheus.CounterValue, float64(r.t.ops), lv...)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(r.t.bytes), lv...)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(r.t.errors), lv...)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(r.t.inFlight), lv...)
		if cum, n := rebin(r.counts, boundIdx); n > 0 {
			ch <- prometheus.MustNewConstHistogram(descLatency, n, r.t.sum, cum, lv...)
		}
	}
	for _, d := range f.Disk {
		// Rows carry a target's path; a target has one label value, its
		// name, in every metric.
		if n, ok := x.names[d.Target]; ok {
			d.Target = n
		}
		collectDevice(ch, d)
	}
	for dev, st := range f.Paths {
		ch <- prometheus.MustNewConstMetric(descPathState, prometheus.GaugeValue, 1, dev, st)
	}
	for s, st := range f.Sessions {
		ch <- prometheus.MustNewConstMetric(descSessState, prometheus.GaugeValue, 1, s, st)
	}
	targets := map[string]bool{}
	for _, r := range ios {
		targets[r.k.target] = true
	}
	for t := range stalls {
		targets[t] = true
	}
	for t := range targets {
		age, on := stalls[t]
		ch <- prometheus.MustNewConstMetric(descStalled, prometheus.GaugeValue, b2f(on), t)
		ch <- prometheus.MustNewConstMetric(descStallAge, prometheus.GaugeValue, age.Seconds(), t)
		ch <- prometheus.MustNewConstMetric(descStalls, prometheus.CounterValue, float64(stallsN[t]), t)
	}
	ch <- prometheus.MustNewConstMetric(descDrill, prometheus.GaugeValue, b2f(f.Drill))
	for _, k := range []string{"inject", "recover", "mark"} {
		ch <- prometheus.MustNewConstMetric(descDrillEv, prometheus.CounterValue, float64(drillN[k]), k)
	}
	if phase != "" {
		ch <- prometheus.MustNewConstMetric(descPhase, prometheus.GaugeValue, 1, phase, strconv.FormatBool(ramp))
		ch <- prometheus.MustNewConstMetric(descPhaseIdx, prometheus.GaugeValue, float64(phaseIdx+1))
		ch <- prometheus.MustNewConstMetric(descPhaseCount, prometheus.GaugeValue, float64(phases))
	}
	ch <- prometheus.MustNewConstMetric(descElapsed, prometheus.GaugeValue, elapsed.Seconds())
	if f.Checked {
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, b2f(f.Failing))
	}
}

// collectDevice sends one device's iostat columns.
func collectDevice(ch chan<- prometheus.Metric, d collect.DiskStat) {
	lv := []string{d.Device, d.Target, string(d.Role)}
	g := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, lv...)
	}
	g(descDevReads, d.RPS)
	g(descDevWrites, d.WPS)
	g(descDevRBytes, d.RkBPS*1024)
	g(descDevWBytes, d.WkBPS*1024)
	g(descDevRAwait, d.RAwait/1e3)
	g(descDevWAwait, d.WAwait/1e3)
	g(descDevQueue, d.AquSz)
	g(descDevUtil, d.Util/100)
	g(descDevInFl, float64(d.InFlight))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func copyMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
