package workload

// Pacer schedules one worker's I/Os open-loop at a fixed period. Latency is
// measured from each I/O's intended start, so a slow or stalled device is
// charged for the time the application would have waited (no coordinated
// omission). After a stall the pacer does not burst to catch up: the slots
// that passed are reported as missed, and the schedule continues from the
// next slot in the future.
type Pacer struct {
	period int64 // ns
	next   int64 // intended start of the next I/O, ns since clock base
}

// NewPacer returns a pacer issuing every period ns, starting at start.
func NewPacer(start, period int64) *Pacer { return &Pacer{period: period, next: start} }

// Period returns the pacer's period in ns.
func (p *Pacer) Period() int64 { return p.period }

// Next returns the intended start of the next I/O and how many earlier slots
// were skipped because now is already past them. The caller sleeps until
// intended (if it is in the future), issues the I/O, and measures latency
// from intended.
//
// When now is within one period of the scheduled slot, the slot is kept
// (late by less than a period is ordinary scheduling jitter and its delay
// is charged to the I/O). When now is further behind, every slot but the
// latest one that has passed is skipped.
func (p *Pacer) Next(now int64) (intended int64, skipped int64) {
	intended = p.next
	if behind := now - intended; behind >= p.period {
		skipped = behind / p.period
		intended += skipped * p.period
	}
	p.next = intended + p.period
	return intended, skipped
}
