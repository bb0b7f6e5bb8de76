package verify

import (
	"encoding/binary"
	"math/bits"
)

// SectorSize is the unit a stamp covers: every 512-byte sector of a
// verified write carries its own stamp, so any sector can be checked alone
// (and a write torn at a sector boundary shows which sectors landed).
const SectorSize = 512

// The stamp's byte layout inside one sector (little-endian); see doc.go.
const (
	offMagic  = 0
	offOffset = 8
	offRunID  = 16
	offWtime  = 24
	offGen    = 32
	// offRandom (format 2) is how many payload bytes are random.
	offRandom  = 36
	offPayload = 40
	offCheck   = SectorSize - 4
	// payloadLen is 468 bytes: 58 eight-byte words and a four-byte tail.
	payloadLen   = offCheck - offPayload
	payloadWords = payloadLen / 8
	// padWords is the run's pad: one word per payload word and one for
	// the tail.
	padWords = payloadWords + 1

	// Format 1 (lunbench before 1 ns histograms): payload from byte 36 to
	// 507, CRC32C of bytes 0..507 at 508. Check still reads it.
	offPayloadV1 = 36
)

// stampMagic is "LUNBSTM2" read as a little-endian uint64 (format 2);
// stampMagicV1 is "LUNBSTMP" (format 1). Eight bytes of magic make a false
// match in old data or garbage practically impossible, and let Check tell
// "our stamp, damaged" (corrupt) from "not ours".
const (
	stampMagic   = 0x324d5453424e554c
	stampMagicV1 = 0x504d5453424e554c
)

// The generator's constants: wyrand's (a Weyl increment and the xor for
// its multiply) and the golden ratio's odd 64-bit increment for the
// sector key stream.
const (
	wyP0     = 0xa0761d6478bd642f
	wyP1     = 0xe7037ed1a0b428db
	keyWeyl  = 0x9e3779b97f4a7c15
	keyWeyl2 = 0x3c6ef372fe94f82a // 2·keyWeyl mod 2^64
	padSalt  = 0x8ebc6af09c88c6e3
	checkMix = 0x589965cc75374cc3
)

// Stamp fills buf as the data of one write to device byte offset off. len(buf)
// must be a multiple of SectorSize (it may span several units); a trailing
// partial sector is left untouched. Every sector gets a header (magic, its own
// byte offset, gen, runID, wtime, a check over the header) and incompressible
// pseudo-random payload derived from (offset, gen, runID, wtime), so that no
// two sectors ever written are alike (compressing and deduplicating targets
// see real-looking data) and any sector can be checked alone: Check
// regenerates the payload from the header and compares every byte.
//
// A write that spans several units of a Map stamps each unit's slice of
// buf with that unit's own generation (from its own Begin).
//
// Stamp does not allocate.
func Stamp(buf []byte, off int64, gen uint32, runID uint64, wtime int64) {
	StampN(buf, off, gen, runID, wtime, PayloadLen)
}

// PayloadLen is how many payload bytes a sector's stamp surrounds.
const PayloadLen = payloadLen

// StampN is Stamp with only the first random bytes of each sector's
// payload pseudo-random (rounded down to 8 below PayloadLen) and the rest
// zero, so that the data compresses as a phase with compress: asks. The
// count is in the stamp, so Check needs no more than the sector.
//
// The payload is generated in one pass, a few instructions per eight
// bytes: a pad of PayloadLen pseudo-random bytes per run (wyrand, seeded
// from the run id) XORed with a key stream per sector (a Weyl sequence from
// the sector's own seed, which mixes offset, generation, run id and time).
// The pad makes every sector's bytes uniformly random to a compressor; the
// key makes every sector unique (sectors share the pad, not the key: no two
// hold the same eight bytes at the same place, and no run of bytes repeats
// for a compressor to find, as the zstd and gzip tests show).
func StampN(buf []byte, off int64, gen uint32, runID uint64, wtime int64, random int) {
	st := Stamper{runID: runID}
	makePad(&st.pad, runID)
	st.StampN(buf, off, gen, wtime, random)
}

// Stamper stamps the writes of one run: Stamp and StampN with the run's
// pad made once rather than per call (59 multiplies a write, an eighth of a
// 4 KiB stamp's work). A worker keeps one; it is not for concurrent use.
type Stamper struct {
	runID uint64
	pad   [padWords]uint64
}

// NewStamper returns the Stamper of run runID.
func NewStamper(runID uint64) *Stamper {
	st := &Stamper{runID: runID}
	makePad(&st.pad, runID)
	return st
}

// StampN is the package's StampN for st's run. It does not allocate.
func (st *Stamper) StampN(buf []byte, off int64, gen uint32, wtime int64, random int) {
	random = stampRandom(random)
	runID, pad := st.runID, &st.pad
	for len(buf) >= SectorSize {
		s := (*[SectorSize]byte)(buf[:SectorSize])
		binary.LittleEndian.PutUint64(s[offMagic:], stampMagic)
		binary.LittleEndian.PutUint64(s[offOffset:], uint64(off))
		binary.LittleEndian.PutUint64(s[offRunID:], runID)
		binary.LittleEndian.PutUint64(s[offWtime:], uint64(wtime))
		binary.LittleEndian.PutUint32(s[offGen:], gen)
		binary.LittleEndian.PutUint32(s[offRandom:], uint32(random))
		k := seed(off, gen, runID, wtime)
		binary.LittleEndian.PutUint32(s[offCheck:], headerCheck(k, random))
		fillSector((*[payloadLen]byte)(s[offPayload:offCheck]), pad, k, random)
		buf = buf[SectorSize:]
		off += SectorSize
	}
}

// stampRandom is how many payload bytes StampN makes random for a request
// of random: all of them, or whole words.
func stampRandom(random int) int {
	if random >= payloadLen {
		return payloadLen
	}
	return max(random, 0) &^ 7
}

// makePad fills the run's pad: the wyrand stream (a Weyl sequence
// through one 64x64->128 multiply per word; it passes BigCrush and
// PractRand) seeded from the run id.
func makePad(pad *[padWords]uint64, runID uint64) {
	x := mix64(runID*0x165667b19e3779f9 ^ padSalt)
	for i := range pad {
		x += wyP0
		hi, lo := bits.Mul64(x, x^wyP1)
		pad[i] = hi ^ lo
	}
}

// fillSector writes one sector's payload: the first random bytes pad XOR
// key stream, the rest zero. The loop is a load, an add, an xor and a
// store per word, with no multiply and no dependency but the add.
//
// It is kept out of StampN so that the loop gets registers of its own
// (inlined, the compiler spilled its counter to the stack).
//
//go:noinline
func fillSector(p *[payloadLen]byte, pad *[padWords]uint64, k uint64, random int) {
	if random == payloadLen {
		// Two words a step, from two keys one increment apart (payloadWords
		// is even); a then keys the tail.
		a := k + keyWeyl
		b := a + keyWeyl
		for i := 0; i+4 <= payloadWords; i += 4 {
			w := p[i*8 : i*8+32]
			binary.LittleEndian.PutUint64(w, pad[i]^a)
			binary.LittleEndian.PutUint64(w[8:], pad[i+1]^b)
			binary.LittleEndian.PutUint64(w[16:], pad[i+2]^(a+keyWeyl2))
			binary.LittleEndian.PutUint64(w[24:], pad[i+3]^(b+keyWeyl2))
			a += 2 * keyWeyl2
			b += 2 * keyWeyl2
		}
		// 58 = 4·14 + 2.
		binary.LittleEndian.PutUint64(p[(payloadWords-2)*8:], pad[payloadWords-2]^a)
		binary.LittleEndian.PutUint64(p[(payloadWords-1)*8:], pad[payloadWords-1]^b)
		binary.LittleEndian.PutUint32(p[payloadWords*8:], uint32(pad[payloadWords]^(a+keyWeyl2)))
		return
	}
	n := random / 8
	for i := range pad[:min(n, payloadWords)] {
		k += keyWeyl
		binary.LittleEndian.PutUint64(p[i*8:], pad[i]^k)
	}
	clear(p[n*8:])
}

// headerCheck is the 32-bit check over a sector's header: its seed (which
// mixes offset, generation, run id and time) and its random count. The payload, a function of the same header, is checked byte
// for byte against its regeneration, so a checksum over it is not needed.
func headerCheck(k uint64, random int) uint32 {
	// k is a full-avalanche hash of the other fields already: a change
	// to any of them changes its top half; the odd multiplier spreads a
	// change of random there too.
	return uint32((k ^ uint64(random)*checkMix) >> 32)
}

// seed mixes a sector's identity into the start of its key stream.
// Different multipliers per field keep (off, gen) and (off+1, gen-1) and the
// like from colliding.
func seed(off int64, gen uint32, runID uint64, wtime int64) uint64 {
	x := uint64(off)*0x9e3779b97f4a7c15 ^ uint64(gen)*0xc2b2ae3d27d4eb4f ^
		runID*0x165667b19e3779f9 ^ uint64(wtime)*0xd6e8feb86659fd93
	return mix64(x)
}

// mix64 is splitmix64's finaliser: a bijection with full avalanche, so
// sectors whose identities differ by one bit start unrelated streams.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// payloadMismatch regenerates a format-2 sector's payload from its header
// (k is its seed, pad its write's) and returns the first sector byte that
// differs, or -1 when all agree.
func payloadMismatch(s *[SectorSize]byte, pad *[padWords]uint64, k uint64) int {
	random := int(binary.LittleEndian.Uint32(s[offRandom:]))
	if random != stampRandom(random) {
		return offRandom // StampN never writes this count
	}
	if b := firstMismatch((*[payloadLen]byte)(s[offPayload:offCheck]), pad, k, random); b >= 0 {
		return offPayload + b
	}
	return -1
}

// firstMismatch is the payload byte where p first differs from what
// fillSector(pad, k, random) writes, or -1. Out of line for the same reason
// as fillSector.
//
//go:noinline
func firstMismatch(p *[payloadLen]byte, pad *[padWords]uint64, k uint64, random int) int {
	if random == payloadLen {
		// The common case, as fillSector writes it: OR the differences
		// of four words at a time, and look for the byte only if any.
		a := k + keyWeyl
		b := a + keyWeyl
		var diff uint64
		for i := 0; i+4 <= payloadWords; i += 4 {
			w := p[i*8 : i*8+32]
			// (^ and | bind alike in Go: every difference in brackets.)
			diff |= (binary.LittleEndian.Uint64(w) ^ pad[i] ^ a) |
				(binary.LittleEndian.Uint64(w[8:]) ^ pad[i+1] ^ b) |
				(binary.LittleEndian.Uint64(w[16:]) ^ pad[i+2] ^ (a + keyWeyl2)) |
				(binary.LittleEndian.Uint64(w[24:]) ^ pad[i+3] ^ (b + keyWeyl2))
			a += 2 * keyWeyl2
			b += 2 * keyWeyl2
		}
		diff |= (binary.LittleEndian.Uint64(p[(payloadWords-2)*8:]) ^ pad[payloadWords-2] ^ a) |
			(binary.LittleEndian.Uint64(p[(payloadWords-1)*8:]) ^ pad[payloadWords-1] ^ b) |
			uint64(binary.LittleEndian.Uint32(p[payloadWords*8:])^uint32(pad[payloadWords]^(a+keyWeyl2)))
		if diff == 0 {
			return -1
		}
	}
	n := min(random/8, payloadWords)
	for i := range pad[:n] {
		k += keyWeyl
		if got := binary.LittleEndian.Uint64(p[i*8:]); got != pad[i]^k {
			return i*8 + firstDiff(got, pad[i]^k)
		}
	}
	if random == payloadLen {
		k += keyWeyl
		if got, want := binary.LittleEndian.Uint32(p[payloadWords*8:]), uint32(pad[payloadWords]^k); got != want {
			return payloadWords*8 + firstDiff(uint64(got), uint64(want))
		}
		return -1
	}
	for i := n * 8; i < payloadLen; i++ {
		if p[i] != 0 {
			return i
		}
	}
	return -1
}

// firstDiff is the index of the first byte (little-endian) where a and b
// differ; a != b.
func firstDiff(a, b uint64) int { return bits.TrailingZeros64(a^b) / 8 }
