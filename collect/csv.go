package collect

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DiskStatsHeader returns the columns of diskstats.csv: the row's identity,
// then iostat -x's columns in the order of its JSON output, then the
// extras (inflight is a gauge at the interval's end; interval_s the length
// of the interval the rates cover).
func DiskStatsHeader() []string {
	return []string{
		"time", "target", "device", "role",
		"r/s", "w/s", "d/s", "f/s",
		"rkB/s", "wkB/s", "dkB/s",
		"rrqm/s", "wrqm/s", "drqm/s",
		"%rrqm", "%wrqm", "%drqm",
		"r_await", "w_await", "d_await", "f_await",
		"rareq-sz", "wareq-sz", "dareq-sz",
		"aqu-sz", "%util",
		"inflight", "interval_s",
	}
}

// DiskStatsCSV writes diskstats.csv. The header goes out with the first
// Flush or Write, so an idle run still leaves a readable file. Writing the
// file atomically is the results directory's business, not this type's.
type DiskStatsCSV struct {
	w      *csv.Writer
	rec    []string
	header bool
}

// NewDiskStatsCSV writes rows to w, buffered until Flush.
func NewDiskStatsCSV(w io.Writer) *DiskStatsCSV {
	return &DiskStatsCSV{w: csv.NewWriter(w), rec: make([]string, len(DiskStatsHeader()))}
}

// Write appends one row per stat. Figures have iostat's two decimals;
// discard and flush columns are empty when the kernel does not count them.
func (c *DiskStatsCSV) Write(stats []DiskStat) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	for _, s := range stats {
		r := c.rec[:0]
		r = append(r, s.Time.UTC().Format(time.RFC3339Nano), s.Target, s.Device, string(s.Role))
		d := s.Counters >= 15
		f := s.Counters >= 17
		r = append(r, num(s.RPS), num(s.WPS), numIf(d, s.DPS), numIf(f, s.FPS))
		r = append(r, num(s.RkBPS), num(s.WkBPS), numIf(d, s.DkBPS))
		r = append(r, num(s.RrqmPS), num(s.WrqmPS), numIf(d, s.DrqmPS))
		r = append(r, num(s.RrqmPct), num(s.WrqmPct), numIf(d, s.DrqmPct))
		r = append(r, num(s.RAwait), num(s.WAwait), numIf(d, s.DAwait), numIf(f, s.FAwait))
		r = append(r, num(s.RareqSz), num(s.WareqSz), numIf(d, s.DareqSz))
		r = append(r, num(s.AquSz), num(s.Util))
		r = append(r, strconv.FormatUint(s.InFlight, 10), strconv.FormatFloat(s.Interval.Seconds(), 'f', 3, 64))
		if err := c.w.Write(r); err != nil {
			return fmt.Errorf("diskstats.csv: %w", err)
		}
	}
	return nil
}

// Flush pushes buffered rows to the writer.
func (c *DiskStatsCSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("diskstats.csv: %w", err)
	}
	return nil
}

func (c *DiskStatsCSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if err := c.w.Write(DiskStatsHeader()); err != nil {
		return fmt.Errorf("diskstats.csv: %w", err)
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func numIf(ok bool, v float64) string {
	if !ok {
		return ""
	}
	return num(v)
}
