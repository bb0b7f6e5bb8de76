package verify

import (
	"testing"
)

// BenchmarkStamp stamps one write: the engine does this per verified write.
func BenchmarkStamp(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"4KiB", 4 << 10}, {"1MiB", 1 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, c.size)
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				Stamp(buf, int64(i)*int64(c.size), uint32(i%MaxGen)+1, testRun, int64(i))
			}
		})
	}
}

// BenchmarkBeginAck is the map bookkeeping of one write, over a 1 GiB range
// of 4 KiB units.
func BenchmarkBeginAck(b *testing.B) {
	m := newTestMap(b, b.TempDir(), 1<<30, 4096)
	const units = 1 << 18
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		off := int64(i*7919%units) * 4096
		m.Ack(off, m.Begin(off))
	}
}

// BenchmarkCheck4KiB classifies one good 4 KiB unit.
func BenchmarkCheck4KiB(b *testing.B) {
	buf := stamped(testOff, 9, testWtime)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if c, _ := Check(buf, testOff, 9, false, testRun, CheckOptions{}); c != OK {
			b.Fatal(c)
		}
	}
}

// BenchmarkForget is the cost an unverified write pays on a verified
// target: one store per unit the write covers.
func BenchmarkForget(b *testing.B) {
	m := newTestMap(b, b.TempDir(), 64<<20, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Forget(int64(i%16384)*4096, 4096)
	}
}
