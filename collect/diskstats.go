package collect

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"time"
)

// DiskCounters is one line of /proc/diskstats (Documentation/admin-guide/iostats.rst).
// Kernels print 11 counters, 15 since 4.18 (discards) and 17 since 5.5
// (flushes); Fields says how many this line had.
type DiskCounters struct {
	Major, Minor uint32
	Fields       int

	ReadIOs, ReadMerges, ReadSectors, ReadTicks     uint64 // fields 1-4; ticks in ms
	WriteIOs, WriteMerges, WriteSectors, WriteTicks uint64 // fields 5-8
	InFlight                                        uint64 // field 9, a gauge
	IOTicks                                         uint64 // field 10: ms the device had I/O in flight
	TimeInQueue                                     uint64 // field 11: weighted ms, the sum of all I/O times
	DiscardIOs, DiscardMerges, DiscardSectors       uint64 // fields 12-14
	DiscardTicks                                    uint64 // field 15
	FlushIOs, FlushTicks                            uint64 // fields 16-17
}

// ParseDiskstats reads /proc/diskstats into counters by kernel name. Lines
// with fewer than 11 counters (2.6 kernels printed 4 for partitions) are
// skipped; counters past the 17th, from kernels not yet born, are ignored.
func ParseDiskstats(r io.Reader) (map[string]DiskCounters, error) {
	out := make(map[string]DiskCounters)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var c DiskCounters
		name, ok := parseDiskstatsLine(sc.Bytes(), &c)
		if ok {
			out[string(name)] = c
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read diskstats: %w", err)
	}
	return out, nil
}

// parseDiskstatsLine parses one line (without its newline) and does not
// allocate; the returned name aliases line.
func parseDiskstatsLine(line []byte, c *DiskCounters) (name []byte, ok bool) {
	var vals [20]uint64
	n := 0
	i := 0
	for field := 0; ; field++ {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			break
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		tok := line[start:i]
		if field == 2 {
			name = tok
			continue
		}
		if n == len(vals) {
			break
		}
		v, good := parseUint(tok)
		if !good {
			return nil, false
		}
		vals[n] = v
		n++
	}
	// n counts major and minor too.
	counters := n - 2
	if name == nil || counters < 11 {
		return nil, false
	}
	if counters > 17 {
		counters = 17
	}
	*c = DiskCounters{
		Major: uint32(vals[0]), Minor: uint32(vals[1]), Fields: counters,
		ReadIOs: vals[2], ReadMerges: vals[3], ReadSectors: vals[4], ReadTicks: vals[5],
		WriteIOs: vals[6], WriteMerges: vals[7], WriteSectors: vals[8], WriteTicks: vals[9],
		InFlight: vals[10], IOTicks: vals[11], TimeInQueue: vals[12],
	}
	if counters >= 15 {
		c.DiscardIOs, c.DiscardMerges, c.DiscardSectors, c.DiscardTicks = vals[13], vals[14], vals[15], vals[16]
	}
	if counters >= 17 {
		c.FlushIOs, c.FlushTicks = vals[17], vals[18]
	}
	return name, true
}

// parseUint reads a decimal counter. A leading minus sign reads as 0: old
// kernels could print a negative in-flight count.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if b[0] == '-' {
		for _, ch := range b[1:] {
			if ch < '0' || ch > '9' {
				return 0, false
			}
		}
		return 0, true
	}
	var v uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	return v, true
}

// DiskStat is what one device did over one interval, in the columns of
// `iostat -x` (sysstat 12). Discard and flush columns are zero, and left
// empty in CSV, when the kernel does not count them (see Counters).
type DiskStat struct {
	Time   time.Time `json:"time"`
	Target string    `json:"target"`
	Device string    `json:"device"`
	Role   Role      `json:"role"`
	// Interval is the length of the interval the rates are computed over.
	Interval time.Duration `json:"interval_ns"`
	// Counters is how many counters the kernel printed: 11, 15 or 17.
	Counters int `json:"counters"`

	RPS     float64 `json:"r/s"`
	WPS     float64 `json:"w/s"`
	DPS     float64 `json:"d/s"`
	FPS     float64 `json:"f/s"`
	RkBPS   float64 `json:"rkB/s"`
	WkBPS   float64 `json:"wkB/s"`
	DkBPS   float64 `json:"dkB/s"`
	RrqmPS  float64 `json:"rrqm/s"`
	WrqmPS  float64 `json:"wrqm/s"`
	DrqmPS  float64 `json:"drqm/s"`
	RrqmPct float64 `json:"%rrqm"`
	WrqmPct float64 `json:"%wrqm"`
	DrqmPct float64 `json:"%drqm"`
	RAwait  float64 `json:"r_await"` // ms
	WAwait  float64 `json:"w_await"`
	DAwait  float64 `json:"d_await"`
	FAwait  float64 `json:"f_await"`
	RareqSz float64 `json:"rareq-sz"` // kB
	WareqSz float64 `json:"wareq-sz"`
	DareqSz float64 `json:"dareq-sz"`
	AquSz   float64 `json:"aqu-sz"`
	Util    float64 `json:"%util"`
	// InFlight is not an iostat column: the requests in flight at the end
	// of the interval, which shows a stalled path at a glance.
	InFlight uint64 `json:"inflight"`
}

// Compute turns two readings of one device, dt apart, into iostat -x
// figures with sysstat's arithmetic (iostat.c write_ext_stat,
// common.c compute_ext_disk_stats):
//
//	x/s      = Δx / dt
//	xkB/s    = Δsectors / 2 / dt
//	%xrqm    = Δmerges / (Δmerges + Δios) · 100
//	x_await  = Δticks / Δios                   (ms)
//	xareq-sz = Δsectors / 2 / Δios             (kB)
//	aqu-sz   = Δtime_in_queue / dt             (field 11, ms per ms)
//	%util    = Δio_ticks / dt · 100, capped at 100
//
// iostat measures dt from /proc/uptime in hundredths of a second; Compute
// takes it exact. Counters that went backwards are taken to have wrapped:
// the tick fields are 32-bit in every kernel, the others on 32-bit kernels.
// A device that was re-created (counters reset) should be caught with
// countersReset before calling Compute, as the Sampler does.
func Compute(prev, cur DiskCounters, dt time.Duration) DiskStat {
	s := DiskStat{Interval: dt, Counters: cur.Fields, InFlight: cur.InFlight}
	sec := dt.Seconds()
	if sec <= 0 {
		return s
	}
	rate := func(d uint64) float64 { return float64(d) / sec }
	per := func(num, den uint64) float64 {
		if den == 0 {
			return 0
		}
		return float64(num) / float64(den)
	}
	pct := func(merges, ios uint64) float64 {
		if merges+ios == 0 {
			return 0
		}
		return float64(merges) / float64(merges+ios) * 100
	}

	rIOs, rMerges, rSect := delta(prev.ReadIOs, cur.ReadIOs), delta(prev.ReadMerges, cur.ReadMerges), delta(prev.ReadSectors, cur.ReadSectors)
	wIOs, wMerges, wSect := delta(prev.WriteIOs, cur.WriteIOs), delta(prev.WriteMerges, cur.WriteMerges), delta(prev.WriteSectors, cur.WriteSectors)
	s.RPS, s.WPS = rate(rIOs), rate(wIOs)
	s.RkBPS, s.WkBPS = rate(rSect)/2, rate(wSect)/2
	s.RrqmPS, s.WrqmPS = rate(rMerges), rate(wMerges)
	s.RrqmPct, s.WrqmPct = pct(rMerges, rIOs), pct(wMerges, wIOs)
	s.RAwait = per(delta32(prev.ReadTicks, cur.ReadTicks), rIOs)
	s.WAwait = per(delta32(prev.WriteTicks, cur.WriteTicks), wIOs)
	s.RareqSz, s.WareqSz = per(rSect, rIOs)/2, per(wSect, wIOs)/2

	if cur.Fields >= 15 && prev.Fields >= 15 {
		dIOs, dMerges, dSect := delta(prev.DiscardIOs, cur.DiscardIOs), delta(prev.DiscardMerges, cur.DiscardMerges), delta(prev.DiscardSectors, cur.DiscardSectors)
		s.DPS, s.DkBPS, s.DrqmPS = rate(dIOs), rate(dSect)/2, rate(dMerges)
		s.DrqmPct = pct(dMerges, dIOs)
		s.DAwait = per(delta32(prev.DiscardTicks, cur.DiscardTicks), dIOs)
		s.DareqSz = per(dSect, dIOs) / 2
	}
	if cur.Fields >= 17 && prev.Fields >= 17 {
		fIOs := delta(prev.FlushIOs, cur.FlushIOs)
		s.FPS = rate(fIOs)
		s.FAwait = per(delta32(prev.FlushTicks, cur.FlushTicks), fIOs)
	}
	s.Counters = min(cur.Fields, prev.Fields)

	s.AquSz = rate(delta32(prev.TimeInQueue, cur.TimeInQueue)) / 1000
	s.Util = math.Min(rate(delta32(prev.IOTicks, cur.IOTicks))/10, 100)
	return s
}

// delta is cur-prev for a counter the kernel prints as unsigned long: 64
// bits on 64-bit kernels (never wraps in practice), 32 bits on 32-bit ones.
func delta(prev, cur uint64) uint64 {
	if cur >= prev {
		return cur - prev
	}
	if prev <= math.MaxUint32 {
		return cur + (1 << 32) - prev
	}
	return 0
}

// delta32 is cur-prev for the time fields, which the kernel prints as
// unsigned int milliseconds on every architecture (about 49.7 days, much
// less for the weighted field 11 under a deep queue).
func delta32(prev, cur uint64) uint64 {
	return uint64(uint32(cur) - uint32(prev))
}

// countersReset reports whether cur cannot follow prev: the device was
// removed and re-created under the same name between readings. A genuine
// 32-bit wrap moves the counter forward by less than 2^31 in one interval;
// a reset to near zero looks like a wrap of nearly 2^32.
func countersReset(prev, cur DiskCounters) bool {
	if prev.Major != cur.Major || prev.Minor != cur.Minor {
		return true
	}
	for _, pc := range [...][2]uint64{
		{prev.ReadIOs, cur.ReadIOs}, {prev.WriteIOs, cur.WriteIOs},
		{prev.ReadSectors, cur.ReadSectors}, {prev.WriteSectors, cur.WriteSectors},
	} {
		if pc[1] < pc[0] && (pc[0] > math.MaxUint32 || delta(pc[0], pc[1]) >= 1<<31) {
			return true
		}
	}
	return false
}
