package workload

import (
	"fmt"
	"time"
)

// Retry backoff after consecutive I/O errors on a worker: a dead target
// (every I/O fails at once with EIO) would otherwise be retried at line
// rate, over 100,000 failures a second, burning the CPUs that the rest of
// the host (and the drill's recovery) need.
const (
	backoffFirst = time.Millisecond
	backoffMax   = 100 * time.Millisecond
	// backoffStep bounds one sleep, so a phase end or a verify pass is
	// not kept waiting by a worker backing off.
	backoffStep = 10 * time.Millisecond
)

// backoffFor is the pause before the next I/O after run consecutive
// errors: none after a single error (it is retried at once and the next
// error timed exactly), then 1 ms doubling to 100 ms.
func backoffFor(run int) time.Duration {
	if run < 2 {
		return 0
	}
	return min(backoffFirst<<min(run-2, 7), backoffMax)
}

// backoff pauses the worker after its errRun-th consecutive error and
// records the pause against op. It returns early when the phase stops or
// a verify pass needs the worker parked.
func (w *worker) backoff(op Op) {
	d := int64(backoffFor(w.errRun))
	if d == 0 {
		return
	}
	var slept int64
	for slept < d && !w.stop.Load() && !w.gate.closed.Load() {
		step := min(d-slept, int64(backoffStep))
		time.Sleep(time.Duration(step))
		slept += step
	}
	w.rec.Backoff(op, slept)
}

// Backoff records that the worker paused for ns after consecutive errors.
func (r *Recorder) Backoff(op Op, ns int64) {
	r.seq.Add(1)
	c := &r.halves[r.active.Load()].op[op]
	c.backoffs++
	c.backoffNs += ns
	r.seq.Add(1)
}

// noteBackoff emits an event the first time in a phase that a target's
// workers back off, so the results say why its error rate is bounded.
func (r *Runner) noteBackoff(s *slice, now int64, phase string, t *target, noted *bool) {
	if *noted {
		return
	}
	for _, c := range s.op {
		if c.backoffs > 0 {
			*noted = true
			r.emit(Event{Time: r.clock.Time(now), Kind: EvNote, Phase: phase, Target: t.spec.Name,
				Detail: fmt.Sprintf("consecutive I/O errors on %s: its workers now pause between retries (%s doubling to %s); backoffs are counted in run.json", t.spec.Name, backoffFirst, backoffMax)})
			return
		}
	}
}
