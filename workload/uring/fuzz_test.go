package uring

import (
	"encoding/binary"
	"testing"
)

// FuzzReap drives the CQ ring logic with arbitrary kernel-owned state: a
// tail anywhere relative to the head (including wrapped around 2^32), any
// CQE bytes, any destination size. reap must never read outside the ring,
// must refuse a ring claiming more CQEs than it holds, must copy the CQEs
// between head and tail in order, and must advance the head by exactly what
// it copied. The SQ view's free space gets the same treatment.
func FuzzReap(f *testing.F) {
	// Seeds: empty ring; one CQE; full ring; indices wrapping over 2^32;
	// a corrupt tail behind the head; a small destination.
	f.Add(uint32(0), uint32(0), uint8(3), uint8(8), []byte{})
	f.Add(uint32(5), uint32(6), uint8(3), uint8(8), []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0})
	f.Add(uint32(0), uint32(8), uint8(3), uint8(8), make([]byte, 128))
	f.Add(uint32(0xfffffffe), uint32(3), uint8(3), uint8(16), make([]byte, 128))
	f.Add(uint32(10), uint32(4), uint8(2), uint8(8), []byte{0xff})
	f.Add(uint32(1), uint32(4), uint8(4), uint8(1), []byte{7, 7, 7})
	f.Fuzz(func(t *testing.T, head, tail uint32, logEntries, dstLen uint8, data []byte) {
		entries := uint32(1) << (logEntries % 13)
		cqes := make([]byte, entries*cqeSize)
		for i := range cqes {
			if len(data) > 0 {
				cqes[i] = data[i%len(data)]
			}
		}
		h, tl := head, tail
		v := cqView{head: &h, tail: &tl, mask: entries - 1, entries: entries, cqes: cqes}
		dst := make([]CQE, dstLen)
		n, err := v.reap(dst)
		ready := tail - head
		if ready > entries {
			if err == nil || n != 0 || h != head {
				t.Fatalf("corrupt ring (%d ready in %d) gave n=%d err=%v head %d->%d", ready, entries, n, err, head, h)
			}
		} else {
			if err != nil {
				t.Fatalf("valid ring gave %v", err)
			}
			if want := min(int(ready), len(dst)); n != want {
				t.Fatalf("reaped %d, want %d (ready %d, dst %d)", n, want, ready, len(dst))
			}
			if h != head+uint32(n) {
				t.Fatalf("head %d after reaping %d from %d", h, n, head)
			}
			for i := 0; i < n; i++ {
				at := ((head + uint32(i)) & (entries - 1)) * cqeSize
				want := CQE{UserData: binary.LittleEndian.Uint64(cqes[at:]), Res: int32(binary.LittleEndian.Uint32(cqes[at+8:])),
					Flags: binary.LittleEndian.Uint32(cqes[at+12:])}
				if dst[i] != want {
					t.Fatalf("CQE %d = %+v, want %+v", i, dst[i], want)
				}
				if (dst[i].Res < 0) != (dst[i].Errno() != 0) {
					t.Fatalf("CQE %+v: errno %v disagrees with res", dst[i], dst[i].Errno())
				}
			}
		}
		// The SQ view over the same indices: tail is ours, head the kernel's.
		s := sqView{head: &head, tail: &tail, mask: entries - 1, entries: entries}
		free, err := s.space()
		if queued := tail - head; queued > entries {
			if err == nil {
				t.Fatalf("SQ with %d queued in %d entries not refused", queued, entries)
			}
		} else if err != nil || free != int(entries-queued) {
			t.Fatalf("SQ space %d, %v; want %d", free, err, entries-queued)
		}
	})
}
