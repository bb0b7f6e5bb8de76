package verify

import "golang.org/x/sys/cpu"

// fillAVX2 writes a whole format-3 payload (all 58 words random) for key
// k: the AVX2 form of fillGo's loop (fill_amd64.s).
//
//go:noescape
func fillAVX2(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64)

// sameAVX2 reports whether p is the whole payload fillAVX2 writes for k.
//
//go:noescape
func sameAVX2(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) bool

// fillWide writes a whole payload with AVX2 where the CPU has it, about
// four times fillGo's speed; false when it does not (fillGo's turn).
func fillWide(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) bool {
	if !cpu.X86.HasAVX2 {
		return false
	}
	fillAVX2(p, pad, k)
	return true
}

// sameWide is sameAVX2 where the CPU has AVX2; ok is false when it does
// not (sameGo's turn).
func sameWide(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) (same, ok bool) {
	if !cpu.X86.HasAVX2 {
		return false, false
	}
	return sameAVX2(p, pad, k), true
}
