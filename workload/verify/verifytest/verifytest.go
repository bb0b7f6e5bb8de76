// Package verifytest builds devices with stamped data and planted faults
// for the tests of package verify and of `lunbench verify`.
package verifytest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ncw/directio"

	"lunbench/workload/verify"
)

// The units PlantFaults damages, and the unit whose copy lands on Misdirected.
const (
	CorruptUnit     = 3  // overwritten with random garbage
	LostUnit        = 7  // overwritten with its first (older) version
	MisdirectedUnit = 11 // overwritten with a copy of MisdirectedFrom
	MisdirectedFrom = 20
)

// DirectDir returns a temporary directory on a filesystem that supports
// O_DIRECT (t.TempDir may be tmpfs, which does not), or skips the test.
func DirectDir(t testing.TB) string {
	t.Helper()
	for _, base := range []string{"", "/var/tmp"} {
		d, err := os.MkdirTemp(base, "lunbench-verify-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		f, err := directio.OpenFile(filepath.Join(d, ".probe"), os.O_CREATE|os.O_RDWR, 0o600)
		if err == nil {
			f.Close()
			return d
		}
	}
	t.Skip("no temporary directory on a filesystem with O_DIRECT support")
	return ""
}

// WriteAll writes every unit of m's range in the file dev (created if
// missing) twice, as the engine does: Begin, Stamp, pwrite with O_DIRECT,
// Ack; then syncs the map. It returns a copy of unit keep's first version.
func WriteAll(t testing.TB, dev string, m *verify.Map, keep int64) []byte {
	t.Helper()
	h := m.Header()
	f, err := directio.OpenFile(dev, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := directio.AlignedBlock(int(h.Unit))
	var kept []byte
	wtime := int64(1_700_000_000_000_000_000)
	for pass := range 2 {
		for u := range h.Units() {
			off := h.Base + u*h.Unit
			g := m.Begin(off)
			wtime++
			verify.Stamp(buf, off, g, h.RunID, wtime)
			if _, err := f.WriteAt(buf, off); err != nil {
				t.Fatal(err)
			}
			m.Ack(off, g)
			if pass == 0 && u == keep {
				kept = append([]byte(nil), buf...)
			}
		}
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	return kept
}

// PlantFaults runs WriteAll, then behind the map's back overwrites unit
// CorruptUnit with garbage, LostUnit with its first version and
// MisdirectedUnit with a copy of unit MisdirectedFrom. The range must hold
// more than MisdirectedFrom units.
func PlantFaults(t testing.TB, dev string, m *verify.Map) {
	t.Helper()
	h := m.Header()
	old := WriteAll(t, dev, m, LostUnit)
	f, err := directio.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := func(u int64) int64 { return h.Base + u*h.Unit }
	buf := directio.AlignedBlock(int(h.Unit))
	r := rand.New(rand.NewPCG(3, 3))
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	if _, err := f.WriteAt(buf, at(CorruptUnit)); err != nil {
		t.Fatal(err)
	}
	copy(buf, old)
	if _, err := f.WriteAt(buf, at(LostUnit)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(buf, at(MisdirectedFrom)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(buf, at(MisdirectedUnit)); err != nil {
		t.Fatal(err)
	}
}
