package verify

import (
	"encoding/binary"
	"math/bits"
)

// SectorSize is the unit a stamp covers: every 512-byte sector of a
// verified write carries its own stamp, so any sector can be checked alone
// (and a write torn at a sector boundary shows which sectors landed).
const SectorSize = 512

// The stamp's byte layout inside one sector (format 3, little-endian; see
// doc.go). The header's fields after the key are XORed with masks drawn
// from the key, so no byte of a stamp repeats from sector to sector.
const (
	offKey     = 0  // the sector's seed, in clear
	offMagic3  = 8  // magic, masked
	offOffset3 = 16 // the sector's byte offset, masked
	offRunID3  = 24 // run id, masked
	offWtime3  = 32 // write time, masked
	offGenRand = 40 // generation (low half) and random count (high), masked
	offPayload = 48
	// payloadLen is 464 bytes: 58 eight-byte words.
	payloadLen   = SectorSize - offPayload
	payloadWords = payloadLen / 8
	// padWords is the run's pad: format 3 uses its first payloadWords
	// words, format 2 all of them (58 words and a four-byte tail).
	padWords = payloadWords + 1
	// hdrMasks is how many header words are masked.
	hdrMasks = 5
)

// stampMagic3 is "LUNBSTM3" read as a little-endian uint64. Eight bytes of
// magic, unmasked with the sector's key, make a false match in old data or
// garbage practically impossible, and let Check tell "our stamp, damaged"
// (corrupt) from "not ours".
const stampMagic3 = 0x334d5453424e554c

// The generator's constants: wyrand's (a Weyl increment and the xor for
// its multiply) and the golden ratio's odd 64-bit increment for the
// sector key stream.
const (
	wyP0     = 0xa0761d6478bd642f
	wyP1     = 0xe7037ed1a0b428db
	keyWeyl  = 0x9e3779b97f4a7c15
	keyWeyl2 = 0x3c6ef372fe94f82a // 2·keyWeyl mod 2^64
	padSalt  = 0x8ebc6af09c88c6e3
)

// Stamp fills buf as the data of one write to device byte offset off. len(buf)
// must be a multiple of SectorSize (it may span several units); a trailing
// partial sector is left untouched. Every sector gets a header (its key, then
// magic, its own byte offset, runID, wtime and gen masked by the key) and
// incompressible pseudo-random payload derived from the key, so that no two
// sectors ever written are alike and no run of bytes repeats between them
// (compressing and deduplicating targets see real-looking data, and spend on
// it what they spend on real data) and any sector can be checked alone:
// Check unmasks the header, checks the key against it, regenerates the
// payload and compares every byte.
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

// HeaderLen is how many bytes of each sector the stamp's header takes: all
// of them random to a compressor.
const HeaderLen = offPayload

// StampN is Stamp with only the first random bytes of each sector's
// payload pseudo-random (rounded down to 8 below PayloadLen) and the rest
// zero, so that the data compresses as a phase with compress: asks. The
// count is in the stamp, so Check needs no more than the sector.
//
// The payload is generated in one pass, a few instructions per eight
// bytes: a pad of PayloadLen pseudo-random bytes per run (wyrand, seeded
// from the run id) XORed with a key stream per sector (a Weyl sequence from
// the sector's key, which mixes offset, generation, random count, run id
// and time). The pad makes every sector's bytes uniformly random to a
// compressor; the key makes every sector unique (sectors share the pad, not
// the key: no two hold the same eight bytes at the same place, and no run
// of bytes repeats for a compressor to find, as the zstd and gzip tests
// show).
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
//
// The sectors of one call share all of the key's inputs but the offset,
// whose term steps by a constant: the loop mixes one word and draws five
// masks per sector (see header.key and masks).
func (st *Stamper) StampN(buf []byte, off int64, gen uint32, wtime int64, random int) {
	random = stampRandom(random)
	pad := (*[payloadWords]uint64)(st.pad[:payloadWords])
	h := header{off: off, runID: st.runID, wtime: wtime, gen: gen, random: random}
	rest, xo := h.keyTerms()
	gr := h.genRand()
	for len(buf) >= SectorSize {
		s := (*[SectorSize]byte)(buf[:SectorSize])
		k := mix64(xo ^ rest)
		var m [hdrMasks]uint64
		masks(&m, k)
		binary.LittleEndian.PutUint64(s[offKey:], k)
		binary.LittleEndian.PutUint64(s[offMagic3:], stampMagic3^m[0])
		binary.LittleEndian.PutUint64(s[offOffset3:], uint64(off)^m[1])
		binary.LittleEndian.PutUint64(s[offRunID3:], st.runID^m[2])
		binary.LittleEndian.PutUint64(s[offWtime3:], uint64(wtime)^m[3])
		binary.LittleEndian.PutUint64(s[offGenRand:], gr^m[4])
		fillSector((*[payloadLen]byte)(s[offPayload:]), pad, k, random)
		buf = buf[SectorSize:]
		off += SectorSize
		xo += offStep
	}
}

// The key's multipliers, one per field: different ones keep (off, gen)
// and (off+1, gen-1) and the like from colliding.
const (
	offMul   = 0x9e3779b97f4a7c15
	genMul   = 0xc2b2ae3d27d4eb4f
	runMul   = 0x165667b19e3779f9
	wtimeMul = 0xd6e8feb86659fd93
	// offStep is SectorSize·offMul mod 2^64: the offset term's step
	// from one sector to the next.
	offStep = SectorSize * offMul & (1<<64 - 1)
)

// header is what a stamp says about its sector.
type header struct {
	off    int64
	runID  uint64
	wtime  int64
	gen    uint32
	random int
}

// key is the sector's seed: a full-avalanche hash of every header field,
// so it is also the header's 64-bit check.
func (h header) key() uint64 {
	rest, xo := h.keyTerms()
	return mix64(xo ^ rest)
}

// keyTerms splits the key's input into the offset's term and the rest.
func (h header) keyTerms() (rest, xo uint64) {
	return h.genRand()*genMul ^ h.runID*runMul ^ uint64(h.wtime)*wtimeMul, uint64(h.off) * offMul
}

// genRand is the header word holding the generation and the random count.
func (h header) genRand() uint64 { return uint64(h.gen) | uint64(uint32(h.random))<<32 }

// readHeader3 unmasks a format-3 header; ok is false when the magic is not
// there (not a format-3 stamp, or its key damaged). The caller checks the
// key against the fields (header.key).
func readHeader3(s *[SectorSize]byte) (h header, k uint64, ok bool) {
	k = binary.LittleEndian.Uint64(s[offKey:])
	var m [hdrMasks]uint64
	masks(&m, k)
	if binary.LittleEndian.Uint64(s[offMagic3:])^m[0] != stampMagic3 {
		return header{}, k, false
	}
	gr := binary.LittleEndian.Uint64(s[offGenRand:]) ^ m[4]
	h = header{
		off:    int64(binary.LittleEndian.Uint64(s[offOffset3:]) ^ m[1]),
		runID:  binary.LittleEndian.Uint64(s[offRunID3:]) ^ m[2],
		wtime:  int64(binary.LittleEndian.Uint64(s[offWtime3:]) ^ m[3]),
		gen:    uint32(gr),
		random: int(gr >> 32),
	}
	return h, k, true
}

// masks draws the header's masks from key k, a full-avalanche hash: one
// xor-shift (so the masks' low bytes depend on all of k) and a multiply by
// a different odd constant each, independent of one another. Every header
// byte then differs from sector to sector, and the magic, unmasked, tells
// a stamp from anything else.
func masks(m *[hdrMasks]uint64, k uint64) {
	h := k ^ k>>29
	m[0] = h * 0xa0761d6478bd642f
	m[1] = h * 0xe7037ed1a0b428db
	m[2] = h * 0x8ebc6af09c88c6e3
	m[3] = h * 0x589965cc75374cc3
	m[4] = h * 0x1d8e4e27c47d124f
}

// stampRandom is how many payload bytes StampN makes random for a request
// of random: all of them, or whole words.
func stampRandom(random int) int { return wholeWords(random, payloadLen) }

// wholeWords is random bytes of a payload of n: all n from n on, else
// whole words (none below zero).
func wholeWords(random, n int) int {
	if random >= n {
		return n
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

// fillSector writes one sector's payload: word i of the first random bytes
// is pad[i] XOR (k + (i+1)·φ), the rest zero. A whole payload goes to the
// AVX2 form where the CPU has it (fill_amd64.s), else to fillGo.
func fillSector(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64, random int) {
	n := random / 8
	if n == payloadWords {
		if !fillWide(p, pad, k) {
			fillGo(p, pad, k)
		}
		return
	}
	for i := range pad[:n] {
		k += keyWeyl
		binary.LittleEndian.PutUint64(p[i*8:], pad[i]^k)
	}
	clear(p[n*8:])
}

// fillGo writes a whole payload in Go: a load, an add, an xor and a store
// per word, two words a step from two keys one increment apart
// (payloadWords is even), with no bounds check in the loop.
//
// It is kept out of line so that the loop gets registers of its own
// (inlined, the compiler spilled its counter to the stack).
//
//go:noinline
func fillGo(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) {
	a := k + keyWeyl
	b := a + keyWeyl
	for i := 0; i < payloadWords; i += 2 {
		binary.LittleEndian.PutUint64(p[i*8:], pad[i]^a)
		binary.LittleEndian.PutUint64(p[i*8+8:], pad[i+1]^b)
		a += keyWeyl2
		b += keyWeyl2
	}
}

// payloadMismatch3 regenerates a format-3 sector's payload from its key and
// random count and returns the first sector byte that differs, or -1 when
// all agree.
func payloadMismatch3(s *[SectorSize]byte, pad *[padWords]uint64, k uint64, random int) int {
	if random != stampRandom(random) {
		return offGenRand // StampN never writes this count
	}
	p := (*[payloadLen]byte)(s[offPayload:])
	pw := (*[payloadWords]uint64)(pad[:payloadWords])
	n := random / 8
	if n == payloadWords {
		same, ok := sameWide(p, pw, k)
		if !ok {
			same = sameGo(p, pw, k)
		}
		if same {
			return -1
		}
	}
	for i := range pw[:n] {
		k += keyWeyl
		if got := binary.LittleEndian.Uint64(p[i*8:]); got != pw[i]^k {
			return offPayload + i*8 + firstDiff(got, pw[i]^k)
		}
	}
	for i := n * 8; i < payloadLen; i++ {
		if p[i] != 0 {
			return offPayload + i
		}
	}
	return -1
}

// sameGo reports whether p is the whole payload fillGo writes for k: it
// ORs the differences of two words at a time.
//
//go:noinline
func sameGo(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) bool {
	a := k + keyWeyl
	b := a + keyWeyl
	var diff uint64
	for i := 0; i < payloadWords; i += 2 {
		diff |= (binary.LittleEndian.Uint64(p[i*8:]) ^ pad[i] ^ a) |
			(binary.LittleEndian.Uint64(p[i*8+8:]) ^ pad[i+1] ^ b)
		a += keyWeyl2
		b += keyWeyl2
	}
	return diff == 0
}

// mix64 is splitmix64's finaliser: a bijection with full avalanche, so
// sectors whose identities differ by one bit start unrelated streams.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// firstDiff is the index of the first byte (little-endian) where a and b
// differ; a != b.
func firstDiff(a, b uint64) int { return bits.TrailingZeros64(a^b) / 8 }
