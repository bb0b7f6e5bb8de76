package workload

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// acc accumulates one target × op across workers for an interval and for
// the phase.
type acc struct {
	iv    opCounts
	phase opCounts
	// Error bookkeeping for the phase.
	errnos map[syscall.Errno]uint64
	logged int
}

func (a *acc) add(c *opCounts, measuring bool) {
	a.iv.merge(c)
	if measuring {
		a.phase.merge(c)
	}
}

// merge adds c's counts and histogram into o. A worker's histogram (lat)
// is drained: merge it once.
func (o *opCounts) merge(c *opCounts) {
	o.ops += c.ops
	o.bytes += c.bytes
	o.errors += c.errors
	o.latSum += c.latSum
	o.missed += c.missed
	o.backoffs += c.backoffs
	o.backoffNs += c.backoffNs
	for i, n := range c.sizeOps {
		o.sizeOps[i] += n
	}
	o.latMax = max(o.latMax, c.latMax)
	if c.latMin != 0 && (o.latMin == 0 || c.latMin < o.latMin) {
		o.latMin = c.latMin
	}
	switch {
	case c.lat != nil:
		c.lat.drainInto(o.hist) // a worker's half: emptied as it goes
	case c.hist != nil && c.hist.TotalCount() > 0:
		o.hist.Merge(c.hist)
	}
}

// maxErrEvents bounds how many I/O errors per phase × target are written
// as individual events; all are counted.
const maxErrEvents = 20

func summarize(c *opCounts) LatencySummary {
	if c.ops == 0 {
		return LatencySummary{}
	}
	h := c.hist
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtPercentile(p)) }
	s := LatencySummary{
		Count:  c.ops,
		Min:    time.Duration(c.latMin),
		Mean:   time.Duration(c.latSum / c.ops),
		Stddev: time.Duration(h.StdDev()),
		P50:    q(50),
		P90:    q(90),
		P99:    q(99),
		P999:   q(99.9),
		P9999:  q(99.99),
		Max:    time.Duration(c.latMax),
	}
	// Histogram buckets report their upper edge; never above the exact max.
	for _, p := range []*time.Duration{&s.P50, &s.P90, &s.P99, &s.P999, &s.P9999} {
		if *p > s.Max {
			*p = s.Max
		}
	}
	return s
}

// takeErrors moves a worker slice's error details into the phase's
// bookkeeping and the event stream.
func (r *Runner) takeErrors(s *slice, phase string, t *target, accs [NumOps]*acc) {
	for _, ec := range s.errnos {
		if ec.n > 0 && accs[ec.op] != nil {
			accs[ec.op].errnos[ec.errno] += ec.n
		}
	}
	for i := 0; i < s.nErrLog; i++ {
		e := s.errLog[i]
		a := accs[e.Op]
		if a == nil || a.logged >= maxErrEvents {
			continue
		}
		a.logged++
		detail := fmt.Sprintf("%s failed at offset %d: %s", e.Op, e.Offset, errnoText(e))
		if a.logged == maxErrEvents {
			detail += fmt.Sprintf(" (further errors on %s in this phase are counted, not logged)", t.spec.Name)
		}
		r.emit(Event{Time: r.clock.Time(int64(e.At)), Kind: EvIOError, Phase: phase, Target: t.spec.Name,
			Offset: e.Offset, Errno: errnoText(e), Detail: detail})
	}
}

func errnoText(e IOError) string {
	if e.Short {
		return "short transfer"
	}
	return errnoName(e.Errno)
}

// errnoName returns the symbolic name of an errno (EIO), falling back to its
// number.
func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "short transfer"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}
