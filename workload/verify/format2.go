package verify

import "encoding/binary"

// Format 2 (lunbench before format 3) is still read: a results directory
// written then still verifies. Its byte layout inside one sector
// (little-endian; see doc.go):
const (
	offMagic  = 0
	offOffset = 8
	offRunID  = 16
	offWtime  = 24
	offGen    = 32
	// offRandom2 is how many payload bytes are random.
	offRandom2  = 36
	offPayload2 = 40
	offCheck2   = SectorSize - 4
	// payloadLen2 is 468 bytes: 58 eight-byte words and a four-byte tail.
	payloadLen2   = offCheck2 - offPayload2
	payloadWords2 = payloadLen2 / 8

	// Format 1 (before format 2): payload from byte 36 to 507, CRC32C of
	// bytes 0..507 at 508. Its header fields sit where format 2's do.
	offPayloadV1 = 36
)

// stampMagic is "LUNBSTM2" read as a little-endian uint64 (format 2);
// stampMagicV1 is "LUNBSTMP" (format 1).
const (
	stampMagic   = 0x324d5453424e554c
	stampMagicV1 = 0x504d5453424e554c
)

// checkMix spreads format 2's random count into its header check.
const checkMix = 0x589965cc75374cc3

// readHeader2 reads the header fields of a format-1 or format-2 sector.
func readHeader2(s *[SectorSize]byte) header {
	return header{
		off:    int64(binary.LittleEndian.Uint64(s[offOffset:])),
		runID:  binary.LittleEndian.Uint64(s[offRunID:]),
		wtime:  int64(binary.LittleEndian.Uint64(s[offWtime:])),
		gen:    binary.LittleEndian.Uint32(s[offGen:]),
		random: int(binary.LittleEndian.Uint32(s[offRandom2:])),
	}
}

// stampRandom2 is the random counts format 2 wrote: all of the payload, or
// whole words.
func stampRandom2(random int) int { return wholeWords(random, payloadLen2) }

// headerCheck is format 2's 32-bit check over a sector's header: its seed
// (which mixes offset, generation, run id and time) and its random count.
func headerCheck(k uint64, random int) uint32 {
	return uint32((k ^ uint64(random)*checkMix) >> 32)
}

// seed2 is format 2's seed of a sector: format 3's key without the random
// count (same multipliers, generation alone in its word).
func seed2(h header) uint64 {
	h.random = 0
	return h.key()
}

// payloadMismatch2 regenerates a format-2 sector's payload from its header
// (k is its seed, pad its write's) and returns the first sector byte that
// differs, or -1 when all agree.
func payloadMismatch2(s *[SectorSize]byte, pad *[padWords]uint64, k uint64) int {
	random := int(binary.LittleEndian.Uint32(s[offRandom2:]))
	if random != stampRandom2(random) {
		return offRandom2 // StampN never writes this count
	}
	if b := firstMismatch2((*[payloadLen2]byte)(s[offPayload2:offCheck2]), pad, k, random); b >= 0 {
		return offPayload2 + b
	}
	return -1
}

// firstMismatch2 is the payload byte where p first differs from what
// format 2 wrote from (pad, k, random), or -1. Out of line, so that its loop gets
// registers of its own.
//
//go:noinline
func firstMismatch2(p *[payloadLen2]byte, pad *[padWords]uint64, k uint64, random int) int {
	if random == payloadLen2 {
		// The common case, all random: OR the differences
		// of four words at a time, and look for the byte only if any.
		a := k + keyWeyl
		b := a + keyWeyl
		var diff uint64
		for i := 0; i+4 <= payloadWords2; i += 4 {
			w := p[i*8 : i*8+32]
			// (^ and | bind alike in Go: every difference in brackets.)
			diff |= (binary.LittleEndian.Uint64(w) ^ pad[i] ^ a) |
				(binary.LittleEndian.Uint64(w[8:]) ^ pad[i+1] ^ b) |
				(binary.LittleEndian.Uint64(w[16:]) ^ pad[i+2] ^ (a + keyWeyl2)) |
				(binary.LittleEndian.Uint64(w[24:]) ^ pad[i+3] ^ (b + keyWeyl2))
			a += 2 * keyWeyl2
			b += 2 * keyWeyl2
		}
		diff |= (binary.LittleEndian.Uint64(p[(payloadWords2-2)*8:]) ^ pad[payloadWords2-2] ^ a) |
			(binary.LittleEndian.Uint64(p[(payloadWords2-1)*8:]) ^ pad[payloadWords2-1] ^ b) |
			uint64(binary.LittleEndian.Uint32(p[payloadWords2*8:])^uint32(pad[payloadWords2]^(a+keyWeyl2)))
		if diff == 0 {
			return -1
		}
	}
	n := min(random/8, payloadWords2)
	for i := range pad[:n] {
		k += keyWeyl
		if got := binary.LittleEndian.Uint64(p[i*8:]); got != pad[i]^k {
			return i*8 + firstDiff(got, pad[i]^k)
		}
	}
	if random == payloadLen2 {
		k += keyWeyl
		if got, want := binary.LittleEndian.Uint32(p[payloadWords2*8:]), uint32(pad[payloadWords2]^k); got != want {
			return payloadWords2*8 + firstDiff(uint64(got), uint64(want))
		}
		return -1
	}
	for i := n * 8; i < payloadLen2; i++ {
		if p[i] != 0 {
			return i
		}
	}
	return -1
}
