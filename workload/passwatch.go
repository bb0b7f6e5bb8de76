package workload

import (
	"sync/atomic"

	"lunbench/workload/verify"
)

// passWatch is how a verify pass over one target shows in the phase's
// stall detection; it is the pass's verify.Watcher. While a pass reads a
// target the phase's workers are parked at the gate with nothing in
// flight, so the pass's reads are the target's only I/O: a pass that keeps
// reading is no stall, and one whose reads hang is one.
type passWatch struct {
	clock Clock
	flag  *stallFlag
	// issued is, per reader, the clock time its read in flight was issued
	// (0: none), each on its own cache line.
	issued [verify.MaxQD]struct {
		atomic.Int64
		_ [56]byte
	}
	// mark is the latest completion of a pass read, or the latest moment
	// the target's I/O began again after a pause with nothing in flight
	// (its pass began, the gate opened): no gap before it is a stall.
	mark atomic.Int64
	// active is set while a pass reads the target.
	active atomic.Bool
}

var _ verify.Watcher = (*passWatch)(nil)

// Issued marks reader r's read in flight.
func (p *passWatch) Issued(r int) { p.issued[r].Store(p.clock.Now()) }

// Completed ends reader r's read: a completion of the target's, which
// also ends a stall in progress.
func (p *passWatch) Completed(r int) {
	now := p.clock.Now()
	p.issued[r].Store(0)
	p.raise(now)
	p.flag.completed(now)
}

// raise moves mark on to now unless it is already later (the readers race).
func (p *passWatch) raise(now int64) {
	for {
		m := p.mark.Load()
		if m >= now || p.mark.CompareAndSwap(m, now) {
			return
		}
	}
}

// begin marks the start of a pass over the target at now.
func (p *passWatch) begin(now int64) {
	p.raise(now)
	p.active.Store(true)
}

// end marks the end of the pass.
func (p *passWatch) end() { p.active.Store(false) }

// scan adds the pass's reads to a detector's view of the target: how many
// are in flight, when the oldest was issued (0: none; else the lower of it
// and oldest), and the later of mark and last.
func (p *passWatch) scan(inflight int, oldest, last int64) (int, int64, int64) {
	for i := range p.issued {
		if is := p.issued[i].Load(); is != 0 {
			inflight++
			if oldest == 0 || is < oldest {
				oldest = is
			}
		}
	}
	return inflight, oldest, max(last, p.mark.Load())
}
