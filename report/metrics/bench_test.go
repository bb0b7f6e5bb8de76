package metrics

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lunbench/collect"
	"lunbench/workload"
)

// benchSnapshot is a run's snapshot with an interval ending: two targets ×
// two ops, each with a latency histogram of 10,000 I/Os spread over four
// decades, and the 250 ms slices.
func benchSnapshot() *workload.Snapshot {
	s := &workload.Snapshot{Phase: "p", PhaseCount: 1, Elapsed: time.Minute}
	for _, tg := range []string{"lun0", "lun1"} {
		for _, op := range []workload.Op{workload.Read, workload.Write} {
			h := workload.NewHistogram()
			for i := range 10000 {
				h.RecordValue(int64(50*time.Microsecond) + int64(i)*int64(20*time.Microsecond))
			}
			iv := workload.Interval{Target: tg, Op: op, Ops: 10000, Bytes: 40960000, Hist: h, InFlight: 16,
				Lat: workload.LatencySummary{Mean: 150 * time.Microsecond}}
			s.Intervals = append(s.Intervals, iv)
			iv.Hist = nil
			s.Slices = append(s.Slices, iv)
		}
	}
	return s
}

// BenchmarkAddInterval is the exporter's cost per snapshot that closes an
// interval (once a second at the default interval): the aggregator's
// goroutine pays it, no worker does.
func BenchmarkAddInterval(b *testing.B) {
	x := New(nil)
	s := benchSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		x.Add(s)
	}
}

// BenchmarkAddSlice is the cost of the other three snapshots a second
// (slices only).
func BenchmarkAddSlice(b *testing.B) {
	x := New(nil)
	s := benchSnapshot()
	s.Intervals = nil
	b.ReportAllocs()
	for b.Loop() {
		x.Add(s)
	}
}

// BenchmarkScrape is one scrape of /metrics: gathering and encoding every
// series (two targets × two ops, six devices, the Go runtime's).
func BenchmarkScrape(b *testing.B) {
	x := New(nil)
	x.Add(benchSnapshot())
	var rows []collect.DiskStat
	for _, d := range []string{"dm-3", "sdb", "sdc", "dm-4", "sdd", "sde"} {
		rows = append(rows, collect.DiskStat{Device: d, Target: "lun0", Role: collect.RolePath, RPS: 1000, WPS: 500})
	}
	x.AddDiskStats(rows)
	h := promhttp.HandlerFor(x.Registry(), promhttp.HandlerOpts{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}
