package workload

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"lunbench/workload/uring"
)

// The io_uring engine (engine: io_uring) drives all the workers of one
// target through one ring, from one goroutine: it prepares each ready
// slot's next I/O with the worker's own steps (next, arm, issued,
// complete in worker.go), submits them in one io_uring_enter that also
// waits for completions, and completes what it reaped. Each worker keeps
// its recorder, so latency is per I/O from submission to completion, and
// the stall detector, in-flight counts and inline verify see no difference.
// Where the threads engine sleeps (pacing, think time, error backoff, a
// reopen, a closed verify gate), a slot waits in a state here, and the
// ring's wait is bounded by the earliest of their deadlines.

// slotState is what a slot of the ring is doing.
type slotState uint8

const (
	slotReady    slotState = iota // to prepare its next I/O
	slotInFlight                  // its I/O is in the ring
	slotPaced                     // prepared, waiting for its intended start
	slotThink                     // pausing after a completion
	slotBackoff                   // pausing after consecutive errors
	slotReopen                    // waiting for the target to reopen
	slotParked                    // parked at a closed verify gate
	slotDone                      // finished (stop or budget)
)

// ringSlot is one worker's state in the ring.
type ringSlot struct {
	state slotState
	wake  int64 // clock ns a timed state ends
	from  int64 // clock ns a backoff began
}

// ringWorkers bounds the kernel threads (io-wq workers) that serve one
// ring's requests its device could not take at once. One suffices: such a
// worker only waits for a free tag and submits, it does not wait for the
// I/O, so the queue depth at the device is unchanged. Unbounded, a QD 256
// ring on a loop device (128 tags) grew one thread per waiting request (76
// threads for 4 such rings); bounded to 4, 28; to 1, 16 at the same IOPS.
const ringWorkers = 1

// ringPoll bounds one wait in the ring, so a stop, a closed gate or a
// reopen is noticed while I/O is stuck in a stalled device.
const ringPoll = 50 * time.Millisecond

// ringRunner is one target's io_uring engine.
type ringRunner struct {
	ring  *uring.Ring
	ws    []*worker
	slots []ringSlot
	cqes  []uring.CQE
	// issue lists the slots prepared in this pass, stamped with one
	// submission time when the batch goes to the kernel.
	issue []int32
	// fd is the registered file index (0) or, when files could not be
	// registered, the descriptor; gen is the reopen generation it is.
	fd    int32
	fixed bool
	gen   uint64
	ro    *reopener
	gate  *gate
	stop  *atomic.Bool
	clock Clock
	// live counts slots not done; inflight those in the ring; parked
	// those counted in the gate's parked.
	live, inflight, parked int
	// completions counts I/Os completed, for benchmarks.
	completions uint64
	// readyq lists the slots that completed since the last turn. While
	// no slot waits (waiting: paced, thinking, backing off, parked or
	// reopening; reopens of them reopening) and the phase neither stops
	// nor holds the gate, a turn moves only these on; wake is then the
	// earliest deadline of a slot that started waiting since.
	readyq           []int32
	waiting, reopens int
	wake             int64
}

// newRingRunner sets up a ring for one target's workers, registering
// their buffers and the target's file. Registration failures (a low
// RLIMIT_MEMLOCK) only cost speed: the ring then uses plain READ/WRITE on
// the descriptor. A setup failure is returned, for the caller to fall back.
func newRingRunner(setup func(uint32) (*uring.Ring, error), ws []*worker, ro *reopener, fd int, note func(string)) (*ringRunner, error) {
	ring, err := setup(uint32(len(ws)))
	if err != nil {
		return nil, err
	}
	rr := &ringRunner{ring: ring, ws: ws, slots: make([]ringSlot, len(ws)), cqes: make([]uring.CQE, len(ws)),
		issue: make([]int32, 0, len(ws)), readyq: make([]int32, 0, len(ws)), fd: int32(fd), ro: ro, gen: ro.gen.Load(), live: len(ws)}
	for i, w := range ws {
		rr.readyq = append(rr.readyq, int32(i))
		// One goroutine records every slot's I/O: the slots share one
		// pair of slices (histograms), which the collector swaps once
		// a tick instead of once per slot, and keep their own
		// in-flight and completion times for the stall detector.
		if i > 0 {
			w.rec = ws[0].rec.shared()
		}
	}
	w0 := ws[0]
	rr.gate, rr.stop, rr.clock = w0.gate, w0.stop, w0.clock
	bufs := make([][]byte, len(ws))
	for i, w := range ws {
		bufs[i] = w.buf
	}
	if err := ring.RegisterBuffers(bufs); err != nil {
		note(err.Error() + "; using unregistered buffers")
	}
	if err := ring.SetMaxWorkers(ringWorkers, 0); err != nil {
		note(err.Error() + "; the kernel may start a thread per request the device cannot take at once")
	}
	if err := ring.RegisterFiles([]int32{int32(fd)}); err != nil {
		note(err.Error() + "; using the plain descriptor")
	} else {
		rr.fd, rr.fixed = 0, true
	}
	return rr, nil
}

// run is the ring's goroutine: it ends when every slot is done and no I/O
// is in flight, and closes the ring.
func (rr *ringRunner) run(start <-chan struct{}, done func()) {
	defer done()
	defer rr.ring.Close()
	// The kernel keeps io-wq workers, and their bound, per submitting
	// thread: submitting always from the same one keeps them to one pool.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := rr.ring.Enable(); err != nil {
		// Not expected once setup succeeded; the slots end as failed.
		rr.failAll(err)
		return
	}
	<-start
	now := rr.clock.Now()
	for _, w := range rr.ws {
		w.lastDone = now
	}
	for rr.live > 0 || rr.inflight > 0 {
		rr.step()
	}
}

// step is one turn of the ring: move the slots on, submit what they
// prepared and wait in the same io_uring_enter (until a completion, the
// earliest slot deadline or ringPoll), then complete what came back.
func (rr *ringRunner) step() {
	wake := rr.schedule(rr.clock.Now())
	rr.submit()
	if rr.live == 0 && rr.inflight == 0 {
		return
	}
	timeout := ringPoll
	if rr.parked > 0 || rr.reopens > 0 {
		// The threads engine polls a closed gate every 1 ms.
		timeout = time.Millisecond
	}
	if wake != 0 {
		timeout = min(timeout, time.Duration(max(wake-rr.clock.Now(), 0)))
	}
	if _, err := rr.ring.Enter(true, max(timeout, time.Microsecond)); err != nil {
		// The ring itself failed (not an I/O): every slot's I/O is
		// reported as failed with the error's errno.
		rr.failAll(err)
	}
	rr.reap()
}

// schedule moves every slot that is not in flight on, at clock time now:
// it prepares the I/O of ready slots (queuing their SQEs), wakes timed
// slots whose deadline passed, parks slots at a closed gate and retires
// slots when the phase stops. It returns the earliest deadline of a timed
// slot, 0 when none waits for a time.
func (rr *ringRunner) schedule(now int64) int64 {
	stopping := rr.stop.Load()
	gateClosed := rr.gate.closed.Load()
	reopened := rr.ro.gen.Load() != rr.gen
	if reopened {
		rr.reopened()
	}
	if rr.waiting == 0 && !stopping && !gateClosed {
		// The common turn: only slots that just completed move on, so
		// a turn costs what it reaped, not the queue depth.
		rr.wake = 0
		for _, i := range rr.readyq {
			rr.ready(int(i), now, false, false)
		}
		rr.readyq = rr.readyq[:0]
		return rr.wake
	}
	rr.readyq = rr.readyq[:0]
	var wake int64
	rr.waiting, rr.reopens = 0, 0
	for i := range rr.slots {
		s, w := &rr.slots[i], rr.ws[i]
		switch s.state {
		case slotInFlight, slotDone:
			continue
		case slotParked:
			if stopping || !gateClosed {
				rr.parked--
				rr.gate.parked.Add(-1)
				s.state = slotReady
			}
		case slotReopen:
			// Its I/O failed on generation w.fdGen; once the ring is on
			// a newer one it goes on (at once for an I/O that was
			// issued before a reopen another slot already waited for).
			if w.fdGen != rr.gen {
				w.fdGen, w.errRun = rr.gen, 0
				s.state = slotReady
			} else if stopping {
				rr.retire(i)
			}
		case slotBackoff:
			if stopping || gateClosed || now >= s.wake {
				w.rec.Backoff(w.cur.op, min(now, s.wake)-s.from)
				s.state = slotReady
			}
		case slotThink:
			if stopping {
				rr.retire(i)
			} else if now >= s.wake {
				s.state = slotReady
			}
		case slotPaced:
			if stopping {
				rr.retire(i)
			} else if now >= s.wake {
				rr.prep(i)
			}
		}
		if s.state == slotReady {
			rr.ready(i, now, stopping, gateClosed)
		}
		switch s.state {
		case slotPaced, slotThink, slotBackoff:
			rr.waiting++
			if wake == 0 || s.wake < wake {
				wake = s.wake
			}
		case slotParked:
			rr.waiting++
		case slotReopen:
			rr.waiting++
			rr.reopens++
		}
	}
	rr.wake = wake
	return wake
}

// ready decides what ready slot i does next: retire, park at the gate, or
// prepare its next I/O (which, in open loop, may wait for its start).
func (rr *ringRunner) ready(i int, now int64, stopping, gateClosed bool) {
	s, w := &rr.slots[i], rr.ws[i]
	switch {
	case stopping || w.budget == 0 || w.lastDone >= w.deadline.Load():
		// As a thread worker: at the phase's end, its byte budget or its
		// deadline (which ends the phase on time even when the
		// aggregator is late).
		rr.retire(i)
	case gateClosed:
		s.state = slotParked
		rr.parked++
		rr.gate.parked.Add(1)
	default:
		w.next(now)
		if w.pacer != nil && w.cur.intended > now {
			rr.wait(i, slotPaced, w.cur.intended)
			return
		}
		rr.prep(i)
	}
}

// prep writes slot i's payload and queues its SQE.
func (rr *ringRunner) prep(i int) {
	w := rr.ws[i]
	w.arm()
	w.fdGen = rr.gen
	rr.ring.PrepRW(w.cur.op == Write, rr.fd, w.buf[:w.bs], i, w.cur.off, uint64(i))
	rr.slots[i].state = slotInFlight
	rr.inflight++
	rr.issue = append(rr.issue, int32(i))
}

// submit stamps the slots prepared in this pass with one submission time:
// the io_uring_enter that follows hands them to the kernel.
func (rr *ringRunner) submit() {
	if len(rr.issue) == 0 {
		return
	}
	t0 := rr.clock.Now()
	for _, i := range rr.issue {
		rr.ws[i].issued(t0)
	}
	rr.issue = rr.issue[:0]
}

// reap completes what the ring returned, all at one completion time (the
// clock read when the wait returned: the CQEs were all there by then).
func (rr *ringRunner) reap() {
	n, err := rr.ring.Reap(rr.cqes)
	if err != nil {
		rr.failAll(err)
		return
	}
	if n == 0 {
		return
	}
	t1 := rr.clock.Now()
	for _, c := range rr.cqes[:n] {
		rr.completed(int(c.UserData), c.Res, c.Errno(), t1)
	}
}

// completed hands slot i's result to its worker and sets the slot's next
// state from the outcome.
func (rr *ringRunner) completed(i int, res int32, errno syscall.Errno, t1 int64) {
	s, w := &rr.slots[i], rr.ws[i]
	rr.inflight--
	rr.completions++
	n := int(max(res, 0))
	switch w.complete(n, errno, t1) {
	case ioGone:
		rr.ro.begin(w.fdGen, t1)
		rr.wait(i, slotReopen, 0)
		rr.reopens++
		return
	case ioFailed:
		if d := int64(backoffFor(w.errRun)); d > 0 {
			s.from = t1
			rr.wait(i, slotBackoff, t1+d)
			return
		}
	case ioOK:
		if w.think > 0 {
			rr.wait(i, slotThink, t1+w.think)
			return
		}
	}
	s.state = slotReady
	rr.readyq = append(rr.readyq, int32(i))
}

// wait puts slot i in a waiting state until clock time wake (0: until an
// event, a reopen or the gate opening); the next turns scan all slots.
func (rr *ringRunner) wait(i int, st slotState, wake int64) {
	s := &rr.slots[i]
	s.state, s.wake = st, wake
	rr.waiting++
	if wake != 0 && (rr.wake == 0 || wake < rr.wake) {
		rr.wake = wake
	}
}

// reopened points the ring at the target's new descriptor after a reopen.
func (rr *ringRunner) reopened() {
	fd := int32(rr.ro.fd.Load())
	rr.gen = rr.ro.gen.Load()
	if !rr.fixed {
		rr.fd = fd
		return
	}
	if err := rr.ring.UpdateFile(0, fd); err != nil {
		// Keep going on the plain descriptor.
		rr.fd, rr.fixed = fd, false
		rr.ring.UnfixFiles()
	}
}

// retire ends slot i: it no longer counts as a running worker at the gate.
func (rr *ringRunner) retire(i int) {
	rr.slots[i].state = slotDone
	rr.live--
	rr.gate.alive.Add(-1)
}

// failAll is the end of a ring that failed: the I/O in flight is lost to
// it, so each is completed as failed with the error's errno (EIO when it
// has none), and the phase's other targets go on.
func (rr *ringRunner) failAll(err error) {
	errno := syscall.EIO
	if e, ok := err.(interface{ Unwrap() error }); ok {
		if en, ok := e.Unwrap().(syscall.Errno); ok {
			errno = en
		}
	}
	t1 := rr.clock.Now()
	for i := range rr.slots {
		if rr.slots[i].state == slotInFlight {
			rr.completed(i, 0, errno, t1)
		}
		if rr.slots[i].state != slotDone {
			if rr.slots[i].state == slotParked {
				rr.parked--
				rr.gate.parked.Add(-1)
			}
			rr.retire(i)
		}
	}
}
