package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncw/directio"

	"lunbench/workload/verify"
	"lunbench/workload/verify/verifytest"
)

// createMap creates a map over [0, length) of target lun0 in dir, closed at
// the end of the test.
func createMap(t testing.TB, dir string, length, unit int64) *verify.Map {
	t.Helper()
	m, err := verify.CreateMap(verify.MapPath(dir, "lun0"), verify.Header{RunID: 77, Length: length, Unit: unit, Target: "lun0", Device: filepath.Join(dir, "dev.dat"), DeviceSize: length})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestRunPlantedFaults: a verify pass finds exactly the three planted
// faults, at their offsets, live and after reopening the map as after a
// crash, with any read size and parallelism.
func TestRunPlantedFaults(t *testing.T) {
	dir := verifytest.DirectDir(t)
	const size, unit = 4 << 20, 4096
	m := createMap(t, dir, size, unit)
	dev := m.Header().Device
	verifytest.PlantFaults(t, dev, m)
	f, err := directio.OpenFile(dev, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ro, err := verify.OpenMap(m.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	want := []verify.Finding{
		{Target: "lun0", Offset: verifytest.CorruptUnit * unit, Class: verify.Corrupt},
		{Target: "lun0", Offset: verifytest.LostUnit * unit, Class: verify.Lost},
		{Target: "lun0", Offset: verifytest.MisdirectedUnit * unit, Class: verify.Misdirected},
	}
	for _, c := range []struct {
		name string
		m    *verify.Map
		opts verify.RunOptions
	}{
		{"live defaults", m, verify.RunOptions{}},                                       // the engine's pass
		{"crash", ro, verify.RunOptions{Check: verify.CheckOptions{AcceptNewer: true}}}, // lunbench verify
		{"one unit per read", m, verify.RunOptions{QD: 3, ChunkSize: unit}},             // chunks of one unit
		{"odd chunk", m, verify.RunOptions{QD: 1, ChunkSize: 5*unit + 100}},             // rounded down to 5 units
		{"whole file one read", m, verify.RunOptions{QD: 8, ChunkSize: size + 1<<20}},   // more readers than chunks
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := verify.Run(context.Background(), f, c.m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if s.Blocks != size/unit || s.Counts["ok"] != size/unit-3 || s.Problems() != 3 || s.InDoubt != 0 {
				t.Fatalf("blocks %d counts %v in doubt %d", s.Blocks, s.Counts, s.InDoubt)
			}
			if len(s.Findings) != len(want) {
				t.Fatalf("findings %+v", s.Findings)
			}
			for i, w := range want {
				g := s.Findings[i]
				if g.Target != w.Target || g.Offset != w.Offset || g.Class != w.Class || g.Detail == "" {
					t.Errorf("finding %d: %+v, want %+v", i, g, w)
				}
			}
			if d := s.Findings[2].Detail; !strings.Contains(d, "written for offset 81920") {
				t.Errorf("misdirected detail %q does not name block 20's offset", d)
			}
		})
	}
}

// TestRunSkipsUnwritten: units never written are not read, and a range
// with nothing written reads nothing.
func TestRunSkipsUnwritten(t *testing.T) {
	dir := t.TempDir()
	m := createMap(t, dir, 1<<20, 4096)
	f, err := os.Create(m.Header().Device)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The file is empty: reading any unit would fail.
	s, err := verify.Run(context.Background(), f, m, verify.RunOptions{})
	if err != nil || s.Blocks != 0 || s.Problems() != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	// One unit written (in the map only), and the file too short.
	m.Ack(5*4096, 1)
	if _, err = verify.Run(context.Background(), f, m, verify.RunOptions{}); err == nil || !strings.Contains(err.Error(), "offset 20480") {
		t.Fatalf("read past the end: %v", err)
	}
}

func TestRunCancel(t *testing.T) {
	dir := t.TempDir()
	m := createMap(t, dir, 1<<20, 4096)
	m.Ack(0, 1)
	f, err := os.Create(m.Header().Device)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := verify.Run(ctx, f, m, verify.RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkRun64MiB verifies a 64 MiB file written in 4 KiB units, read
// with O_DIRECT (the file is on disk, or in the host's cache under it).
func BenchmarkRun64MiB(b *testing.B) {
	dir := verifytest.DirectDir(b)
	const size = 64 << 20
	m := createMap(b, dir, size, 4096)
	verifytest.WriteAll(b, m.Header().Device, m, 0)
	f, err := directio.OpenFile(m.Header().Device, os.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, o := range []struct {
		name string
		opts verify.RunOptions
	}{
		{"default", verify.RunOptions{}},                        // 4 readers, 4 MiB reads
		{"qd1", verify.RunOptions{QD: 1}},                       // one reader
		{"64KiB reads", verify.RunOptions{ChunkSize: 64 << 10}}, // small reads
	} {
		b.Run(o.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				s, err := verify.Run(context.Background(), f, m, o.opts)
				if err != nil || s.Problems() != 0 || s.Blocks != size/4096 {
					b.Fatalf("%v %+v", err, s.Counts)
				}
			}
		})
	}
}
