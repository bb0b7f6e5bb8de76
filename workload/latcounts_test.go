package workload

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestLatCountsMatchesHdr records the same values into a latCounts and an
// hdr.Histogram of NewHistogram's geometry: drained, the latCounts must
// equal the histogram bucket for bucket, for values from 0 ns past the top
// (clamped), in ranges that exercise the first bucket, its boundary at
// 2048 and the long tail.
func TestLatCountsMatchesHdr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		lo, hi int64
	}{
		{"first bucket", 0, 2047},   // one-unit buckets
		{"around 2048", 1900, 4200}, // first to second bucket
		{"zram", 1500, 60_000},      // µs latencies
		{"SAN", int64(50 * time.Microsecond), int64(40 * time.Millisecond)}, // ms latencies
		{"stalls", int64(time.Second), 2 * histHighest},                     // up to and past the top
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, want, got := newLatCounts(), NewHistogram(), NewHistogram()
			for range 20_000 {
				v := tc.lo + rng.Int64N(tc.hi-tc.lo+1)
				_ = l.RecordValues(v, 1)
				_ = want.RecordValue(min(v, histHighest))
			}
			l.drainInto(got)
			if !got.Equals(want) {
				t.Fatalf("drained count %d p50 %d max %d; hdr count %d p50 %d max %d", got.TotalCount(),
					got.ValueAtPercentile(50), got.Max(), want.TotalCount(), want.ValueAtPercentile(50), want.Max())
			}
			// Drained means empty: a second drain adds nothing.
			l.drainInto(got)
			if got.TotalCount() != want.TotalCount() {
				t.Fatalf("second drain added %d", got.TotalCount()-want.TotalCount())
			}
		})
	}
}

// TestLatCountsReset empties only what was recorded, and fully.
func TestLatCountsReset(t *testing.T) {
	l := newLatCounts()
	_ = l.RecordValues(5000, 3)
	_ = l.RecordValues(int64(time.Second), 1)
	l.reset()
	for i, n := range l.counts {
		if n != 0 {
			t.Fatalf("counts[%d] = %d after reset", i, n)
		}
	}
	h := NewHistogram()
	l.drainInto(h)
	if h.TotalCount() != 0 {
		t.Fatalf("drain after reset added %d", h.TotalCount())
	}
}
