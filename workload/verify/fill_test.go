package verify

import (
	"bytes"
	"testing"
)

// testPad is the first payloadWords words of run testRun's pad.
func testPad() *[payloadWords]uint64 {
	var pad [padWords]uint64
	makePad(&pad, testRun)
	return (*[payloadWords]uint64)(pad[:payloadWords])
}

// TestFillWideMatchesGo: where the CPU has AVX2, its fill writes exactly
// the bytes of the Go loop, and its comparison agrees with the Go one on
// a good payload and on each byte of it flipped.
func TestFillWideMatchesGo(t *testing.T) {
	pad := testPad()
	for _, k := range []uint64{0, 1, testRun, 1<<64 - 1, 0x8000_0000_0000_0000} {
		var want, got [payloadLen]byte
		fillGo(&want, pad, k)
		if !fillWide(&got, pad, k) {
			t.Skip("no AVX2 on this CPU: fillGo alone does the work")
		}
		if !bytes.Equal(want[:], got[:]) {
			t.Fatalf("key %#x: AVX2 fill differs from Go's", k)
		}
		for i := -1; i < payloadLen; i++ {
			p := want
			if i >= 0 {
				p[i] ^= 0x80
			}
			same, _ := sameWide(&p, pad, k)
			if same != sameGo(&p, pad, k) || same != (i < 0) {
				t.Fatalf("key %#x, byte %d flipped: AVX2 says same=%v, Go %v", k, i, same, sameGo(&p, pad, k))
			}
		}
	}
}

// FuzzFill compares the AVX2 and Go payloads for any key, and the two
// comparisons for any one byte changed.
func FuzzFill(f *testing.F) {
	f.Add(uint64(testRun), uint16(0), byte(1))
	f.Add(uint64(0), uint16(463), byte(0x80))
	pad := testPad()
	f.Fuzz(func(t *testing.T, k uint64, at uint16, x byte) {
		var want, got [payloadLen]byte
		fillGo(&want, pad, k)
		if !fillWide(&got, pad, k) {
			t.Skip("no AVX2")
		}
		if want != got {
			t.Fatalf("key %#x: AVX2 fill differs", k)
		}
		got[int(at)%payloadLen] ^= x
		same, _ := sameWide(&got, pad, k)
		if same != sameGo(&got, pad, k) || same != (x == 0) {
			t.Fatalf("key %#x, byte %d ^ %#x: AVX2 same=%v, Go %v", k, at, x, same, sameGo(&got, pad, k))
		}
	})
}
