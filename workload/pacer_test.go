package workload

import (
	"math"
	"testing"
	"time"
)

// TestPacer drives the pacer with synthetic call times. The catch-up
// window is pacerCatchUp (10 ms) for short periods, one period for long.
func TestPacer(t *testing.T) {
	const ms = int64(time.Millisecond)
	cases := []struct {
		name         string
		period       int64
		now          []int64 // time Next is called
		wantIntended []int64
		wantSkipped  []int64
	}{
		// A worker that is never late follows the grid.
		{"on time: slots follow the grid", ms, []int64{0, ms / 2, 3 * ms / 2}, []int64{0, ms, 2 * ms}, []int64{0, 0, 0}},
		// Late by less than a period: the slot is kept, delay charged.
		{"late less than a period keeps the slot", ms, []int64{0, 19 * ms / 10}, []int64{0, ms}, []int64{0, 0}},
		// 5 µs slots, 2 ms behind: within the catch-up window, every
		// slot is issued (back to back) rather than skipped.
		{"behind within the window catches up", 5000, []int64{0, 2 * ms, 2 * ms, 2 * ms}, []int64{0, 5000, 10_000, 15_000}, []int64{0, 0, 0, 0}},
		// A stall of 20 periods of 1 ms is past the 10 ms window: 19
		// slots skipped, then on with the grid, no burst.
		{"stall past the window skips, no burst", ms, []int64{0, 20*ms + ms/2, 20*ms + ms/2}, []int64{0, 20 * ms, 21 * ms}, []int64{0, 19, 0}},
		// Exactly the window behind skips down to the latest slot.
		{"exactly the window behind skips", ms, []int64{0, 11 * ms}, []int64{0, 11 * ms}, []int64{0, 10}},
		// A 1 s period: the window is the period, so 1.9 s keeps the
		// slot and 2 s skips one.
		{"long period: late less than a period keeps", 1000 * ms, []int64{0, 1900 * ms}, []int64{0, 1000 * ms}, []int64{0, 0}},
		{"long period: one period late skips one", 1000 * ms, []int64{0, 2000 * ms}, []int64{0, 2000 * ms}, []int64{0, 1}},
	}
	for _, c := range cases {
		pc := NewPacer(0, c.period)
		for i, now := range c.now {
			in, sk := pc.Next(now)
			if in != c.wantIntended[i] || sk != c.wantSkipped[i] {
				t.Errorf("%s: call %d at %d: intended %d skipped %d, want %d %d", c.name, i, now, in, sk, c.wantIntended[i], c.wantSkipped[i])
			}
		}
	}
}

// TestPoissonPacer checks the gaps of a Poisson pacer: mean the period,
// coefficient of variation 1 and P(gap > period) = 1/e, as exponential
// gaps have; and that the same seed repeats them.
func TestPoissonPacer(t *testing.T) {
	const period, n = 1_000_000, 200_000
	pc := NewPoissonPacer(0, period, WorkerRNG(3, 0, 0, 0))
	again := NewPoissonPacer(0, period, WorkerRNG(3, 0, 0, 0))
	var sum, sq float64
	long := 0
	last := int64(0)
	for i := range n {
		// Call just in time: never behind, so no slot is skipped.
		in, sk := pc.Next(last)
		if in2, _ := again.Next(last); in2 != in {
			t.Fatalf("call %d: %d vs %d with the same seed", i, in, in2)
		}
		if sk != 0 {
			t.Fatalf("call %d skipped %d", i, sk)
		}
		if i > 0 {
			g := float64(in - last)
			sum += g
			sq += g * g
			if g > period {
				long++
			}
		}
		last = in
	}
	mean := sum / (n - 1)
	cv := math.Sqrt(sq/(n-1)-mean*mean) / mean
	if math.Abs(mean/period-1) > 0.01 || math.Abs(cv-1) > 0.02 || math.Abs(float64(long)/(n-1)-1/math.E) > 0.005 {
		t.Errorf("mean gap %.0f (want %d), CV %.3f (want 1), P(gap > mean) %.4f (want %.4f)", mean, period, cv, float64(long)/(n-1), 1/math.E)
	}
}

// BenchmarkPoissonPacer times scheduling one open-loop I/O.
func BenchmarkPoissonPacer(b *testing.B) {
	pc := NewPoissonPacer(0, 1000, WorkerRNG(1, 0, 0, 0))
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		in, _ := pc.Next(now)
		now = in
	}
}
