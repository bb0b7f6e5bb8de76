package workload

import (
	"sync"
	"syscall"
	"testing"
	"time"
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
				hist += uint64(c.hist.TotalCount())
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
		sum := summarize(c)
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
		c := &s.op[Read]
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
			backfill(got, tt.v, tt.k, tt.period)
			if !got.Equals(want) {
				t.Fatalf("backfill: count %d max %d, one by one: count %d max %d",
					got.TotalCount(), got.Max(), want.TotalCount(), want.Max())
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
		c := &s.op[Read]
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
