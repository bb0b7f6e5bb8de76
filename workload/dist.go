package workload

import (
	"math"
	"math/rand/v2"

	"lunbench/scenarios"
)

// maxBuckets bounds a distribution table: 4096 buckets cost 96 KiB per
// table and keep the approximation inside a bucket (uniform) below half a
// percent for zipf and pareto, whose buckets grow geometrically.
const maxBuckets = 4096

// distTable is an offset distribution precomputed over n units: buckets
// of consecutive units and an alias table (Vose) over them. A draw picks a
// bucket in O(1) and a unit uniformly inside it, with three PRNG draws and
// no allocation, whatever the range's size.
type distTable struct {
	n     int64
	keep  []uint64 // keep bucket i when a uniform uint64 is below keep[i]
	alias []uint32
	start []int64
	width []uint64
	// perm, when set, maps a drawn unit (its rank) to its place.
	perm *scatter
}

// bucket is a run of units and its probability mass (not normalised).
type bucket struct {
	start, width int64
	mass         float64
}

// newDistTable builds the table of d over n units (n >= 1).
func newDistTable(d *scenarios.Distribution, n int64) *distTable {
	return aliasTable(distBuckets(d, n), n)
}

// distBuckets splits n units into buckets with d's mass in each.
func distBuckets(d *scenarios.Distribution, n int64) []bucket {
	var bs []bucket
	switch d.Kind {
	case scenarios.Hot:
		bs = hotBuckets(d.Bands, n)
	case scenarios.Zipf:
		bs = geometricBuckets(n, func(a, b int64) float64 { return zipfMass(d.Param, a, b) })
	case scenarios.Pareto:
		// fio's pareto:h puts h of the I/O on 1-h of the range: the
		// fraction x of the range gets 1-(1-x)^k of it, k = ln(1-h)/ln(h).
		k := math.Log(1-d.Param) / math.Log(d.Param)
		cdf := func(u int64) float64 { return 1 - math.Pow(1-float64(u)/float64(n), k) }
		bs = geometricBuckets(n, func(a, b int64) float64 { return cdf(b) - cdf(a) })
	case scenarios.Normal:
		mu, sigma := float64(n)/2, float64(n)*d.Param/100
		cdf := func(u int64) float64 { return 0.5 * math.Erfc(-(float64(u)-mu)/(sigma*math.Sqrt2)) }
		bs = linearBuckets(n, func(a, b int64) float64 { return cdf(b) - cdf(a) })
	default:
		bs = []bucket{{0, n, 1}}
	}
	return bs
}

// hotBuckets lays the bands out from the start of the range; the rest of
// the range takes the rest of the I/O.
func hotBuckets(bands []scenarios.HotBand, n int64) []bucket {
	var out []bucket
	var at int64
	rest := 100.0
	for _, b := range bands {
		w := min(max(int64(math.Round(float64(n)*b.RangePct/100)), 1), n-at)
		if w > 0 {
			out = append(out, bucket{at, w, b.SharePct})
		}
		at += w
		rest -= b.SharePct
	}
	if at < n {
		out = append(out, bucket{at, n - at, max(rest, 0)})
	}
	return out
}

// geometricBuckets splits [0, n) at edges growing by a constant factor, so
// the first units (where zipf and pareto are steepest) get buckets of their
// own. mass(a, b) is the mass of units [a, b).
func geometricBuckets(n int64, mass func(a, b int64) float64) []bucket {
	var out []bucket
	nb := min(n, maxBuckets)
	ln := math.Log(float64(n))
	var a int64
	for j := int64(1); a < n; j++ {
		b := int64(math.Exp(float64(j) * ln / float64(nb)))
		b = min(max(b, a+1), n)
		if j >= nb {
			b = n
		}
		out = append(out, bucket{a, b - a, mass(a, b)})
		a = b
	}
	return out
}

// linearBuckets splits [0, n) into equal buckets.
func linearBuckets(n int64, mass func(a, b int64) float64) []bucket {
	nb := min(n, maxBuckets)
	out := make([]bucket, 0, nb)
	for j := int64(0); j < nb; j++ {
		a, b := n*j/nb, n*(j+1)/nb
		out = append(out, bucket{a, b - a, mass(a, b)})
	}
	return out
}

// zipfMass is the sum of k^-θ over the 1-based ranks a+1 .. b: exact for a
// short run, else the midpoint integral, which is within 1e-4 relative of
// the sum once the ranks pass 32.
func zipfMass(theta float64, a, b int64) float64 {
	if b-a <= 32 || a < 32 {
		var s float64
		for k := a + 1; k <= b; k++ {
			s += math.Pow(float64(k), -theta)
		}
		return s
	}
	F := func(x float64) float64 {
		if theta == 1 {
			return math.Log(x)
		}
		return math.Pow(x, 1-theta) / (1 - theta)
	}
	return F(float64(b)+0.5) - F(float64(a)+0.5)
}

// aliasTable builds Vose's alias table over the buckets.
func aliasTable(bs []bucket, n int64) *distTable {
	k := len(bs)
	t := &distTable{n: n, keep: make([]uint64, k), alias: make([]uint32, k), start: make([]int64, k), width: make([]uint64, k)}
	var total float64
	for _, b := range bs {
		total += b.mass
	}
	if !(total > 0) {
		// Nothing left any mass (a band table rounded away on a tiny
		// range): fall back to uniform rather than divide by zero.
		bs, total, k = []bucket{{0, n, 1}}, 1, 1
		t = &distTable{n: n, keep: make([]uint64, 1), alias: make([]uint32, 1), start: make([]int64, 1), width: make([]uint64, 1)}
	}
	p := make([]float64, k)
	var small, large []int
	for i, b := range bs {
		t.start[i], t.width[i] = b.start, uint64(b.width)
		p[i] = b.mass / total * float64(k)
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.keep[s], t.alias[s] = uint64(p[s]*(1<<63))*2, uint32(l)
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left has p = 1 up to rounding: always kept.
	for _, i := range append(small, large...) {
		t.keep[i], t.alias[i] = math.MaxUint64, uint32(i)
	}
	return t
}

// draw returns a unit in [0, n).
func (t *distTable) draw(rng *rand.Rand) int64 {
	i := rng.Uint64N(uint64(len(t.keep)))
	if rng.Uint64() >= t.keep[i] {
		i = uint64(t.alias[i])
	}
	u := t.start[i] + int64(rng.Uint64N(t.width[i]))
	if t.perm != nil {
		u = t.perm.at(u)
	}
	return u
}

// distTables are a phase's tables, one per range size in units (shares of
// a verified phase differ by at most a block, so a phase builds one or
// two), shared read-only by its workers. seed is the phase's: zipf and
// pareto tables scatter their ranks with it.
type distTables struct {
	seed uint64
	m    map[int64]*distTable
}

// newDistTables returns an empty set of tables for a phase with seed.
func newDistTables(seed uint64) *distTables {
	return &distTables{seed: seed, m: map[int64]*distTable{}}
}

// get returns the table of d over n units, building it the first time.
func (ts *distTables) get(d *scenarios.Distribution, n int64) *distTable {
	t := ts.m[n]
	if t == nil {
		t = newDistTable(d, n)
		if d.Kind == scenarios.Zipf || d.Kind == scenarios.Pareto {
			t.perm = newScatter(n, ts.seed)
		}
		ts.m[n] = t
	}
	return t
}

// DistOffsets draws aligned offsets over a range from a distribution table.
type DistOffsets struct {
	rng         *rand.Rand
	t           *distTable
	base, align int64
}

// Next returns the next offset.
func (d *DistOffsets) Next() int64 { return d.base + d.t.draw(d.rng)*d.align }

// scatter is a bijection of [0, n) drawn from a seed, through which zipf
// and pareto map a block's rank (0 the hottest) to its place in the range:
// a real hot set (a database's busiest pages, a hypervisor's busiest
// guests) is spread over the LUN, not packed at its start (fio hashes its
// zipf and pareto draws for the same reason). It is a cycle-walking
// permutation: an invertible mix of k bits, 2^k the smallest power of two
// at least n, applied again while the result falls at or past n. Since
// 2^k < 2n, a draw takes fewer than two rounds on average: O(1), no
// allocation, and the same seed gives the same layout.
type scatter struct {
	n, mask uint64
	shift   uint
	key     [4]uint64 // xor keys and odd multipliers, from the seed
}

// newScatter returns the permutation of [0, n) for seed.
func newScatter(n int64, seed uint64) *scatter {
	k := uint(0)
	for uint64(1)<<k < uint64(n) {
		k++
	}
	s := &scatter{n: uint64(n), mask: uint64(1)<<k - 1, shift: (k + 1) / 2}
	rng := rand.New(rand.NewPCG(seed, 0x5ca77e2))
	for i := range s.key {
		s.key[i] = rng.Uint64() | uint64(i&1) // keys 1 and 3 multiply: odd
	}
	return s
}

// round is one bijective mix of [0, 2^k): xor with a key, multiply by an
// odd number and xorshift, each invertible modulo 2^k.
func (s *scatter) round(x uint64) uint64 {
	x = (x ^ s.key[0]) & s.mask
	x = (x * s.key[1]) & s.mask
	x ^= x >> s.shift
	x = (x ^ s.key[2]) & s.mask
	x = (x * s.key[3]) & s.mask
	x ^= x >> s.shift
	return x
}

// at returns where rank u (in [0, n)) lies.
func (s *scatter) at(u int64) int64 {
	x := s.round(uint64(u))
	for x >= s.n {
		x = s.round(x)
	}
	return int64(x)
}
