package workload

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// stampEntropy is what a verified sector's 40-byte stamp adds that a
// compressor cannot squeeze out, measured with zstd and DEFLATE: the
// checksum and the changing bytes of the offset. Magic, run id, time and
// generation repeat from sector to sector and compress.
const stampEntropy = 8

// payloadShape is how a phase's writes look to a compressing and
// deduplicating target.
type payloadShape struct {
	// base is the pattern each plain write is made from: per sector,
	// random bytes then zeros (random = the whole sector by default).
	base   []byte
	random int
	// dedupe is the share (0..100) of writes that repeat an earlier block.
	dedupe uint32
	// firstTag is the worker's tag before its first write: content ids
	// (tags) above it up to tag are blocks this worker has written.
	firstTag uint64
	// stampRandom is how many payload bytes of a verified sector are
	// random (verify.PayloadLen when incompressible).
	stampRandom int
}

// randomPerSector is how many bytes of each 512-byte sector must be random
// for the sector to compress to about 1/ratio: the rest is zeros, which
// every compressor stores in a few bytes. Whole 8-byte words, at least one.
func randomPerSector(ratio float64) int {
	if ratio <= 1 {
		return verify.SectorSize
	}
	return max(int(math.Round(verify.SectorSize/ratio/8))*8, 8)
}

// shapePayload prepares the pattern of the worker's writes for the phase's
// compress: (how much of each sector is random) and dedupe:.
func (w *worker) shapePayload(p *scenarios.Phase, rng *rand.Rand) {
	k := randomPerSector(p.Compress)
	w.payload = payloadShape{random: k, dedupe: uint32(p.DedupePct), firstTag: w.tag, stampRandom: verify.PayloadLen}
	if p.Compress > 1 {
		w.payload.stampRandom = max(k-stampEntropy, 0)
	}
	if p.Verify || !p.RW.Writes() {
		return // verify.Stamp makes every sector; reads need no pattern
	}
	w.payload.base = make([]byte, len(w.buf))
	for s := 0; s+verify.SectorSize <= len(w.payload.base); s += verify.SectorSize {
		fillRandom(w.payload.base[s:s+k], rng)
	}
}

// stampPayload makes the block about to be written from the worker's
// pattern: the random bytes of every sector XORed with a key derived from
// a content id (the worker's tag, a write counter), and the id mixed with
// the sector's place in its first eight bytes. Every block is therefore
// unique and unlike every other, also to a compressor that sees several
// blocks in one record (a ZFS record or zvol block larger than bs), while
// the zeros of compress: stay zeros. Reads may have overwritten buf; each
// write rebuilds it whole.
//
// With dedupe: that share of writes reuses the id of an earlier write of
// the worker, drawn uniformly: the block is then byte for byte the one
// written under that id (when it had the same size).
func (w *worker) stampPayload() {
	ps := &w.payload
	var id uint64
	if ps.dedupe > 0 && w.tag > ps.firstTag && w.rng.Uint32N(100) < ps.dedupe {
		id = ps.firstTag + 1 + w.rng.Uint64N(w.tag-ps.firstTag)
	} else {
		w.tag++
		id = w.tag
	}
	key := verifyMix(id)
	k := int64(ps.random)
	for s := int64(0); s < w.bs; s += verify.SectorSize {
		dst, src := w.buf[s:s+verify.SectorSize], ps.base[s:s+verify.SectorSize]
		binary.LittleEndian.PutUint64(dst, id^uint64(s+1)*0x9e3779b97f4a7c15)
		for i := int64(8); i < k; i += 8 {
			binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^key)
		}
		clear(dst[k:])
	}
}

// verifyMix is splitmix64's finaliser: ids one apart get unrelated keys.
func verifyMix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
