package workload

import (
	"math/rand/v2"
	"time"
)

// pacerCatchUp is how far behind its schedule a pacer may fall and still
// issue every slot, back to back, rather than skip: a worker that the host
// did not run for a few ms, or whose I/O took a little longer than its
// period, catches up on what it owes (latency still counts from each
// slot's intended start). Without it, a 200,000 IOPS pace (5 µs per slot)
// skipped a slot on every I/O slower than the period. It is far below any
// stall_threshold (500 ms by default), so a stall is still never followed
// by a burst.
const pacerCatchUp = int64(10 * time.Millisecond)

// Pacer schedules one worker's I/Os open-loop at a fixed period. Latency is
// measured from each I/O's intended start, so a slow or stalled device is
// charged for the time the application would have waited (no coordinated
// omission). After a stall the pacer does not burst to catch up: the slots
// that passed are reported as missed, and the schedule continues from the
// next slot in the future.
type Pacer struct {
	period int64 // ns; the mean gap for a Poisson pacer
	next   int64 // intended start of the next I/O, ns since clock base
	// window is how far behind the pacer keeps every slot: at least a
	// period, and pacerCatchUp.
	window int64
	// rng, when set, draws each gap from the exponential distribution of
	// mean period (a Poisson process, fio's rate_process=poisson); it is
	// the worker's own PRNG.
	rng *rand.Rand
}

// NewPacer returns a pacer issuing every period ns, starting at start.
func NewPacer(start, period int64) *Pacer {
	return &Pacer{period: period, next: start, window: max(period, pacerCatchUp)}
}

// NewPoissonPacer returns a pacer whose gaps are exponential with mean
// period, drawn from rng (deterministic from the seed).
func NewPoissonPacer(start, period int64, rng *rand.Rand) *Pacer {
	return &Pacer{period: period, next: start, rng: rng, window: max(period, pacerCatchUp)}
}

// gap returns the time to the slot after this one.
func (p *Pacer) gap() int64 {
	if p.rng == nil {
		return p.period
	}
	return max(int64(p.rng.ExpFloat64()*float64(p.period)), 1)
}

// Period returns the pacer's period in ns.
func (p *Pacer) Period() int64 { return p.period }

// Next returns the intended start of the next I/O and how many earlier slots
// were skipped because now is already past them. The caller sleeps until
// intended (if it is in the future), issues the I/O, and measures latency
// from intended.
//
// When now is less than the window (a period, and at least pacerCatchUp)
// behind the scheduled slot, the slot is kept: that is ordinary scheduling
// jitter, the worker issues at once and the delay is charged to the I/O.
// When now is further behind, every slot but the latest one that has
// passed is skipped. A Poisson pacer skips in steps of its mean gap, so a
// stall costs it as many slots as a fixed pacer.
func (p *Pacer) Next(now int64) (intended int64, skipped int64) {
	intended = p.next
	if behind := now - intended; behind >= p.window {
		skipped = behind / p.period
		intended += skipped * p.period
	}
	p.next = intended + p.gap()
	return intended, skipped
}
