package workload

import (
	"math/bits"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// latCounts is a worker's latency histogram: HdrHistogram's bucket layout
// for NewHistogram's geometry in a plain array, which remembers the range
// of indexes recorded into since it was last drained.
//
// The collector folds every worker's histogram into the target's four
// times a second. hdr.Histogram.Merge walks the source's buckets from 0 up
// to its highest value, about 10,000 of them at 1 ns precision for
// millisecond latencies, and Reset clears all 33,792; a drain here visits
// only the recorded range and leaves it zero, so its cost follows the
// spread of the latencies, not their magnitude. Recording is an index and
// an increment, as in hdr.
type latCounts struct {
	counts []int64
	// lo and hi bound the indexes recorded since the last drain; lo > hi
	// when none.
	lo, hi int
	// subHalfMag is log2 of half the sub-buckets per bucket (10 at 3
	// significant digits); unitMag is log2 of the unit (0 at 1 ns).
	subHalfMag, unitMag int
}

// newLatCounts returns an empty latCounts of NewHistogram's geometry.
func newLatCounts() *latCounts {
	// Not from a NewHistogram: that would allocate (and drop) its 264 KiB.
	g := geometryOf(histLowest, histSigFigs)
	l := &latCounts{lo: 1, subHalfMag: g.subHalfMag, unitMag: g.unitMag}
	l.counts = make([]int64, l.index(histHighest)+1)
	return l
}

// index is HdrHistogram's counts index of v (0 <= v <= histHighest).
func (l *latCounts) index(v int64) int {
	subMask := uint64(1)<<(l.subHalfMag+1) - 1
	bucket := max(bits.Len64(uint64(v)>>l.unitMag|subMask)-(l.subHalfMag+1), 0)
	sub := int(uint64(v) >> (bucket + l.unitMag))
	return (bucket+1)<<l.subHalfMag + sub - 1<<l.subHalfMag
}

// value is the lowest value of the bucket at counts index i.
func (l *latCounts) value(i int) int64 {
	half := 1 << l.subHalfMag
	bucket := i>>l.subHalfMag - 1
	sub := i&(half-1) + half
	if bucket < 0 {
		sub -= half
		bucket = 0
	}
	return int64(sub) << (bucket + l.unitMag)
}

// RecordValues counts v (clamped to [0, histHighest]) n times.
func (l *latCounts) RecordValues(v, n int64) error {
	i := l.index(min(max(v, 0), histHighest))
	l.counts[i] += n
	if l.lo > l.hi {
		l.lo, l.hi = i, i
	} else {
		l.lo, l.hi = min(l.lo, i), max(l.hi, i)
	}
	return nil
}

// drainInto adds the recorded counts to h (of NewHistogram's geometry) and
// leaves l empty.
func (l *latCounts) drainInto(h *hdr.Histogram) {
	for i := l.lo; i <= l.hi; i++ {
		if n := l.counts[i]; n != 0 {
			_ = h.RecordValues(l.value(i), n)
			l.counts[i] = 0
		}
	}
	l.lo, l.hi = 1, 0
}

// geometry is l's bucket layout, for backfill.
func (l *latCounts) geometry() bucketGeometry {
	return bucketGeometry{unitMag: l.unitMag, subHalfMag: l.subHalfMag,
		subMask: (uint64(1)<<(l.subHalfMag+1) - 1) << l.unitMag}
}

// reset empties l without reading it.
func (l *latCounts) reset() {
	if l.lo <= l.hi {
		clear(l.counts[l.lo : l.hi+1])
	}
	l.lo, l.hi = 1, 0
}
