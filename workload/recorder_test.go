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

// TestRecorderSwapConsistent records from one goroutine while another swaps
// as fast as it can: every I/O must land in exactly one slice.
func TestRecorderSwapConsistent(t *testing.T) {
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
		r.swap(take)
	}
	r.swap(take)
	if ops != n || bytes != n*512 || hist != n {
		t.Fatalf("ops %d bytes %d histogram count %d, want %d, %d, %d", ops, bytes, hist, n, n*512, n)
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
