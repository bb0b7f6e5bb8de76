package workload

import (
	"math"
	"math/rand/v2"
	"unsafe"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// stampEntropy is what a verified sector's stamp header adds that a
// compressor cannot squeeze out: all of it, as every header word is masked
// by the sector's own key (verify.HeaderLen, 48 bytes).
const stampEntropy = verify.HeaderLen

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
	// Word by word: both buffers are 8-byte aligned (directio's and
	// make's), and a 4 KiB block is 512 words.
	const words = verify.SectorSize / 8
	k := ps.random / 8
	dst := unsafe.Slice((*uint64)(unsafe.Pointer(&w.buf[0])), int(w.bs)/8)
	src := unsafe.Slice((*uint64)(unsafe.Pointer(&ps.base[0])), len(ps.base)/8)[:len(dst)]
	for s := 0; s+words <= len(dst); s += words {
		d, b := dst[s:s+words:s+words], src[s:s+words:s+words]
		d[0] = id ^ uint64(s*8+1)*0x9e3779b97f4a7c15
		xorKey(d[1:k], b[1:k], key)
		clear(d[k:])
	}
}

// xorKey sets d to b XOR key, four words a step: with the lengths made
// equal up front the compiler drops the bounds check of every word. Against
// the word-by-word loop it replaces (BenchmarkStampPayload, best of four
// alternating runs on a loaded machine): 4 KiB 458 -> 359 ns, 1 MiB
// 482 -> 263 µs, where zram takes about a millisecond to store that MiB.
func xorKey(d, b []uint64, key uint64) {
	b = b[:len(d)]
	for len(d) >= 4 && len(b) >= 4 {
		d[0], d[1], d[2], d[3] = b[0]^key, b[1]^key, b[2]^key, b[3]^key
		d, b = d[4:], b[4:]
	}
	for i := range d {
		d[i] = b[i] ^ key
	}
}

// verifyMix is splitmix64's finaliser: ids one apart get unrelated keys.
func verifyMix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
