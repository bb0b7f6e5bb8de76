package workload

import (
	"math"
	"math/rand/v2"
	"testing"

	"lunbench/scenarios"
)

// TestAliasTableExact checks that the alias table gives every bucket
// exactly its share of the mass: the probability a draw lands in bucket i
// is recomputed from keep and alias and compared with mass_i / total.
func TestAliasTableExact(t *testing.T) {
	dists := []*scenarios.Distribution{
		{Kind: scenarios.Zipf, Param: 1.2},
		{Kind: scenarios.Pareto, Param: 0.9},
		{Kind: scenarios.Normal, Param: 10},
		{Kind: scenarios.Hot, Bands: []scenarios.HotBand{{RangePct: 10, SharePct: 70}, {RangePct: 20, SharePct: 20}}},
	}
	for _, d := range dists {
		for _, n := range []int64{1, 7, 5000, 1 << 28} {
			tb := newDistTable(d, n)
			k := len(tb.keep)
			got := make([]float64, k)
			for i := range k {
				kp := float64(tb.keep[i]) / math.Exp2(64)
				got[i] += kp / float64(k)
				got[tb.alias[i]] += (1 - kp) / float64(k)
			}
			var covered int64
			for i := range k {
				if tb.start[i] != covered || tb.width[i] == 0 {
					t.Fatalf("%v n=%d: bucket %d starts at %d (want %d), width %d", d, n, i, tb.start[i], covered, tb.width[i])
				}
				covered += int64(tb.width[i])
			}
			if covered != n {
				t.Fatalf("%v n=%d: buckets cover %d units", d, n, covered)
			}
			want := wantMasses(d, n, tb)
			if want == nil {
				t.Fatalf("%v n=%d: table has %d buckets, the distribution %d", d, n, k, len(distBuckets(d, n)))
			}
			for i := range k {
				if math.Abs(got[i]-want[i]) > 1e-9 {
					t.Fatalf("%v n=%d: bucket %d gets %.12f, want %.12f", d, n, i, got[i], want[i])
				}
			}
		}
	}
}

// wantMasses recomputes the normalised mass of each of tb's buckets.
func wantMasses(d *scenarios.Distribution, n int64, tb *distTable) []float64 {
	out := make([]float64, len(tb.keep))
	var total float64
	bks := distBuckets(d, n)
	if len(bks) != len(out) {
		return nil
	}
	for i := range out {
		if bks[i].start == tb.start[i] && bks[i].width == int64(tb.width[i]) {
			out[i] = bks[i].mass
		}
		total += out[i]
	}
	for i := range out {
		out[i] /= total
	}
	return out
}

// TestDistShapes draws a million offsets from each distribution and checks
// the shares that define it against closed forms, independent of the
// tables: the hot band's share, pareto's h, zipf's first rank against the
// generalised harmonic number, normal's 1σ and 2σ masses.
func TestDistShapes(t *testing.T) {
	const draws = 1_000_000
	const n = 1_000_000
	var hzipf float64 // H(n, 1.2)
	for k := 1; k <= n; k++ {
		hzipf += math.Pow(float64(k), -1.2)
	}
	tests := []struct {
		name   string
		d      *scenarios.Distribution
		lo, hi int64   // units [lo, hi)
		want   float64 // share of draws there
		tol    float64
	}{
		// vdbench's hotband: 90% of I/O to the first 10%.
		{"hot band", &scenarios.Distribution{Kind: scenarios.Hot, Bands: []scenarios.HotBand{{RangePct: 10, SharePct: 90}}}, 0, n / 10, 0.90, 0.003},
		// The rest is uniform: half of the remaining 90% of the range
		// takes half of the remaining 10% of the I/O.
		{"hot band rest", &scenarios.Distribution{Kind: scenarios.Hot, Bands: []scenarios.HotBand{{RangePct: 10, SharePct: 90}}}, n / 10, n/10 + n*45/100, 0.05, 0.002},
		// fio's pareto:0.9 sends 90% of the I/O to 10% of the range.
		{"pareto h", &scenarios.Distribution{Kind: scenarios.Pareto, Param: 0.9}, 0, n / 10, 0.90, 0.003},
		// zipf 1.2: the hottest block takes 1/H(n, 1.2) of the I/O.
		{"zipf rank 1", &scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.2}, 0, 1, 1 / hzipf, 0.003},
		{"zipf rank 2", &scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.2}, 1, 2, math.Pow(2, -1.2) / hzipf, 0.003},
		// normal σ=10%: 68.27% within 1σ of the middle, 95.45% within 2σ.
		{"normal 1σ", &scenarios.Distribution{Kind: scenarios.Normal, Param: 10}, n * 4 / 10, n * 6 / 10, 0.6827, 0.003},
		{"normal 2σ", &scenarios.Distribution{Kind: scenarios.Normal, Param: 10}, n * 3 / 10, n * 7 / 10, 0.9545, 0.003},
	}
	for _, tc := range tests {
		g := &DistOffsets{rng: WorkerRNG(9, 0, 0, 0), t: newDistTable(tc.d, n), base: 1 << 20, align: 4096}
		in := 0
		for range draws {
			o := g.Next()
			u := (o - 1<<20) / 4096
			if (o-1<<20)%4096 != 0 || u < 0 || u >= n {
				t.Fatalf("%s: offset %d misaligned or outside", tc.name, o)
			}
			if u >= tc.lo && u < tc.hi {
				in++
			}
		}
		if got := float64(in) / draws; math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: share %.4f in units [%d,%d), want %.4f ± %.3f", tc.name, got, tc.lo, tc.hi, tc.want, tc.tol)
		}
	}
}

// TestDistDeterministic: the same seed gives the same offsets.
func TestDistDeterministic(t *testing.T) {
	d := &scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.1}
	a := &DistOffsets{rng: WorkerRNG(5, 1, 0, 3), t: newDistTable(d, 1<<20), align: 512}
	b := &DistOffsets{rng: WorkerRNG(5, 1, 0, 3), t: newDistTable(d, 1<<20), align: 512}
	for i := range 10000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("draw %d: %d != %d", i, x, y)
		}
	}
}

// TestSizePicker checks that the picker's table holds each size exactly
// its share, and that draws follow it.
func TestSizePicker(t *testing.T) {
	mix := []scenarios.SizeShare{{Size: 4096, Pct: 60}, {Size: 65536, Pct: 30}, {Size: 1 << 20, Pct: 10}}
	sp := newSizePicker(mix)
	var table [3]int
	for _, si := range sp.table {
		table[si]++
	}
	if table != [3]int{60, 30, 10} {
		t.Fatalf("table holds %v", table)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var got [3]int
	const draws = 300_000
	for range draws {
		si, size := sp.pick(rng)
		if size != mix[si].Size {
			t.Fatalf("index %d gave size %d", si, size)
		}
		got[si]++
	}
	for i, m := range mix {
		if share := float64(got[i]) / draws; math.Abs(share-float64(m.Pct)/100) > 0.005 {
			t.Errorf("size %d: share %.4f, want %d%%", m.Size, share, m.Pct)
		}
	}
}

// TestNewOffsetsMix: with a mix, every offset of every worker leaves room
// for the largest size, is aligned to the sizes' gcd, and a verified
// worker stays inside its own share.
func TestNewOffsetsMix(t *testing.T) {
	p := scenarios.Phase{RW: scenarios.RandRW, ReadPct: 50, QD: 4, BS: 64 << 10,
		ReadSizes:  []scenarios.SizeShare{{Size: 4096, Pct: 50}, {Size: 64 << 10, Pct: 50}},
		WriteSizes: []scenarios.SizeShare{{Size: 8192, Pct: 100}},
		Offsets:    &scenarios.Distribution{Kind: scenarios.Pareto, Param: 0.8}}
	base, length := int64(1<<20), int64(8<<20)
	for _, verified := range []bool{false, true} {
		tables := newDistTables(3)
		for wi := range p.QD {
			lo, hi := base, base+length
			if verified {
				lo, hi = NewSeqOffsets(base, length, p.BS, wi, p.QD).Span()
			}
			g := newOffsets(&p, WorkerRNG(3, 0, 0, wi), base, length, wi, verified, tables)
			for range 20000 {
				o := g.Next()
				if o%4096 != 0 || o < lo || o+p.BS > hi {
					t.Fatalf("verified=%v worker %d: offset %d outside [%d,%d) for 64KiB or misaligned", verified, wi, o, lo, hi)
				}
			}
		}
		if verified && len(tables.m) > 2 {
			t.Errorf("%d tables for %d workers; shares differ by at most a block", len(tables.m), p.QD)
		}
	}
}

// TestSeqOffsetsNextN: a sequential mix advances by each I/O's size and
// wraps before an I/O would cross the share's end.
func TestSeqOffsetsNextN(t *testing.T) {
	s := NewSeqOffsets(0, 10*4096, 4096, 0, 1)
	var got []int64
	for _, n := range []int64{4096, 8192, 16384, 16384, 4096} {
		got = append(got, s.NextN(n))
	}
	want := []int64{0, 4096, 12288, 0, 16384}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("offsets %v, want %v", got, want)
		}
	}
}

// TestOffsetsAllocsNothing: drawing offsets and sizes allocates nothing.
func TestOffsetsAllocsNothing(t *testing.T) {
	for _, g := range benchGenerators() {
		if a := testing.AllocsPerRun(1000, func() { _ = g.offs.Next() }); a != 0 {
			t.Errorf("%s: %v allocations per offset", g.name, a)
		}
	}
	sp := newSizePicker([]scenarios.SizeShare{{Size: 4096, Pct: 70}, {Size: 65536, Pct: 30}})
	rng := WorkerRNG(1, 0, 0, 0)
	if a := testing.AllocsPerRun(1000, func() { _, _ = sp.pick(rng) }); a != 0 {
		t.Errorf("size picker: %v allocations per pick", a)
	}
}

type benchGen struct {
	name string
	offs Offsets
}

// benchGenerators are the offset generators over a 1 TiB range of 4 KiB
// blocks (268M units), as a large LUN would have.
func benchGenerators() []benchGen {
	const tib = int64(1) << 40
	p := func(d *scenarios.Distribution) Offsets {
		ph := scenarios.Phase{RW: scenarios.RandRead, BS: 4096, QD: 1, Offsets: d}
		return newOffsets(&ph, WorkerRNG(1, 0, 0, 0), 0, tib, 0, false, newDistTables(1))
	}
	return []benchGen{
		{"uniform", p(nil)},
		{"zipf", p(&scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.2})},
		{"pareto", p(&scenarios.Distribution{Kind: scenarios.Pareto, Param: 0.9})},
		{"normal", p(&scenarios.Distribution{Kind: scenarios.Normal, Param: scenarios.DefaultNormalSigma})},
		{"hot", p(&scenarios.Distribution{Kind: scenarios.Hot, Bands: []scenarios.HotBand{{RangePct: 10, SharePct: 90}}})},
	}
}

// BenchmarkOffsets times one offset draw of each distribution.
func BenchmarkOffsets(b *testing.B) {
	for _, g := range benchGenerators() {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = g.offs.Next()
			}
		})
	}
}

// BenchmarkSizePick times drawing one I/O's block size from a mix.
func BenchmarkSizePick(b *testing.B) {
	sp := newSizePicker([]scenarios.SizeShare{{Size: 4096, Pct: 60}, {Size: 65536, Pct: 30}, {Size: 1 << 20, Pct: 10}})
	rng := WorkerRNG(1, 0, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = sp.pick(rng)
	}
}

// BenchmarkDistTable times building a table for a 1 TiB range (once per
// phase and share size, not per I/O).
func BenchmarkDistTable(b *testing.B) {
	d := &scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.2}
	b.ReportAllocs()
	for b.Loop() {
		_ = newDistTable(d, 1<<28)
	}
}

// TestScatter checks the rank permutation of zipf and pareto: a bijection
// of [0, n) for every n (powers of two and not, tiny and large), the same
// for the same seed and another for another seed.
func TestScatter(t *testing.T) {
	for _, n := range []int64{1, 2, 3, 7, 64, 1000, 4097, 100_003} {
		s := newScatter(n, 42)
		seen := make([]bool, n)
		moved := 0
		for u := range n {
			x := s.at(u)
			if x < 0 || x >= n || seen[x] {
				t.Fatalf("n=%d: rank %d maps to %d (outside or taken twice)", n, u, x)
			}
			seen[x] = true
			if x != u {
				moved++
			}
			if y := newScatter(n, 42).at(u); y != x {
				t.Fatalf("n=%d: rank %d maps to %d, then %d with the same seed", n, u, x, y)
			}
		}
		if n >= 1000 && moved < int(n*9/10) {
			t.Errorf("n=%d: only %d of %d ranks moved", n, moved, n)
		}
	}
	a, b := newScatter(1<<20, 1), newScatter(1<<20, 2)
	same := 0
	for u := range int64(1000) {
		if a.at(u) == b.at(u) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("seeds 1 and 2 place %d of the 1000 hottest ranks alike", same)
	}
}

// TestScatterSpreadsHotSet: the 10,000 hottest ranks of a 2^20+12345 unit
// range land evenly over its tenths (within 1.5 points of 10% each, about
// five standard errors), where unscattered they all sat in the first 1%.
func TestScatterSpreadsHotSet(t *testing.T) {
	const n = 1<<20 + 12345
	const hot = 10_000
	s := newScatter(n, 7)
	var tenths [10]int
	for u := range int64(hot) {
		tenths[s.at(u)*10/n]++
	}
	for i, c := range tenths {
		if share := float64(c) / hot; math.Abs(share-0.1) > 0.015 {
			t.Errorf("tenth %d of the range holds %.3f of the hot set, want 0.100: %v", i, share, tenths)
		}
	}
}

// TestScatteredShapes: through the permutation, zipf and pareto keep their
// shape over ranks: the place of rank 1 takes 1/H(n, 1.2) of zipf's draws,
// the places of the first 10% of ranks 90% of pareto 0.9's.
func TestScatteredShapes(t *testing.T) {
	const n, draws = 1_000_000, 1_000_000
	var hzipf float64
	for k := 1; k <= n; k++ {
		hzipf += math.Pow(float64(k), -1.2)
	}
	tests := []struct {
		name string
		d    *scenarios.Distribution
		hot  int64   // ranks [0, hot)
		want float64 // share of draws at their places
	}{
		// The hottest block, wherever it now lies.
		{"zipf rank 1", &scenarios.Distribution{Kind: scenarios.Zipf, Param: 1.2}, 1, 1 / hzipf},
		// fio's pareto:0.9: 90% of the I/O to 10% of the range.
		{"pareto h", &scenarios.Distribution{Kind: scenarios.Pareto, Param: 0.9}, n / 10, 0.9},
	}
	for _, tc := range tests {
		tb := newDistTables(11).get(tc.d, n)
		rank := make([]int32, n) // place -> rank
		for u := range int64(n) {
			rank[tb.perm.at(u)] = int32(u)
		}
		g := &DistOffsets{rng: WorkerRNG(9, 0, 0, 0), t: tb, align: 4096}
		in, first := 0, 0
		for range draws {
			u := g.Next() / 4096
			if int64(rank[u]) < tc.hot {
				in++
			}
			if u < n/100 {
				first++
			}
		}
		if got := float64(in) / draws; math.Abs(got-tc.want) > 0.003 {
			t.Errorf("%s: share %.4f at the places of ranks [0,%d), want %.4f", tc.name, got, tc.hot, tc.want)
		}
		// Unscattered, zipf 1.2 and pareto 0.9 put most draws in the
		// first 1% of the range; scattered it gets about its 1%.
		if got := float64(first) / draws; got > 0.05 {
			t.Errorf("%s: %.3f of the draws in the first 1%% of the range", tc.name, got)
		}
	}
}
