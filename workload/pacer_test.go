package workload

import (
	"math"
	"testing"
)

// TestPacer drives the pacer with synthetic completion times.
func TestPacer(t *testing.T) {
	const p = 1000
	cases := []struct {
		name         string
		now          []int64 // time Next is called
		wantIntended []int64
		wantSkipped  []int64
	}{
		{"on time: slots follow the grid", []int64{0, 500, 1500}, []int64{0, 1000, 2000}, []int64{0, 0, 0}},
		{"late less than a period keeps the slot", []int64{0, 1900}, []int64{0, 1000}, []int64{0, 0}},
		{"stall of 10 periods skips 9, no burst", []int64{0, 10_500, 10_600}, []int64{0, 10_000, 11_000}, []int64{0, 9, 0}},
		{"exactly one period late skips one", []int64{0, 2000}, []int64{0, 2000}, []int64{0, 1}},
	}
	for _, c := range cases {
		pc := NewPacer(0, p)
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
