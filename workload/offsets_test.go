package workload

import (
	"math"
	"testing"
)

// TestSeqOffsetsPartition checks that sequential shares are aligned,
// disjoint, inside the range and cover it.
func TestSeqOffsetsPartition(t *testing.T) {
	cases := []struct {
		base, length, bs int64
		n                int
	}{
		{0, 1 << 20, 4096, 1},            // one worker walks everything
		{0, 1 << 20, 4096, 8},            // even split
		{1 << 20, 100 * 4096, 4096, 7},   // uneven split, range not at 0
		{0, 10 * (1 << 20), 1 << 20, 16}, // fewer blocks than workers
	}
	for _, c := range cases {
		seen := map[int64]int{}
		blocks := c.length / c.bs
		for w := 0; w < c.n; w++ {
			s := NewSeqOffsets(c.base, c.length, c.bs, w, c.n)
			start, end := s.Span()
			for i := int64(0); i < (end-start)/c.bs; i++ {
				o := s.Next()
				if o%c.bs != 0 || o < c.base || o+c.bs > c.base+c.length {
					t.Fatalf("%+v worker %d: offset %d misaligned or outside", c, w, o)
				}
				seen[o]++
			}
			if o := s.Next(); o != start {
				t.Fatalf("%+v worker %d: did not wrap to %d but gave %d", c, w, start, o)
			}
		}
		if int64(len(seen)) != blocks {
			t.Fatalf("%+v: covered %d blocks, want %d", c, len(seen), blocks)
		}
		if int64(c.n) <= blocks {
			for o, k := range seen {
				if k != 1 {
					t.Fatalf("%+v: offset %d issued by %d workers", c, o, k)
				}
			}
		}
	}
}

// TestRandOffsetsUniform draws offsets and checks alignment, range and a
// chi-square goodness of fit against the uniform distribution.
func TestRandOffsetsUniform(t *testing.T) {
	const bins, draws = 64, 640_000
	bs := int64(4096)
	base, length := int64(1<<30), int64(bins*1024)*bs
	g := NewRandOffsets(WorkerRNG(42, 0, 0, 0), base, length, bs)
	var count [bins]float64
	for i := 0; i < draws; i++ {
		o := g.Next()
		if o%bs != 0 || o < base || o >= base+length {
			t.Fatalf("offset %d misaligned or outside [%d,%d)", o, base, base+length)
		}
		count[(o-base)*bins/length]++
	}
	exp := float64(draws) / bins
	chi := 0.0
	for _, c := range count {
		chi += (c - exp) * (c - exp) / exp
	}
	// 63 degrees of freedom: the 99.9th percentile of chi-square is ~103.4.
	if chi > 103.4 || math.IsNaN(chi) {
		t.Fatalf("chi-square %.1f over %d bins: not uniform", chi, bins)
	}
}

// TestWorkerRNGDistinct makes sure workers do not share a stream and the
// same inputs repeat it.
func TestWorkerRNGDistinct(t *testing.T) {
	a, b, a2 := WorkerRNG(7, 0, 0, 0), WorkerRNG(7, 0, 0, 1), WorkerRNG(7, 0, 0, 0)
	x, y, z := a.Uint64(), b.Uint64(), a2.Uint64()
	if x == y || x != z {
		t.Fatalf("streams: %x %x %x", x, y, z)
	}
}

func BenchmarkRandOffsets(b *testing.B) {
	g := NewRandOffsets(WorkerRNG(1, 0, 0, 0), 0, 1<<40, 4096)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.Next()
	}
}
