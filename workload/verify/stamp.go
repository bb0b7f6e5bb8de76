package verify

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// SectorSize is the unit a stamp covers: every 512-byte sector of a
// verified write carries its own stamp, so any sector can be checked alone
// (and a write torn at a sector boundary shows which sectors landed).
const SectorSize = 512

// The stamp's byte layout inside one sector (little-endian); see doc.go.
const (
	offMagic   = 0
	offOffset  = 8
	offRunID   = 16
	offWtime   = 24
	offGen     = 32
	offPayload = 36
	offCRC     = SectorSize - 4
	// payloadLen is 472 bytes: 59 eight-byte words.
	payloadLen = offCRC - offPayload
)

// stampMagic is "LUNBSTMP" read as a little-endian uint64. Eight bytes of
// magic make a false match in old data or garbage practically impossible,
// and let Check tell "our stamp, damaged" (corrupt) from "not ours".
const stampMagic = 0x504d5453424e554c

// castagnoli is CRC32C: hardware-accelerated on amd64 and arm64, which the
// plain IEEE table is not to the same degree. crc32.MakeTable returns a
// shared table without allocating after the first call, but a package
// variable would be mutable state, so Stamp and Check ask for it each time.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// Stamp fills buf as the data of one write to device byte offset off. len(buf)
// must be a multiple of SectorSize (it may span several units); a trailing
// partial sector is left untouched. Every sector gets a header (magic, its own
// byte offset, gen, runID, wtime, CRC32C over the sector) and incompressible
// pseudo-random payload derived from (offset, gen, runID, wtime) by a
// splitmix64-style generator, so that no two sectors ever written are alike
// (compressing and deduplicating targets see real-looking data) and any
// sector can be checked alone.
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
// payload pseudo-random (rounded down to 8, at most PayloadLen) and the
// rest zero, so that the data compresses as a phase with compress: asks.
// The checksum still covers the whole sector, so Check needs no change.
func StampN(buf []byte, off int64, gen uint32, runID uint64, wtime int64, random int) {
	random = min(max(random, 0), payloadLen) &^ 7
	tab := castagnoli()
	for len(buf) >= SectorSize {
		s := buf[:SectorSize:SectorSize]
		binary.LittleEndian.PutUint64(s[offMagic:], stampMagic)
		binary.LittleEndian.PutUint64(s[offOffset:], uint64(off))
		binary.LittleEndian.PutUint64(s[offRunID:], runID)
		binary.LittleEndian.PutUint64(s[offWtime:], uint64(wtime))
		binary.LittleEndian.PutUint32(s[offGen:], gen)
		p := (*[payloadLen]byte)(s[offPayload:offCRC])
		fillPayload(p, random, seed(off, gen, runID, wtime))
		clear(p[random:])
		binary.LittleEndian.PutUint32(s[offCRC:], crc32.Checksum(s[:offCRC], tab))
		buf = buf[SectorSize:]
		off += SectorSize
	}
}

// seed mixes a sector's identity into the start of its payload stream.
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

// fillPayload writes the wyrand stream from state x into p: a Weyl
// sequence (splitmix64's increment) through one 64x64->128 multiply per
// word, half the multiplies of splitmix64's finaliser and as random to any
// compressor (wyrand passes BigCrush and PractRand).
func fillPayload(p *[payloadLen]byte, n int, x uint64) {
	for i := 0; i+8 <= n; i += 8 {
		x += 0xa0761d6478bd642f
		hi, lo := bits.Mul64(x, x^0xe7037ed1a0b428db)
		binary.LittleEndian.PutUint64(p[i:i+8], hi^lo)
	}
}
