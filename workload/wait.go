package workload

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A worker waits for its next open-loop slot or through its think time with
// waitUntil. time.Sleep cannot do it: the Go runtime's timers wake through
// epoll, whose timeout is whole milliseconds, so any sleep under 1 ms
// lasts about 1 ms (measured on this project's 2-core VM: a 10 µs, 50 µs
// or 200 µs time.Sleep overslept by 0.9–1.1 ms at the median), and open
// loop fell far short of its rate from 1,000 IOPS per worker up. A
// nanosleep system call wakes within the kernel's timer slack (50 µs) plus
// the scheduler's wake-up delay (about 90 µs at the median there), so the
// worker sleeps in the kernel until a margin before the slot and spins the
// rest, yielding its processor to other goroutines between clock reads.
//
// The margin tracks the 95th percentile of how late the kernel wakes the
// worker (a stochastic quantile estimate: up 19 steps when the wake-up was
// later than the margin, down one step otherwise), so a quiet host spins
// a few µs per I/O and a loaded one spins longer instead of issuing late.
const (
	// spinMin and spinMax bound the margin: spinMax caps the CPU a paced
	// worker burns per I/O when the host wakes it very late.
	spinMin   = int64(5 * time.Microsecond)
	spinMax   = int64(time.Millisecond)
	spinStart = int64(100 * time.Microsecond)
	// spinStep is the quantile estimate's step down; a wake-up later than
	// the margin moves it up spinUp steps (p95: 19 up for 1 down).
	spinStep = int64(time.Microsecond)
	spinUp   = 19
	// sleepMax bounds one sleep so that a slowly paced or thinking worker
	// notices the phase's end (and a verify pass parks it) promptly.
	sleepMax = int64(50 * time.Millisecond)
)

// waitClock is what waitUntil needs: the run clock, a sleep that blocks the
// calling thread, and a yield of the processor. osWait is the real one;
// tests drive a fake.
type waitClock interface {
	Now() int64
	Sleep(ns int64)
	Yield()
}

// osWait is the real waitClock: the run clock, nanosleep(2) and
// runtime.Gosched.
type osWait struct{ clock Clock }

// Now reads the run clock.
func (o osWait) Now() int64 { return o.clock.Now() }

// Sleep blocks the thread for ns in the kernel: a signal (the Go runtime's
// preemption) may cut it short, which waitUntil's loop absorbs.
func (osWait) Sleep(ns int64) {
	ts := unix.NsecToTimespec(ns)
	_ = unix.Nanosleep(&ts, nil)
}

// Yield lets other goroutines run on the processor.
func (osWait) Yield() { runtime.Gosched() }

// spinMargin is one worker's estimate of how early to stop sleeping (ns);
// the zero value starts at spinStart.
type spinMargin struct {
	ns int64
	// limit caps the margin (0: spinMax); see spinLimit.
	limit int64
}

// spinLimit caps the spin margin of each of a target's qd workers whose
// slots (or think times) are gap ns apart, so that spinning costs at most
// a quarter of a core per target: qd workers spinning m ns every gap ns
// burn qd·m/gap of a core. Past that, a worker sleeps closer to its slot
// and is charged the kernel's wake-up lateness instead (tens of µs).
func spinLimit(gap int64, qd int) int64 {
	return max(gap/int64(4*max(qd, 1)), 1)
}

// get returns the margin.
func (m *spinMargin) get() int64 {
	if m.ns == 0 {
		m.ns = spinStart
	}
	if m.limit > 0 {
		return min(m.ns, m.limit)
	}
	return m.ns
}

// observe updates the estimate with one wake-up's lateness: how long after
// the end of the sleep asked for the worker ran again. The estimate is
// kept whole under a limit, which only get applies.
func (m *spinMargin) observe(late int64) {
	m.get() // the zero value starts at spinStart
	ns := m.ns
	if late > ns {
		ns += spinUp * spinStep
	} else {
		ns -= spinStep
	}
	m.ns = min(max(ns, spinMin), spinMax)
}

// waitUntil waits until the clock reaches t, now being its last reading:
// it sleeps in steps of at most sleepMax until t less the margin, then
// spins (even if the margin shrank meanwhile: one short sleep per wait).
// It returns false as soon as stop is set.
func waitUntil[C waitClock](c C, m *spinMargin, now, t int64, stop *atomic.Bool) bool {
	for d := t - now; d > m.get(); d = t - now {
		if stop.Load() {
			return false
		}
		step := min(d-m.get(), sleepMax)
		c.Sleep(step)
		woke := c.Now()
		now = woke
		if step < sleepMax {
			m.observe(woke - (t - d) - step)
			break
		}
	}
	for now < t {
		if stop.Load() {
			return false
		}
		c.Yield()
		now = c.Now()
	}
	return !stop.Load()
}
