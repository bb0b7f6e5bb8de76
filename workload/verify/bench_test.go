package verify

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time: on a machine shared with
// other work, wall-clock ns/op counts the time others ran, cpu-ns/op
// (reported beside it) does not.
func threadCPU(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return ts.Nano()
}

// cpuLoop runs fn in b.Loop on one locked thread and reports its CPU time
// per call as cpu-ns/op.
func cpuLoop(b *testing.B, fn func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	cpu0 := threadCPU(b)
	for i := 0; b.Loop(); i++ {
		fn(i)
	}
	b.ReportMetric(float64(threadCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkStamp stamps one write: the engine does this per verified write,
// with its worker's Stamper; "func" is the package function, which makes
// the run's pad each call.
func BenchmarkStamp(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"4KiB", 4 << 10}, {"1MiB", 1 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, c.size)
			b.SetBytes(int64(c.size))
			st := NewStamper(testRun)
			cpuLoop(b, func(i int) {
				st.StampN(buf, int64(i)*int64(c.size), uint32(i%MaxGen)+1, int64(i), PayloadLen)
			})
		})
	}
	b.Run("4KiB-func", func(b *testing.B) {
		buf := make([]byte, 4<<10)
		b.SetBytes(int64(len(buf)))
		cpuLoop(b, func(i int) {
			Stamp(buf, int64(i)*int64(len(buf)), uint32(i%MaxGen)+1, testRun, int64(i))
		})
	})
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

// BenchmarkCheck4KiB classifies one good 4 KiB unit: as the engine's
// workers do, with their run's Checker, and with the package function,
// which makes the run's pad each call.
func BenchmarkCheck4KiB(b *testing.B) {
	buf := stamped(testOff, 9, testWtime)
	b.Run("checker", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		ck := NewChecker(testRun)
		cpuLoop(b, func(int) {
			if c, _ := ck.Check(buf, testOff, 9, false, CheckOptions{}); c != OK {
				b.Fatal(c)
			}
		})
	})
	b.Run("func", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		cpuLoop(b, func(int) {
			if c, _ := Check(buf, testOff, 9, false, testRun, CheckOptions{}); c != OK {
				b.Fatal(c)
			}
		})
	})
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
