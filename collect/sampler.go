package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Targets are re-resolved (which costs a few hundred syscalls for 16
// multipath maps) only when the device list might have changed:
//   - a sampled device vanished from /proc/diskstats;
//   - the set of names in /proc/diskstats changed: then for refreshAfter
//     samples, since a new path (a session logging back in as sdk) shows in
//     /proc/diskstats before multipathd adds it to the map's slaves;
//   - and every refreshEvery samples, for dm table reloads that regroup
//     existing devices without adding any.
const (
	refreshAfter = 5
	refreshEvery = 30
)

// Sampler turns /proc/diskstats into DiskStat rows for a run's targets and
// every device under them. It keeps each device's previous reading itself;
// the caller ticks it and passes the time. Not safe for concurrent use.
type Sampler struct {
	h       Host
	targets []Resolved
	slots   map[string]*slot // by kernel name
	rows    int              // members over all targets, to size the result

	f       *os.File // /proc/diskstats, kept open and re-read with pread
	buf     []byte
	samples int
	stale   bool   // a device vanished: resolve again
	names   uint64 // hash of the names in the last /proc/diskstats
	pending int    // samples left to re-resolve after the names changed
	taken   time.Time
}

type slot struct {
	cur, prev DiskCounters
	prevTime  time.Time
	seen      bool // present in the reading being processed
	havePrev  bool
}

// NewSampler resolves each target (see Host.Resolve). The targets' strings
// label the rows.
func NewSampler(h Host, targets ...string) (*Sampler, error) {
	s := &Sampler{h: h, slots: map[string]*slot{}}
	for _, t := range targets {
		r, err := h.Resolve(t)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, r)
	}
	s.index()
	return s, nil
}

// Targets returns the targets as last resolved.
func (s *Sampler) Targets() []Resolved { return slices.Clone(s.targets) }

// Sample reads /proc/diskstats and returns one row per target × device
// that has a previous reading: the first call only sets the baseline, and
// so does the first reading of a device that appeared (or was re-created)
// since. A device absent from /proc/diskstats has no row. Rows come target
// by target, the target's own device first.
//
// The reading is stamped with clock, read right after /proc/diskstats is:
// the time of the read itself, not of the tick that asked for it. A tick
// served late (a scheduling hiccup) then gives rows whose interval is the
// real time between the two reads, and rates that stay right; Taken
// returns the stamp.
func (s *Sampler) Sample(clock func() time.Time) ([]DiskStat, error) {
	s.samples++
	if s.stale || s.pending > 0 || s.samples%refreshEvery == 0 {
		s.refresh()
	}
	data, err := s.read()
	if err != nil {
		return nil, err
	}
	now := clock()
	s.taken = now
	names := uint64(fnvOffset)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		name := diskstatsName(line)
		names = fnvAdd(names, name)
		sl := s.slots[string(name)]
		if sl == nil {
			continue
		}
		if _, ok := parseDiskstatsLine(line, &sl.cur); ok {
			sl.seen = true
		}
	}
	if names != s.names {
		if s.samples > 1 {
			s.pending = refreshAfter
		}
		s.names = names
	}
	for _, sl := range s.slots {
		if sl.seen && sl.havePrev && (countersReset(sl.prev, sl.cur) || !now.After(sl.prevTime)) {
			sl.havePrev = false
		}
	}
	out := make([]DiskStat, 0, s.rows)
	for _, t := range s.targets {
		for _, m := range t.Members {
			sl := s.slots[m.Name]
			if !sl.seen || !sl.havePrev {
				continue
			}
			st := Compute(sl.prev, sl.cur, now.Sub(sl.prevTime))
			st.Time, st.Target, st.Device, st.Role = now, t.Arg, m.Name, m.Role
			out = append(out, st)
		}
	}
	for _, sl := range s.slots {
		if sl.seen {
			sl.prev, sl.prevTime, sl.havePrev = sl.cur, now, true
		} else {
			sl.havePrev = false
			s.stale = true
		}
		sl.seen = false
	}
	return out, nil
}

// Taken returns when the last reading was taken (the zero time before
// the first).
func (s *Sampler) Taken() time.Time { return s.taken }

// Close releases /proc/diskstats.
func (s *Sampler) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// read re-reads /proc/diskstats into s.buf. procfs regenerates the file on
// a pread at offset 0, so one descriptor serves the whole run.
func (s *Sampler) read() ([]byte, error) {
	if s.f == nil {
		f, err := os.Open(s.h.p("/proc/diskstats"))
		if err != nil {
			return nil, fmt.Errorf("diskstats: %w", err)
		}
		s.f = f
	}
	if len(s.buf) == 0 {
		s.buf = make([]byte, 16<<10)
	}
	n := 0
	for {
		m, err := s.f.ReadAt(s.buf[n:], int64(n))
		n += m
		if errors.Is(err, io.EOF) {
			return s.buf[:n], nil
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("diskstats: %w", err)
		}
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
	}
}

// refresh resolves the targets again and re-indexes if a member changed.
// A target that no longer resolves keeps its old members, which then have
// no rows until they come back.
func (s *Sampler) refresh() {
	s.stale = false
	if s.pending > 0 {
		s.pending--
	}
	changed := false
	for i, t := range s.targets {
		r, err := s.h.Resolve(t.Arg)
		if err != nil || slices.Equal(r.Members, t.Members) {
			continue
		}
		s.targets[i], changed = r, true
	}
	if changed {
		s.index()
	}
}

// index (re)builds the slot table from the targets' members, keeping the
// readings of devices that stay.
func (s *Sampler) index() {
	slots := make(map[string]*slot, len(s.slots))
	s.rows = 0
	for _, t := range s.targets {
		for _, m := range t.Members {
			s.rows++
			if slots[m.Name] != nil {
				continue
			}
			if old := s.slots[m.Name]; old != nil {
				slots[m.Name] = old
			} else {
				slots[m.Name] = &slot{}
			}
		}
	}
	s.slots = slots
}

// diskstatsName returns the third field of a diskstats line.
func diskstatsName(line []byte) []byte {
	i := 0
	for field := 0; ; field++ {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		if field == 2 {
			return line[start:i]
		}
		if i >= len(line) {
			return nil
		}
	}
}

// FNV-1a over the device names of a reading, separated by a byte no name
// holds, to notice devices coming and going without allocating.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return (h ^ '\n') * fnvPrime
}

// Run samples every interval until ctx ends: a first read primes the
// counters, each tick hands emit the interval's rows (last false), and when
// ctx ends one more read covers the run's end (last true). Reads that fail
// hand emit nothing.
func (s *Sampler) Run(ctx context.Context, every time.Duration, clock func() time.Time, emit func(rows []DiskStat, last bool)) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	s.Sample(clock)
	for {
		select {
		case <-ctx.Done():
			if rows, err := s.Sample(clock); err == nil {
				emit(rows, true)
			}
			return
		case <-tk.C:
			if rows, err := s.Sample(clock); err == nil {
				emit(rows, false)
			}
		}
	}
}
