package workload

import "math/rand/v2"

// Offsets yields the byte offsets one worker issues I/O at. Implementations
// are owned by one worker and allocate nothing per call.
type Offsets interface {
	Next() int64
}

// SeqOffsets walks one worker's share of a range in order, wrapping at its
// end. Sequential workers of a phase split the range into disjoint,
// block-aligned shares, so they never overlap.
type SeqOffsets struct {
	start, end, next, bs int64
}

// NewSeqOffsets returns worker w's (of n) share of [base, base+length) in
// blocks of bs. When the range has fewer blocks than workers, the extra
// workers share the last block's region rather than getting nothing.
func NewSeqOffsets(base, length, bs int64, w, n int) *SeqOffsets {
	blocks := length / bs
	if blocks < 1 {
		blocks = 1
	}
	per := blocks / int64(n)
	var first, count int64
	if per == 0 {
		first, count = int64(w)%blocks, 1
	} else {
		// Spread the remainder over the first workers so shares differ
		// by at most one block and the whole range is covered.
		rem := blocks % int64(n)
		first = int64(w)*per + min(int64(w), rem)
		count = per
		if int64(w) < rem {
			count++
		}
	}
	s := &SeqOffsets{start: base + first*bs, end: base + (first+count)*bs, bs: bs}
	s.next = s.start
	return s
}

// Next returns the next offset of the share, wrapping to its start.
func (s *SeqOffsets) Next() int64 { return s.NextN(s.bs) }

// NextN returns the offset of the next I/O of n bytes: where the last one
// ended, or the share's start when n would not fit before its end.
func (s *SeqOffsets) NextN(n int64) int64 {
	o := s.next
	if o+n > s.end {
		o = s.start
	}
	s.next = o + n
	if s.next >= s.end {
		s.next = s.start
	}
	return o
}

// Span returns the share as [start, end).
func (s *SeqOffsets) Span() (int64, int64) { return s.start, s.end }

// RandOffsets draws block-aligned offsets uniformly over a range.
type RandOffsets struct {
	rng          *rand.Rand
	base, blocks int64
	bs           int64
}

// NewRandOffsets returns a generator over [base, base+length) in blocks of
// bs, drawing from rng (owned by the caller's worker).
func NewRandOffsets(rng *rand.Rand, base, length, bs int64) *RandOffsets {
	blocks := length / bs
	if blocks < 1 {
		blocks = 1
	}
	return &RandOffsets{rng: rng, base: base, blocks: blocks, bs: bs}
}

// Next returns a uniformly random aligned offset.
func (r *RandOffsets) Next() int64 {
	return r.base + int64(r.rng.Uint64N(uint64(r.blocks)))*r.bs
}

// WorkerRNG returns the PRNG of one worker, derived from the run seed, the
// phase index, the target index and the worker index so every stream is
// distinct and a run can be repeated exactly.
func WorkerRNG(seed uint64, phase, target, worker int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(phase)<<40|uint64(target)<<20|uint64(worker)))
}
