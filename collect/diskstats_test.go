package collect

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDiskstats(t *testing.T) {
	in := strings.Join([]string{
		// 4.17 and older: 11 counters.
		"   8       0 sda 100 2 800 40 50 3 400 60 1 70 100",
		// 4.18 to 5.4: discards added.
		"   8      16 sdb 100 2 800 40 50 3 400 60 1 70 100 7 1 56 9",
		// 5.5 and later: flushes added.
		" 253       4 dm-4 100 2 800 40 50 3 400 60 1 70 100 7 1 56 9 11 12",
		// A future kernel with more counters: the known 17 are read.
		" 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		// 2.6 partitions printed 4 counters: skipped.
		"   8       1 sda1 10 80 5 40",
		// Garbage: skipped.
		"   8       2 sda2 x y z",
		"",
	}, "\n")
	got, err := ParseDiskstats(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]DiskCounters{
		"sda": {Major: 8, Minor: 0, Fields: 11, ReadIOs: 100, ReadMerges: 2, ReadSectors: 800, ReadTicks: 40,
			WriteIOs: 50, WriteMerges: 3, WriteSectors: 400, WriteTicks: 60, InFlight: 1, IOTicks: 70, TimeInQueue: 100},
		"sdb": {Major: 8, Minor: 16, Fields: 15, ReadIOs: 100, ReadMerges: 2, ReadSectors: 800, ReadTicks: 40,
			WriteIOs: 50, WriteMerges: 3, WriteSectors: 400, WriteTicks: 60, InFlight: 1, IOTicks: 70, TimeInQueue: 100,
			DiscardIOs: 7, DiscardMerges: 1, DiscardSectors: 56, DiscardTicks: 9},
		"dm-4": {Major: 253, Minor: 4, Fields: 17, ReadIOs: 100, ReadMerges: 2, ReadSectors: 800, ReadTicks: 40,
			WriteIOs: 50, WriteMerges: 3, WriteSectors: 400, WriteTicks: 60, InFlight: 1, IOTicks: 70, TimeInQueue: 100,
			DiscardIOs: 7, DiscardMerges: 1, DiscardSectors: 56, DiscardTicks: 9, FlushIOs: 11, FlushTicks: 12},
		"nvme0n1": {Major: 259, Minor: 0, Fields: 17, ReadIOs: 1, ReadMerges: 2, ReadSectors: 3, ReadTicks: 4,
			WriteIOs: 5, WriteMerges: 6, WriteSectors: 7, WriteTicks: 8, InFlight: 9, IOTicks: 10, TimeInQueue: 11,
			DiscardIOs: 12, DiscardMerges: 13, DiscardSectors: 14, DiscardTicks: 15, FlushIOs: 16, FlushTicks: 17},
	}
	if len(got) != len(want) {
		t.Errorf("parsed %d devices, want %d: %v", len(got), len(want), got)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], w)
		}
	}
}

func TestCompute(t *testing.T) {
	// A 17-counter reading to start from.
	base := DiskCounters{Major: 8, Fields: 17, ReadIOs: 1000, ReadMerges: 10, ReadSectors: 8000, ReadTicks: 500,
		WriteIOs: 2000, WriteMerges: 20, WriteSectors: 32000, WriteTicks: 3000, IOTicks: 10000, TimeInQueue: 20000,
		DiscardIOs: 5, DiscardSectors: 800, DiscardTicks: 5, FlushIOs: 7, FlushTicks: 70}
	add := func(f func(*DiskCounters)) DiskCounters { c := base; f(&c); return c }
	cases := []struct {
		name string
		prev DiskCounters
		cur  DiskCounters
		dt   time.Duration
		want DiskStat
	}{
		{
			// Idle: everything zero, no division by zero.
			name: "idle", prev: base, cur: base, dt: time.Second,
			want: DiskStat{},
		},
		{
			// 100 4 KiB reads and 50 16 KiB writes in 2 s, with merges,
			// 400 ms reading, 1000 ms writing, busy 1500 of 2000 ms,
			// weighted time 3000 ms: queue 1.5.
			name: "mixed over 2s", prev: base, dt: 2 * time.Second,
			cur: add(func(c *DiskCounters) {
				c.ReadIOs += 100
				c.ReadMerges += 25
				c.ReadSectors += 800
				c.ReadTicks += 400
				c.WriteIOs += 50
				c.WriteMerges += 50
				c.WriteSectors += 1600
				c.WriteTicks += 1000
				c.IOTicks += 1500
				c.TimeInQueue += 3000
				c.InFlight = 3
			}),
			want: DiskStat{RPS: 50, WPS: 25, RkBPS: 200, WkBPS: 400, RrqmPS: 12.5, WrqmPS: 25,
				RrqmPct: 20, WrqmPct: 50, RAwait: 4, WAwait: 20, RareqSz: 4, WareqSz: 16,
				AquSz: 1.5, Util: 75, InFlight: 3},
		},
		{
			// Discards and flushes, present since 4.18 and 5.5.
			name: "discard and flush", prev: base, dt: time.Second,
			cur: add(func(c *DiskCounters) {
				c.DiscardIOs += 4
				c.DiscardMerges += 4
				c.DiscardSectors += 2048
				c.DiscardTicks += 8
				c.FlushIOs += 10
				c.FlushTicks += 5
			}),
			want: DiskStat{DPS: 4, DkBPS: 1024, DrqmPS: 4, DrqmPct: 50, DAwait: 2, DareqSz: 256, FPS: 10, FAwait: 0.5},
		},
		{
			// Discard counters ignored when the older reading lacked them.
			name: "kernel without discards", prev: DiskCounters{Fields: 11}, dt: time.Second,
			cur:  DiskCounters{Fields: 17, DiscardIOs: 9, FlushIOs: 9},
			want: DiskStat{Counters: 11},
		},
		{
			// io_ticks can run ahead of the wall clock between two reads
			// (the kernel updates it in jiffies, at I/O start and end):
			// %util is capped at 100.
			name: "util capped", prev: base, dt: time.Second,
			cur:  add(func(c *DiskCounters) { c.IOTicks += 1300 }),
			want: DiskStat{Util: 100},
		},
		{
			// The ms tick fields are 32-bit and wrap: Δ taken modulo 2^32.
			name: "32-bit tick wrap", dt: time.Second,
			prev: DiskCounters{Fields: 11, ReadIOs: 10, ReadTicks: math.MaxUint32 - 9, IOTicks: math.MaxUint32 - 99, TimeInQueue: math.MaxUint32},
			cur:  DiskCounters{Fields: 11, ReadIOs: 20, ReadTicks: 10, IOTicks: 400, TimeInQueue: 1999},
			want: DiskStat{RPS: 10, RAwait: 2, Util: 50, AquSz: 2},
		},
		{
			// A 32-bit kernel's unsigned long I/O counter wraps too.
			name: "32-bit count wrap", dt: time.Second,
			prev: DiskCounters{Fields: 11, WriteIOs: math.MaxUint32 - 4, WriteSectors: math.MaxUint32 - 39},
			cur:  DiskCounters{Fields: 11, WriteIOs: 5, WriteSectors: 40},
			want: DiskStat{WPS: 10, WkBPS: 40, WareqSz: 4},
		},
		{
			// A zero interval yields nothing rather than infinities.
			name: "zero interval", prev: base, cur: add(func(c *DiskCounters) { c.ReadIOs++ }), dt: 0,
			want: DiskStat{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Compute(c.prev, c.cur, c.dt)
			w := c.want
			w.Interval = c.dt
			if w.Counters == 0 {
				w.Counters = c.cur.Fields
			}
			if !near(got, w) {
				t.Errorf("\n got %+v\nwant %+v", got, w)
			}
		})
	}
}

func near(a, b DiskStat) bool {
	fa := []float64{a.RPS, a.WPS, a.DPS, a.FPS, a.RkBPS, a.WkBPS, a.DkBPS, a.RrqmPS, a.WrqmPS, a.DrqmPS, a.RrqmPct, a.WrqmPct, a.DrqmPct, a.RAwait, a.WAwait, a.DAwait, a.FAwait, a.RareqSz, a.WareqSz, a.DareqSz, a.AquSz, a.Util}
	fb := []float64{b.RPS, b.WPS, b.DPS, b.FPS, b.RkBPS, b.WkBPS, b.DkBPS, b.RrqmPS, b.WrqmPS, b.DrqmPS, b.RrqmPct, b.WrqmPct, b.DrqmPct, b.RAwait, b.WAwait, b.DAwait, b.FAwait, b.RareqSz, b.WareqSz, b.DareqSz, b.AquSz, b.Util}
	for i := range fa {
		if math.Abs(fa[i]-fb[i]) > 1e-9 {
			return false
		}
	}
	return a.InFlight == b.InFlight && a.Counters == b.Counters && a.Interval == b.Interval
}

func TestCountersReset(t *testing.T) {
	cases := []struct {
		name      string
		prev, cur DiskCounters
		wantReset bool
	}{
		// Counters moving forward.
		{"forward", DiskCounters{ReadIOs: 5}, DiskCounters{ReadIOs: 9}, false},
		// A 32-bit wrap by a small step is a wrap, not a reset.
		{"small wrap", DiskCounters{ReadIOs: math.MaxUint32 - 3}, DiskCounters{ReadIOs: 10}, false},
		// A loop device detached and re-attached: counts back near zero.
		{"re-created", DiskCounters{WriteIOs: 1_000_000}, DiskCounters{WriteIOs: 3}, true},
		// 64-bit counters never wrap: going back is a reset.
		{"64-bit backwards", DiskCounters{ReadSectors: 1 << 40}, DiskCounters{ReadSectors: 1 << 39}, true},
		// Same name, another device number.
		{"new major:minor", DiskCounters{Major: 8, Minor: 96}, DiskCounters{Major: 8, Minor: 160}, true},
	}
	for _, c := range cases {
		if got := countersReset(c.prev, c.cur); got != c.wantReset {
			t.Errorf("%s: reset = %v, want %v", c.name, got, c.wantReset)
		}
	}
}
