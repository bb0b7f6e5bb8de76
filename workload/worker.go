package workload

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// worker is one stream of I/O against one target: qd workers per target
// keep qd I/Os outstanding. Each owns its buffer, its PRNG, its offset
// generator and its recorder.
type worker struct {
	fd      int
	buf     []byte
	bs      int64
	rw      scenarios.RW
	readPct uint32
	rng     *rand.Rand
	offs    Offsets
	pacer   *Pacer
	rec     *Recorder
	clock   Clock
	budget  int64 // bytes left to transfer while measuring; <0 = unbounded
	// sizes pick each op's block size (nil: every I/O is bs); seqMix is
	// the sequential walk of a mix, which advances by each I/O's size.
	sizes  *[NumOps]*sizePicker
	seqMix *SeqOffsets
	// payload shapes what writes carry (compress, dedupe).
	payload payloadShape
	// think is the pause after each completion (closed loop), ns.
	think   int64
	tag     uint64
	stopOnE bool

	stop      *atomic.Bool
	measuring *atomic.Bool
	deadline  *atomic.Int64
	stall     *stallFlag
	// ro brings the target back when its device node vanishes; fdGen is
	// the reopen generation fd belongs to.
	ro    *reopener
	fdGen uint64
	// gate parks the worker while a verify pass reads the target.
	gate *gate

	// forget is the target's generation map in a phase that writes
	// without verify: the blocks it overwrites are marked unknown, so no
	// pass takes lunbench's own unstamped data for corruption.
	forget *verify.Map
	// Verification (phases with verify: true): the target's map, its unit,
	// the generations of the block being written, and what reads found.
	vmap    *verify.Map
	unit    int64
	stamper *verify.Stamper // the run's stamp pad, made once
	checker *verify.Checker // the same for reads' checks
	gens    []uint32
	vfind   *inlineFindings
	target  string
	checked uint64 // units checked by reads
	// lastDone is the clock time of the worker's last completion.
	lastDone int64
	// errRun counts consecutive failed I/Os (see backoff).
	errRun int
	// cur is the I/O prepared or in flight.
	cur pending
	// heldRamp says whether the slice the collector could not take at
	// its last tick (see Recorder.trySwap) was a ramp slice; only the
	// collector uses it.
	heldRamp bool
	// spin is how early the worker stops sleeping before a slot (wait.go).
	spin spinMargin
}

// pending is the I/O a worker has prepared or has in flight.
type pending struct {
	op  Op
	si  int // index of the block size in the phase's mix
	off int64
	// intended is when the I/O should start (open loop), or when it was
	// issued (closed loop); skipped counts open-loop slots a stall made
	// the worker miss before it.
	intended, skipped int64
}

// outcome is what a worker does after a completion.
type outcome uint8

const (
	ioOK     outcome = iota // go on (after the think time, if any)
	ioFailed                // pause for backoffFor(errRun), then go on
	ioGone                  // the device node vanished: wait for the reopen
)

// run is the threads engine: the worker's goroutine issues its I/O one at
// a time in blocking system calls. The io_uring engine (ringengine.go)
// drives the same workers through the same next/arm/issued/complete steps.
func (w *worker) run(start <-chan struct{}, done func()) {
	defer done()
	defer w.gate.alive.Add(-1)
	<-start
	w.lastDone = w.clock.Now()
	for !w.stop.Load() {
		if w.budget == 0 || w.lastDone >= w.deadline.Load() {
			return
		}
		if w.gate.closed.Load() {
			w.gate.wait(w.stop)
			continue
		}
		// Clock reads are the costliest part of issuing an I/O on hosts
		// without a vDSO clock (about 0.5 µs each on some VMs): closed
		// loop reads the clock twice per I/O, open loop three times.
		var now int64
		if w.pacer != nil {
			now = w.clock.Now()
		}
		w.next(now)
		if w.pacer != nil && w.cur.intended > now && !w.waitUntil(now, w.cur.intended) {
			return
		}
		w.arm()
		w.issued(w.clock.Now())
		n, errno := pio(w.fd, w.buf[:w.bs], w.cur.off, w.cur.op)
		switch w.complete(n, errno, w.clock.Now()) {
		case ioGone:
			fd, gen, ok := w.ro.wait(w.fdGen, w.lastDone)
			if !ok {
				return
			}
			w.fd, w.fdGen, w.errRun = fd, gen, 0
		case ioFailed:
			w.backoff(w.cur.op)
		case ioOK:
			if w.think > 0 && !w.waitUntil(w.lastDone, w.lastDone+w.think) {
				return
			}
		}
	}
}

// next picks the worker's next I/O into w.cur: its op, size and offset,
// and in open loop its intended start, paced from now.
func (w *worker) next(now int64) {
	op := Read
	switch {
	case !w.rw.Reads():
		op = Write
	case w.rw.Writes():
		if w.rng.Uint32N(100) >= w.readPct {
			op = Write
		}
	}
	si := 0
	if w.sizes != nil {
		si, w.bs = w.sizes[op].pick(w.rng)
	}
	var off int64
	if w.seqMix != nil {
		off = w.seqMix.NextN(w.bs)
	} else {
		off = w.offs.Next()
	}
	w.cur = pending{op: op, si: si, off: off}
	if w.pacer != nil {
		w.cur.intended, w.cur.skipped = w.pacer.Next(now)
	}
}

// arm fills the buffer for a write: the verify stamps, or the payload
// (and the generation map forgets the blocks it overwrites).
func (w *worker) arm() {
	if w.cur.op != Write {
		return
	}
	if w.vmap != nil {
		w.stampVerified(w.cur.off)
		return
	}
	w.stampPayload()
	if w.forget != nil {
		w.forget.Forget(w.cur.off, w.bs)
	}
}

// issued marks the prepared I/O in flight from t0.
func (w *worker) issued(t0 int64) {
	if w.pacer == nil {
		w.cur.intended = t0
	}
	w.rec.Issue(t0)
}

// complete accounts for the I/O in flight, which ended at t1 having moved
// n bytes or failed with errno: the recorder, the stall flag, the inline
// verify checks, open-loop slots missed, the byte budget. It says what the
// worker does next.
func (w *worker) complete(n int, errno syscall.Errno, t1 int64) outcome {
	op, off := w.cur.op, w.cur.off
	w.lastDone = t1
	if errno != 0 || int64(n) != w.bs {
		w.rec.Fail(IOError{At: time.Duration(t1), Op: op, Offset: off, Errno: errno, Short: errno == 0}, t1)
		w.stall.completed(t1)
		if w.stopOnE {
			w.stop.Store(true)
		}
		if deviceGone(errno) && w.ro != nil {
			return ioGone
		}
		w.errRun++
		return ioFailed
	}
	w.errRun = 0
	lat := t1 - w.cur.intended
	if w.vmap != nil {
		if op == Write {
			w.ackVerified(off)
		} else {
			w.checkRead(off)
		}
	}
	w.rec.DoneSize(op, w.cur.si, n, lat, t1)
	w.stall.completed(t1)
	if w.cur.skipped > 0 {
		w.rec.Missed(op, w.cur.skipped, lat+w.cur.skipped*w.pacer.Period(), w.pacer.Period())
	}
	if w.budget > 0 && w.measuring.Load() {
		w.budget = max(w.budget-w.bs, 0)
	}
	return ioOK
}

// waitUntil waits until the run clock reaches t (now being its last
// reading) to the µs, for an open-loop slot or after a think time (see
// wait.go). It returns false when the phase is stopping.
func (w *worker) waitUntil(now, t int64) bool {
	return waitUntil(osWait{w.clock}, &w.spin, now, t, w.stop)
}

// pio issues one positioned read or write, straight to the system call so
// that no wrapper allocates or locks.
func pio(fd int, buf []byte, off int64, op Op) (int, syscall.Errno) {
	trap := uintptr(unix.SYS_PREAD64)
	if op == Write {
		trap = unix.SYS_PWRITE64
	}
	n, _, e := unix.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(off), 0, 0)
	return int(n), e
}

// fillRandom fills b with pseudo-random bytes from rng.
func fillRandom(b []byte, rng *rand.Rand) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
}
