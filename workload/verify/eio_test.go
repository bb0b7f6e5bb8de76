package verify

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
)

// badDevice is a device in memory whose reads fail with err when they
// touch one of the bad byte ranges (as a bad block or a failed path does).
type badDevice struct {
	data []byte
	bad  [][2]int64 // [start, end) byte ranges
	err  syscall.Errno
}

func (d *badDevice) Name() string { return "/dev/fake" }

func (d *badDevice) ReadAt(p []byte, off int64) (int, error) {
	for _, b := range d.bad {
		if off < b[1] && off+int64(len(p)) > b[0] {
			return 0, &os.PathError{Op: "read", Path: d.Name(), Err: d.err}
		}
	}
	return copy(p, d.data[off:]), nil
}

// stampedDevice is a device in memory of units units, every one written
// and acknowledged in the map returned.
func stampedDevice(t *testing.T, units, unit int64) (*Map, *badDevice) {
	m := newTestMap(t, t.TempDir(), units*unit, unit)
	dev := &badDevice{data: make([]byte, units*unit)}
	for u := range units {
		off := u * unit
		g := m.Begin(off)
		Stamp(dev.data[off:off+unit], off, g, testRun, testWtime)
		m.Ack(off, g)
	}
	return m, dev
}

// TestRunReadErrors: an EIO costs the units it hits, not the pass; a
// vanished device ends it.
func TestRunReadErrors(t *testing.T) {
	const unit, units = 4096, 64
	m, dev := stampedDevice(t, units, unit)
	cases := []struct {
		name       string
		bad        [][2]int64
		err        syscall.Errno
		unreadable []int64 // units counted unreadable (and not corrupt)
		fails      string  // the pass's error, "" for none
	}{
		// No error: everything ok.
		{name: "clean"},
		// One bad sector in unit 5 and one spanning units 40-41.
		{name: "eio", bad: [][2]int64{{5*unit + 512, 5*unit + 1024}, {41*unit - 512, 41*unit + 512}}, err: syscall.EIO, unreadable: []int64{5, 40, 41}},
		// The device vanished (ENXIO): no verdict can be given.
		{name: "gone", bad: [][2]int64{{0, units * unit}}, err: syscall.ENXIO, fails: "no such device or address"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev.bad, dev.err = c.bad, c.err
			s, err := run(context.Background(), dev, m, RunOptions{QD: 2, ChunkSize: 16 * unit})
			if c.fails != "" {
				if err == nil || !strings.Contains(err.Error(), c.fails) || !strings.Contains(err.Error(), "/dev/fake") {
					t.Fatalf("error %v, want %q", err, c.fails)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(len(c.unreadable))
			if s.Blocks != units || s.Counts["corrupt"] != 0 || s.Counts["unreadable"] != n || s.Unreadable != n || s.Counts["ok"] != units-n || len(s.Findings) != int(n) {
				t.Fatalf("%+v", s)
			}
			for i, u := range c.unreadable {
				if f := s.Findings[i]; f.Offset != u*unit || f.Class != Unreadable || !strings.Contains(f.Detail, "EIO: input/output error") {
					t.Errorf("finding %d: %+v, want unit %d unreadable", i, f, u)
				}
			}
		})
	}
}

// TestRunFindingsCap: with more problems than MaxFindings, every problem
// is counted and the lowest MaxFindings offsets are listed, in order,
// whatever reader found them.
func TestRunFindingsCap(t *testing.T) {
	const unit, units = 512, 3000
	m := newTestMap(t, t.TempDir(), units*unit, unit)
	for u := range int64(units) {
		m.Ack(u*unit, 1) // acknowledged, but the device is all zeros
	}
	dev := &badDevice{data: make([]byte, units*unit)}
	s, err := run(context.Background(), dev, m, RunOptions{QD: 3, ChunkSize: 7 * unit})
	if err != nil {
		t.Fatal(err)
	}
	if s.Blocks != units || s.Counts["unwritten"] != units || s.Problems() != units || len(s.Findings) != MaxFindings {
		t.Fatalf("blocks %d counts %v findings %d", s.Blocks, s.Counts, len(s.Findings))
	}
	for i, f := range s.Findings {
		if f.Offset != int64(i)*unit || f.Class != Unwritten {
			t.Fatalf("finding %d: %+v", i, f)
		}
	}
}
