package workload

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
)

// Histogram bounds: values in nanoseconds, 1 ns to 1 h at 3 significant
// digits. The lowest discernible value is what sets the precision of small
// values: HdrHistogram rounds it down to a power of two as its unit and
// keeps values below 2048 units in one-unit buckets, so 1 ns keeps a 2.3 µs
// latency as 2.301 µs where the 1 µs of results before this (a 512 ns
// unit) made it 2.559 µs. Every value is then within 1/1024 (0.1%) of what
// was recorded. The cost is memory: 33,792 counts (264 KiB) per histogram,
// against 24,576 (192 KiB) at 1 µs. Only the accumulators (three per
// target × op) are hdr histograms, cleared whole each tick; a worker's two
// per op are latCounts, written and cleared only where latencies fall, so
// most of their pages are never touched: a QD32 randrw run on zram peaked at
// 33–36 MB resident, against 45–50 MB with 1 µs hdr histograms everywhere.
// A latency above an hour is clamped for the histogram only; the exact
// maximum is kept beside it.
//
// Histograms read back from hlog files keep the geometry they were written
// with (NewHistogramLike), so results written at 1 µs report what they
// reported before.
const (
	histLowest  = 1
	histHighest = int64(time.Hour)
	histSigFigs = 3
)

// NewHistogram returns an empty latency histogram with lunbench's bounds.
func NewHistogram() *hdr.Histogram { return hdr.New(histLowest, histHighest, histSigFigs) }

// NewHistogramLike returns an empty histogram of h's geometry: the one to
// merge histograms read from a results directory into. Merging into another
// geometry would move each count to the lowest value of its old bucket (an
// old 1 µs-geometry bucket of 2048..2559 ns would read back as 2048 ns).
// A nil h gives NewHistogram.
func NewHistogramLike(h *hdr.Histogram) *hdr.Histogram {
	if h == nil {
		return NewHistogram()
	}
	return hdr.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
}

// maxErrLog is how many I/O errors each worker keeps details of per slice;
// the count of every error is kept regardless.
const maxErrLog = 4

// maxErrnos is how many distinct errnos a slice tracks by value; further
// distinct values are folded into the last slot.
const maxErrnos = 6

// IOError describes one failed I/O.
type IOError struct {
	At     time.Duration // monotonic time since the run's clock base
	Op     Op
	Offset int64
	Errno  syscall.Errno // 0 with Short set for a short transfer
	Short  bool
}

type errnoCount struct {
	op    Op
	errno syscall.Errno
	n     uint64
}

// opCounts is what one op did in one slice of one worker.
type opCounts struct {
	ops, bytes, errors uint64
	latSum             uint64 // ns, for an exact mean
	latMin, latMax     int64  // ns, exact; latMin 0 until the first op
	missed             uint64 // open-loop slots skipped after a stall (backfilled)
	// backoffs and backoffNs are the pauses after consecutive errors.
	backoffs  uint64
	backoffNs int64
	// hist is an accumulator's histogram; lat is a worker's (a
	// Recorder half's), which the collector drains into hist.
	hist *hdr.Histogram
	lat  *latCounts
	// sizeOps counts I/Os by their index in the phase's block-size mix
	// for the op (all at 0 when the phase has one size).
	sizeOps [scenarios.MaxMixSizes]uint64
}

// slice is one half of a Recorder's double buffer.
type slice struct {
	op      [NumOps]opCounts
	errnos  [maxErrnos]errnoCount
	errLog  [maxErrLog]IOError
	nErrLog int
}

func (s *slice) reset() {
	for i := range s.op {
		h, l := s.op[i].hist, s.op[i].lat
		if h != nil {
			h.Reset()
		}
		if l != nil {
			l.reset()
		}
		s.op[i] = opCounts{hist: h, lat: l}
	}
	s.errnos = [maxErrnos]errnoCount{}
	s.nErrLog = 0
}

// Recorder collects one worker's measurements. The worker records without
// locks or allocations; the aggregator takes a consistent slice with
// trySwap (or swap, which waits).
//
// The two halves work as a double buffer guarded by a flip and a sequence
// count in a Dekker-style handshake (Go's atomics are sequentially
// consistent): the worker makes seq odd, reads active, records, and makes
// seq even again; the collector flips active and then reads seq. Either the
// worker saw the new active half, or the collector sees seq odd. The
// collector then does not wait for seq to move on: on a host with more
// runnable threads than CPUs (zram at qd 32 on two cores) the kernel may
// have preempted the worker mid-record, and it may not run again for
// seconds, while the aggregator must keep its ticks. The old half is
// handed over at the first later trySwap that sees seq changed. A worker
// blocked in an I/O is never mid-record, so a stalled device never delays
// collection either.
//
// The slices may be shared by the recorders of workers that one goroutine
// drives (the io_uring engine's slots of one target, see shared): the
// collector then swaps them once, while each slot keeps its own in-flight
// and completion times.
type Recorder struct {
	*recSlices
	// issuedAt is the monotonic time (ns since clock base) the in-flight
	// I/O started, 0 when none is in flight.
	issuedAt atomic.Int64
	// lastDone is the monotonic time of the last completion.
	lastDone atomic.Int64
	// lastFail is the monotonic time of the last failed completion, 0
	// when none failed: a device that answers every I/O with EIO
	// completes I/O, but its I/O does not flow.
	lastFail atomic.Int64
	_        [64]byte // keep neighbouring recorders off this cache line
}

// recSlices is a recorder's double buffer of slices and its handshake.
type recSlices struct {
	active atomic.Uint32
	// seq is odd while the worker records.
	seq atomic.Uint64
	// The collector's own state: the half flipped out but not handed over
	// yet (pending), and seq as it read it right after the flip.
	pending    bool
	pendingSeq uint64
	halves     [2]slice
	_          [64]byte
}

// NewRecorder returns a recorder with histograms for the ops given.
func NewRecorder(ops ...Op) *Recorder {
	r := &Recorder{recSlices: &recSlices{}}
	for h := range r.halves {
		for _, op := range ops {
			r.halves[h].op[op].lat = newLatCounts()
		}
	}
	return r
}

// shared returns a recorder that records into r's slices with its own
// in-flight and completion times. r and every recorder shared from it
// must be written by one goroutine only.
func (r *Recorder) shared() *Recorder { return &Recorder{recSlices: r.recSlices} }

// Issue marks an I/O in flight from now (ns since clock base).
func (r *Recorder) Issue(now int64) { r.issuedAt.Store(now) }

// Done records a successful I/O of n bytes whose latency is lat, completed
// at now (ns since clock base).
func (r *Recorder) Done(op Op, n int, lat, now int64) { r.DoneSize(op, 0, n, lat, now) }

// DoneSize is Done for an I/O whose block size is the si-th of the
// phase's mix for op (0 <= si < scenarios.MaxMixSizes).
func (r *Recorder) DoneSize(op Op, si int, n int, lat, now int64) {
	r.seq.Add(1)
	s := &r.halves[r.active.Load()]
	c := &s.op[op]
	c.ops++
	c.sizeOps[si&(scenarios.MaxMixSizes-1)]++
	c.bytes += uint64(n)
	c.latSum += uint64(lat)
	if lat > c.latMax {
		c.latMax = lat
	}
	if lat < c.latMin || c.latMin == 0 {
		c.latMin = lat
	}
	_ = c.lat.RecordValues(lat, 1) // clamped at histHighest
	r.seq.Add(1)
	r.issuedAt.Store(0)
	r.lastDone.Store(now)
}

// Missed records k open-loop slots that a stall made the worker skip: each
// is counted in the histogram with the latency it would have seen (from its
// intended start to the completion that ended the stall), so coordinated
// omission does not hide the stall, without issuing a catch-up burst. Its
// cost does not grow with k (see backfill): a fast pace after a long stall
// must not keep the worker from its next I/O, or from the stop flag.
func (r *Recorder) Missed(op Op, k int64, firstLat, period int64) {
	if k <= 0 || period <= 0 {
		return
	}
	r.seq.Add(1)
	c := &r.halves[r.active.Load()].op[op]
	c.missed += uint64(k)
	backfill(c.lat, c.lat.geometry(), firstLat, k, period)
	r.seq.Add(1)
}

// valuesRecorder is what backfill records into: an hdr.Histogram or a
// worker's latCounts.
type valuesRecorder interface {
	RecordValues(v, n int64) error
}

// backfill records the latencies v, v-period, v-2*period, ... (k of them,
// those above 0) into h (of geometry g), clamped at histHighest. Values
// that share a histogram bucket are recorded with one RecordValues call, so
// the work is bounded by the buckets between 0 and v (at most about 34,000
// at lunbench's precision), never by k.
func backfill(h valuesRecorder, g bucketGeometry, v, k, period int64) {
	if v > histHighest {
		// Every value above the top is clamped to it.
		n := min(k, (v-histHighest+period-1)/period)
		_ = h.RecordValues(histHighest, n)
		k -= n
		v -= n * period
	}
	for k > 0 && v > 0 {
		// The values from v down to the floor of v's bucket (and above 0).
		n := min(k, (v-max(g.floor(v), 1))/period+1)
		_ = h.RecordValues(v, n)
		k -= n
		v -= n * period
	}
}

// bucketGeometry is HdrHistogram's layout, which the library does not
// export: values below 2·10^sig units (a unit being the lowest trackable
// value rounded down to a power of two) in buckets one unit wide, then one
// power of two after another, each split into as many sub-buckets.
type bucketGeometry struct {
	unitMag, subHalfMag int
	subMask             uint64
}

func newBucketGeometry(h *hdr.Histogram) bucketGeometry {
	return geometryOf(h.LowestTrackableValue(), h.SignificantFigures())
}

// geometryOf is the layout of a histogram of lowest discernible value
// lowest and sigFigs significant digits.
func geometryOf(lowest, sigFigs int64) bucketGeometry {
	largestSingle := uint64(2)
	for range sigFigs {
		largestSingle *= 10
	}
	g := bucketGeometry{
		unitMag:    bits.Len64(uint64(lowest)) - 1,
		subHalfMag: bits.Len64(largestSingle-1) - 1, // ceil(log2) - 1
	}
	g.subMask = (uint64(1)<<(g.subHalfMag+1) - 1) << g.unitMag
	return g
}

// floor is the lowest value recorded in the same bucket as v (v > 0).
func (g bucketGeometry) floor(v int64) int64 {
	bucket := max(bits.Len64(uint64(v)|g.subMask)-g.unitMag-(g.subHalfMag+1), 0)
	shift := bucket + g.unitMag
	return v >> shift << shift
}

// Fail records a failed I/O.
func (r *Recorder) Fail(e IOError, now int64) {
	r.seq.Add(1)
	s := &r.halves[r.active.Load()]
	s.op[e.Op].errors++
	i := 0
	for ; i < maxErrnos-1; i++ {
		if s.errnos[i].n == 0 || (s.errnos[i].errno == e.Errno && s.errnos[i].op == e.Op) {
			break
		}
	}
	s.errnos[i].op = e.Op
	s.errnos[i].errno = e.Errno
	s.errnos[i].n++
	if s.nErrLog < maxErrLog {
		s.errLog[s.nErrLog] = e
		s.nErrLog++
	}
	r.seq.Add(1)
	r.issuedAt.Store(0)
	r.lastFail.Store(now)
	r.lastDone.Store(now)
}

// LastFail returns the time of the last failed completion (ns since clock
// base), or 0.
func (r *Recorder) LastFail() int64 { return r.lastFail.Load() }

// InFlightSince returns when the in-flight I/O started (ns since clock
// base), or 0.
func (r *Recorder) InFlightSince() int64 { return r.issuedAt.Load() }

// LastDone returns the time of the last completion (ns since clock base).
func (r *Recorder) LastDone() int64 { return r.lastDone.Load() }

// trySwap hands the half the worker filled to fn and makes it the spare,
// and reports whether it did. It returns false, leaving the half to a later
// call, while the worker is (preempted) in the middle of recording into
// it. Only the collector calls it, never concurrently with itself.
func (r *Recorder) trySwap(fn func(*slice)) bool {
	if !r.pending {
		r.active.Store(r.active.Load() ^ 1)
		r.pending, r.pendingSeq = true, r.seq.Load()
	}
	// A worker running on another CPU finishes a record in nanoseconds.
	for spins := 0; r.pendingSeq&1 == 1 && r.seq.Load() == r.pendingSeq; spins++ {
		if spins == 100 {
			return false
		}
	}
	r.pending = false
	s := &r.halves[r.active.Load()^1]
	fn(s)
	s.reset()
	return true
}

// swap is trySwap that waits until the half is handed over, and takes
// every I/O recorded so far: a half left pending by an earlier trySwap
// first, then the active one. It is for the last collection of a phase,
// when every worker has stopped.
func (r *Recorder) swap(fn func(*slice)) {
	if r.pending {
		for !r.trySwap(fn) {
			runtime.Gosched()
		}
	}
	for !r.trySwap(fn) {
		runtime.Gosched()
	}
}
