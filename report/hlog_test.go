package report

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/workload"
)

// TestHlogOldGeometry reads an hlog written before 1 ns precision (the
// fixture run1's, recorded with a 1 µs lowest value): it must keep its own
// geometry and report the percentiles it always did, not be re-bucketed
// into the new one (which would move every count to its old bucket's floor).
func TestHlogOldGeometry(t *testing.T) {
	path := filepath.Join("testdata", "run1", "hist", "read-phase_lun1_read.hlog")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := readHlog(f)
	if got == nil || got.TotalCount() == 0 {
		t.Fatalf("%s: nothing read", path)
	}
	if got.LowestTrackableValue() != 1000 {
		t.Fatalf("%s: lowest %d; the fixture is meant to be an old 1 µs file", path, got.LowestTrackableValue())
	}
	// What the report computed before: every interval merged into a
	// histogram of the old bounds.
	f2, _ := os.Open(path)
	defer f2.Close()
	want := hdr.New(1000, int64(time.Hour), 3)
	lr := hdr.NewHistogramLogReader(f2)
	for {
		ih, err := lr.NextIntervalHistogram()
		if err != nil || ih == nil {
			break
		}
		want.Merge(ih)
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		if g, w := got.ValueAtPercentile(q), want.ValueAtPercentile(q); g != w {
			t.Errorf("p%g = %d ns, the old report said %d ns", q, g, w)
		}
	}
}

// TestHlogNanoseconds writes sub-microsecond-precise latencies through a
// results directory and reads them back: the hlog and intervals.csv keep
// each within 0.1%.
func TestHlogNanoseconds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := CreateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := workload.NewHistogram()
	for range 100 {
		h.RecordValue(2300) // zram QD1 read
	}
	h.RecordValue(2600)
	start := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	iv := workload.Interval{Start: start, End: start.Add(time.Second), Phase: "p", Target: "t", Op: workload.Read,
		Ops: 101, Lat: workload.LatencySummary{P50: time.Duration(h.ValueAtPercentile(50)), Max: 2600}, Hist: h}
	d.Add(&workload.Snapshot{Time: start.Add(time.Second), Intervals: []workload.Interval{iv}})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "hist", "p_t_read.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back := readHlog(f)
	if back == nil {
		t.Fatal("hlog not readable")
	}
	within := func(what string, got, want float64) {
		if math.Abs(got-want)/want > 0.001 {
			t.Errorf("%s = %g, want %g within 0.1%%", what, got, want)
		}
	}
	within("hlog p50 (ns)", float64(back.ValueAtPercentile(50)), 2300)
	within("hlog max (ns)", float64(back.Max()), 2600)
	rows, err := ReadIntervals(dir)
	if err != nil || len(rows) != 1 {
		t.Fatalf("intervals.csv: %v, %d rows", err, len(rows))
	}
	within("intervals.csv p50 (µs)", rows[0].P50Us, 2.3)
}
