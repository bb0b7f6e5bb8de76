package workload

import (
	"math"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestRecorderAllocsNothing proves the hot path allocates nothing: issuing,
// completing and failing an I/O.
func TestRecorderAllocsNothing(t *testing.T) {
	r := NewRecorder(Read, Write)
	now := int64(0)
	allocs := testing.AllocsPerRun(10000, func() {
		now += 1000
		r.Issue(now)
		r.Done(Read, 4096, 85_000, now+85_000)
		r.Issue(now)
		r.Fail(IOError{Op: Write, Errno: syscall.EIO}, now)
	})
	if allocs != 0 {
		t.Fatalf("recording allocates %.1f times per I/O, want 0", allocs)
	}
}

// TestRecorderSwapConsistent records from one goroutine while another
// collects as fast as it can: every I/O must land in exactly one slice,
// with swap (waiting for a record to end) and with trySwap (leaving a half
// pending when it finds the worker mid-record; swap at the end takes both).
func TestRecorderSwapConsistent(t *testing.T) {
	for _, tc := range []struct {
		name string
		step func(*Recorder, func(*slice))
	}{
		{"swap", (*Recorder).swap},                                        // the phase's last collection
		{"trySwap", func(r *Recorder, fn func(*slice)) { r.trySwap(fn) }}, // every tick
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(Read)
			const n = 200_000
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int64(1); i <= n; i++ {
					r.Issue(i)
					r.Done(Read, 512, 2000, i)
				}
			}()
			var ops, bytes, hist uint64
			take := func(s *slice) {
				c := &s.op[Read]
				ops += c.ops
				bytes += c.bytes
				hist += uint64(taken(c).hist.TotalCount())
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for running := true; running; {
				select {
				case <-done:
					running = false
				default:
				}
				tc.step(r, take)
			}
			r.swap(take)
			if ops != n || bytes != n*512 || hist != n {
				t.Fatalf("ops %d bytes %d histogram count %d, want %d, %d, %d", ops, bytes, hist, n, n*512, n)
			}
		})
	}
}

// TestRecorderExactMax keeps a 40 s latency exact although the histogram
// is coarse there, and clamps beyond an hour only in the histogram.
func TestRecorderExactMax(t *testing.T) {
	r := NewRecorder(Write)
	r.Done(Write, 4096, int64(40*time.Second+123*time.Microsecond), 1)
	r.Done(Write, 4096, int64(2*time.Hour), 2)
	r.Done(Write, 4096, 900, 3)
	r.swap(func(s *slice) {
		c := &s.op[Write]
		if c.latMax != int64(2*time.Hour) || c.latMin != 900 {
			t.Fatalf("max %v min %v", time.Duration(c.latMax), time.Duration(c.latMin))
		}
		sum := summarize(taken(c))
		if sum.Max != 2*time.Hour || sum.P50 < 40*time.Second-40*time.Millisecond || sum.P50 > 40*time.Second+40*time.Millisecond {
			t.Fatalf("summary %+v", sum)
		}
	})
}

// TestRecorderMissedBackfill charges the slots a stall skipped with the
// latency they would have seen, counting down by one period each.
func TestRecorderMissedBackfill(t *testing.T) {
	r := NewRecorder(Read)
	period := int64(10 * time.Millisecond)
	r.Done(Read, 4096, int64(1*time.Second), 1)
	r.Missed(Read, 99, int64(1*time.Second)+99*period, period)
	r.swap(func(s *slice) {
		c := taken(&s.op[Read])
		if c.ops != 1 || c.missed != 99 || c.hist.TotalCount() != 100 {
			t.Fatalf("ops %d missed %d hist %d", c.ops, c.missed, c.hist.TotalCount())
		}
		if p := c.hist.ValueAtPercentile(100); p < int64(1980*time.Millisecond) {
			t.Fatalf("worst backfilled latency %v, want about 1.99s", time.Duration(p))
		}
	})
}

// TestBackfillMatchesOneByOne checks the bucket-at-a-time backfill
// against recording every skipped slot, the way Missed used to.
func TestBackfillMatchesOneByOne(t *testing.T) {
	tests := []struct {
		name         string
		v, k, period int64
	}{
		// A 2 s stall at 100 IOPS: a couple of hundred slots.
		{"short stall", int64(2 * time.Second), 199, int64(10 * time.Millisecond)},
		// More slots than positive values: the tail below 0 is dropped.
		{"k past zero", int64(time.Millisecond), 5000, int64(time.Microsecond)},
		// A stall longer than the histogram's top: the head is clamped.
		{"above the top", int64(time.Hour) + int64(5*time.Second), 700, int64(10 * time.Millisecond)},
		// A period of 1 ns over 3 ms: every bucket is hit many times.
		{"1 ns period", int64(3 * time.Millisecond), int64(3 * time.Millisecond), 1},
		// Periods wider than the values' spacing in every bucket.
		{"wide period", int64(40 * time.Second), 3, int64(13 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got := NewHistogram(), NewHistogram()
			for i := int64(0); i < tt.k; i++ {
				v := tt.v - i*tt.period
				if v <= 0 {
					break
				}
				_ = want.RecordValue(min(v, histHighest))
			}
			backfill(got, newBucketGeometry(got), tt.v, tt.k, tt.period)
			if !got.Equals(want) {
				t.Fatalf("backfill: count %d max %d, one by one: count %d max %d",
					got.TotalCount(), got.Max(), want.TotalCount(), want.Max())
			}
			// The same into a worker's latCounts, drained.
			l, drained := newLatCounts(), NewHistogram()
			backfill(l, l.geometry(), tt.v, tt.k, tt.period)
			l.drainInto(drained)
			if !drained.Equals(want) {
				t.Fatalf("backfill into latCounts: count %d max %d, one by one: count %d max %d",
					drained.TotalCount(), drained.Max(), want.TotalCount(), want.Max())
			}
		})
	}
}

// TestMissedHugeCount is the hostile case of issue 11: a 1 ns pace after
// an hour-long stall skips 3.6e12 slots. Counting them one by one spun for
// hours; this must return at once (the test's timeout is the bound).
func TestMissedHugeCount(t *testing.T) {
	r := NewRecorder(Read)
	k := int64(time.Hour)
	r.Missed(Read, k, int64(time.Hour)+int64(time.Second), 1)
	r.swap(func(s *slice) {
		c := taken(&s.op[Read])
		// Values from 1h+1s down to 1 ns, one per ns: k of them are > 0.
		if c.missed != uint64(k) || c.hist.TotalCount() != k {
			t.Fatalf("missed %d hist %d, want %d each", c.missed, c.hist.TotalCount(), k)
		}
	})
}

// BenchmarkMissedAfterStall is the cost of accounting a 10 s stall at
// 1e7 IOPS (1e8 slots), bounded by histogram buckets, not by slots.
func BenchmarkMissedAfterStall(b *testing.B) {
	r := NewRecorder(Read)
	b.ReportAllocs()
	for b.Loop() {
		r.Missed(Read, 100_000_000, int64(10*time.Second), 100)
	}
}

func BenchmarkRecordDone(b *testing.B) {
	r := NewRecorder(Read, Write)
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now += 1000
		r.Issue(now)
		r.Done(Read, 4096, 50_000+now%100_000, now)
	}
}

// BenchmarkRecordDoneWhileSwapping measures recording while the collector
// swaps concurrently every 250 µs, as the aggregator does (at 250 ms).
func BenchmarkRecordDoneWhileSwapping(b *testing.B) {
	r := NewRecorder(Read)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.swap(func(*slice) {})
			}
		}
	}()
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now += 1000
		r.Issue(now)
		r.Done(Read, 4096, 50_000, now)
	}
	close(stop)
}

// TestPercentilesExact feeds known latencies through the recorder and checks
// that every percentile the summary reports is within 0.1% of the value
// recorded, from sub-microsecond (zram, NVMe) to multi-second stalls.
func TestPercentilesExact(t *testing.T) {
	for _, lat := range []time.Duration{
		800 * time.Nanosecond,           // below 1 µs: a 1 µs unit could not tell it from 0
		2300 * time.Nanosecond,          // zram QD1 read: read 2.559 µs at the old 512 ns unit
		2600 * time.Nanosecond,          // read 3.071 µs at the old unit (+18%)
		40 * time.Microsecond,           // fast SAN read
		1234 * time.Microsecond,         // spinning disk or busy array
		3 * time.Second,                 // a path failover stall
		40 * time.Second,                // replacement_timeout-scale stall
		59*time.Minute + 59*time.Second, // just under the histogram's top
	} {
		r := NewRecorder(Read)
		for i := range 10_000 {
			r.Done(Read, 4096, int64(lat), int64(i))
		}
		// One outlier above every percentile asked, so the summary's
		// clamp at the exact max cannot hide a bucket's rounding.
		r.Done(Read, 4096, 10*int64(lat), 10_000)
		var s LatencySummary
		r.swap(func(sl *slice) { s = summarize(taken(&sl.op[Read])) })
		for _, p := range []struct {
			name string
			got  time.Duration
		}{{"p50", s.P50}, {"p90", s.P90}, {"p99", s.P99}, {"p99.9", s.P999}, {"p99.99", s.P9999}} {
			if err := math.Abs(float64(p.got-lat)) / float64(lat); err > 0.001 {
				t.Errorf("%v recorded: %s = %v, off by %.3f%% (want within 0.1%%)", lat, p.name, p.got, 100*err)
			}
		}
	}
}

// TestPercentilesOfMix records a known mixture and checks each percentile
// against the exact one of the values fed, within 0.1%.
func TestPercentilesOfMix(t *testing.T) {
	// 10,000 values: 2.3 µs ... spread over one decade, then a tail.
	var vals []int64
	for i := range 9900 {
		vals = append(vals, 2300+int64(i)*23/10) // 2.300 µs .. 25.07 µs
	}
	for i := range 100 {
		vals = append(vals, int64(time.Millisecond)+int64(i)*int64(time.Millisecond)) // 1..100 ms tail
	}
	r := NewRecorder(Read)
	for i, v := range vals {
		r.Done(Read, 4096, v, int64(i))
	}
	slices.Sort(vals)
	var s LatencySummary
	r.swap(func(sl *slice) { s = summarize(taken(&sl.op[Read])) })
	for _, p := range []struct {
		q   float64
		got time.Duration
	}{{50, s.P50}, {90, s.P90}, {99, s.P99}, {99.9, s.P999}, {99.99, s.P9999}} {
		// The nearest-rank percentile, as HdrHistogram defines it.
		want := vals[int(p.q/100*float64(len(vals))+0.5)-1]
		if err := math.Abs(float64(int64(p.got)-want)) / float64(want); err > 0.001 {
			t.Errorf("p%g = %v, want %v within 0.1%% (off by %.3f%%)", p.q, p.got, time.Duration(want), 100*err)
		}
	}
}

// TestNewHistogramLike keeps a histogram's geometry: one read back from an
// old results directory (1 µs lowest) must not be re-bucketed.
func TestNewHistogramLike(t *testing.T) {
	old := hdr.New(1000, int64(time.Hour), 3)
	old.RecordValue(2300)
	h := NewHistogramLike(old)
	h.Merge(old)
	if got, want := h.ValueAtPercentile(50), old.ValueAtPercentile(50); got != want {
		t.Errorf("merged old-geometry p50 = %d, want %d as before", got, want)
	}
	if h.LowestTrackableValue() != 1000 {
		t.Errorf("lowest = %d, want 1000", h.LowestTrackableValue())
	}
	if NewHistogramLike(nil).LowestTrackableValue() != 1 {
		t.Errorf("NewHistogramLike(nil) is not NewHistogram")
	}
}

// TestHistogramRange: the top of the range still holds an hour-long stall
// exactly to 0.1%, and the histogram's size is what recorder.go says.
func TestHistogramRange(t *testing.T) {
	h := NewHistogram()
	if err := h.RecordValue(int64(time.Hour)); err != nil {
		t.Fatalf("1 h: %v", err)
	}
	if got := len(h.Export().Counts); got != 33792 {
		t.Errorf("counts = %d, recorder.go says 33,792", got)
	}
}

// BenchmarkSwapAfterInterval is the collector's cost per worker per tick:
// swapping a recorder's half that holds an interval of latencies, merging
// it into the phase accumulator and clearing it (the clear touches the whole
// counts array, so it grows with the histogram's size).
func BenchmarkSwapAfterInterval(b *testing.B) {
	r := NewRecorder(Read)
	into := opCounts{hist: NewHistogram()}
	b.ReportAllocs()
	for b.Loop() {
		for i := range int64(1000) {
			r.Done(Read, 4096, 20_000+i*37, i)
		}
		r.swap(func(s *slice) { into.merge(&s.op[Read]) })
	}
}

// taken is what the collector makes of a worker's half: its counts with the
// histogram drained into an hdr.Histogram.
func taken(c *opCounts) *opCounts {
	o := &opCounts{hist: NewHistogram()}
	o.merge(c)
	return o
}
