package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"lunbench/collect"
	"lunbench/workload"
)

// TestExporter feeds a snapshot, events and diskstats as a run would and
// reads the metrics back as Prometheus text.
func TestExporter(t *testing.T) {
	x := New(map[string]string{"lun0": "/dev/mapper/mpatha"})
	h := workload.NewHistogram()
	h.RecordValues(int64(300*time.Microsecond), 90) // under the 500 µs bound
	h.RecordValues(int64(3*time.Millisecond), 10)   // under 5 ms
	t0 := time.Unix(1000, 0)
	x.Add(&workload.Snapshot{Phase: "p", PhaseIndex: 0, PhaseCount: 2, Elapsed: 3 * time.Second,
		Intervals: []workload.Interval{{Start: t0, End: t0.Add(time.Second), Target: "lun0", Op: workload.Read, Ops: 100, Bytes: 409600,
			Errors: 1, Lat: workload.LatencySummary{Mean: time.Millisecond}, Hist: h}},
		Slices: []workload.Interval{{Target: "lun0", Op: workload.Read, InFlight: 8}},
		Stalls: []workload.StallState{{Target: "lun0", For: 1500 * time.Millisecond, InFlight: 8}}})
	x.Event(workload.Event{Kind: workload.EvPathState, Path: "sdc", Detail: "sdc running→transport-offline"})
	x.Event(workload.Event{Kind: workload.EvDrillInject})
	x.Event(workload.Event{Kind: workload.EvStallEnd, Target: "lun0"})
	x.AddDiskStats([]collect.DiskStat{{Target: "/dev/mapper/mpatha", Device: "dm-3", Role: collect.RoleLUN, RPS: 100, RkBPS: 400, RAwait: 2, AquSz: 1.5, Util: 50, InFlight: 8}})
	x.SetVerdict("FAIL errors == 0", true)

	want := `
# HELP lunbench_io_ops_total I/Os completed, per target and op (ramp included).
# TYPE lunbench_io_ops_total counter
lunbench_io_ops_total{op="read",target="lun0"} 100
# HELP lunbench_io_latency_seconds I/O latency, measured per I/O from the intended start (HDR histogram, rebinned).
# TYPE lunbench_io_latency_seconds histogram
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="5e-05"} 0
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.0001"} 0
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.0002"} 0
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.0005"} 90
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.001"} 90
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.002"} 90
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.005"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.01"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.02"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.05"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.1"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.2"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="0.5"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="1"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="2"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="5"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="10"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="20"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="30"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="60"} 100
lunbench_io_latency_seconds_bucket{op="read",target="lun0",le="+Inf"} 100
lunbench_io_latency_seconds_sum{op="read",target="lun0"} 0.1
lunbench_io_latency_seconds_count{op="read",target="lun0"} 100
# HELP lunbench_stall_age_seconds How long the stall in progress has lasted; 0 with none.
# TYPE lunbench_stall_age_seconds gauge
lunbench_stall_age_seconds{target="lun0"} 1.5
# HELP lunbench_path_state 1 for a path device's current SCSI or multipath state.
# TYPE lunbench_path_state gauge
lunbench_path_state{device="sdc",state="transport-offline"} 1
# HELP lunbench_device_queue_length iostat aqu-sz: the mean number of requests queued or in service.
# TYPE lunbench_device_queue_length gauge
lunbench_device_queue_length{device="dm-3",role="lun",target="lun0"} 1.5
# HELP lunbench_device_read_await_seconds iostat r_await.
# TYPE lunbench_device_read_await_seconds gauge
lunbench_device_read_await_seconds{device="dm-3",role="lun",target="lun0"} 0.002
# HELP lunbench_drill_active 1 between a drill's inject and its recovery.
# TYPE lunbench_drill_active gauge
lunbench_drill_active 1
# HELP lunbench_stalls_total Stalls that ended.
# TYPE lunbench_stalls_total counter
lunbench_stalls_total{target="lun0"} 1
# HELP lunbench_verdict_failing 1 once a pass/fail rule that can only get worse is broken (the verdict so far), 0 while none is.
# TYPE lunbench_verdict_failing gauge
lunbench_verdict_failing 1
`
	names := []string{"lunbench_io_ops_total", "lunbench_io_latency_seconds", "lunbench_stall_age_seconds", "lunbench_path_state",
		"lunbench_device_queue_length", "lunbench_device_read_await_seconds", "lunbench_drill_active", "lunbench_stalls_total", "lunbench_verdict_failing"}
	if err := testutil.CollectAndCompare(x, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(x.Registry()); err != nil || n < 20 {
		t.Errorf("registry gathers %d series (%v): want the exporter's and the Go runtime's", n, err)
	}
}

// TestCountSlices: in a watch the counters come from the slices
// (diskstats deltas), and there is no latency histogram to serve.
func TestCountSlices(t *testing.T) {
	x := New(nil)
	x.CountSlices()
	for range 3 {
		x.Add(&workload.Snapshot{Slices: []workload.Interval{{Target: "sdb", Op: workload.Read, Ops: 250, Bytes: 1 << 20, InFlight: 4}}})
	}
	want := `
# HELP lunbench_io_ops_total I/Os completed, per target and op (ramp included).
# TYPE lunbench_io_ops_total counter
lunbench_io_ops_total{op="read",target="sdb"} 750
# HELP lunbench_io_bytes_total Bytes transferred by completed I/Os.
# TYPE lunbench_io_bytes_total counter
lunbench_io_bytes_total{op="read",target="sdb"} 3.145728e+06
`
	if err := testutil.CollectAndCompare(x, strings.NewReader(want), "lunbench_io_ops_total", "lunbench_io_bytes_total", "lunbench_io_latency_seconds"); err != nil {
		t.Error(err)
	}
}
