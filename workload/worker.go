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
	runID   uint64
	stamper *verify.Stamper // the run's stamp pad, made once
	gens    []uint32
	vfind   *inlineFindings
	target  string
	checked uint64 // units checked by reads
	// lastDone is the clock time of the worker's last completion.
	lastDone int64
	// errRun counts consecutive failed I/Os (see backoff).
	errRun int
	// heldRamp says whether the slice the collector could not take at
	// its last tick (see Recorder.trySwap) was a ramp slice; only the
	// collector uses it.
	heldRamp bool
	// spin is how early the worker stops sleeping before a slot (wait.go).
	spin spinMargin
}

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
		// Clock reads are the costliest part of issuing an I/O on hosts
		// without a vDSO clock (about 0.5 µs each on some VMs): closed
		// loop reads the clock twice per I/O, open loop three times.
		var intended, skipped int64
		if w.pacer != nil {
			now := w.clock.Now()
			intended, skipped = w.pacer.Next(now)
			if intended > now && !w.waitUntil(now, intended) {
				return
			}
		}
		if op == Write {
			if w.vmap != nil {
				w.stampVerified(off)
			} else {
				w.stampPayload()
				if w.forget != nil {
					w.forget.Forget(off, w.bs)
				}
			}
		}
		t0 := w.clock.Now()
		if w.pacer == nil {
			intended = t0
		}
		w.rec.Issue(t0)
		n, errno := pio(w.fd, w.buf[:w.bs], off, op)
		t1 := w.clock.Now()
		w.lastDone = t1
		if errno != 0 || int64(n) != w.bs {
			w.rec.Fail(IOError{At: time.Duration(t1), Op: op, Offset: off, Errno: errno, Short: errno == 0}, t1)
			w.stall.completed(t1)
			if w.stopOnE {
				w.stop.Store(true)
			}
			if deviceGone(errno) && w.ro != nil {
				fd, gen, ok := w.ro.wait(w.fdGen, t1)
				if !ok {
					return
				}
				w.fd, w.fdGen, w.errRun = fd, gen, 0
				continue
			}
			w.errRun++
			w.backoff(op)
			continue
		}
		w.errRun = 0
		lat := t1 - intended
		if w.vmap != nil {
			if op == Write {
				w.ackVerified(off)
			} else {
				w.checkRead(off)
			}
		}
		w.rec.DoneSize(op, si, n, lat, t1)
		w.stall.completed(t1)
		if skipped > 0 {
			w.rec.Missed(op, skipped, lat+skipped*w.pacer.Period(), w.pacer.Period())
		}
		if w.budget > 0 && w.measuring.Load() {
			w.budget = max(w.budget-w.bs, 0)
		}
		if w.think > 0 && !w.waitUntil(t1, t1+w.think) {
			return
		}
	}
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
