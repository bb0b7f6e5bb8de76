package workload

import (
	"math/rand/v2"

	"lunbench/scenarios"
)

// sizePicker draws one op's block size from a mix in O(1): shares are
// whole percentages, so a 100-entry table maps a uniform draw to a size.
type sizePicker struct {
	table [100]uint8
	sizes [scenarios.MaxMixSizes]int64
	fixed bool // one size: no draw
}

// newSizePicker returns the picker of a mix (sizes sorted, shares adding
// up to 100; the loader guarantees both).
func newSizePicker(mix []scenarios.SizeShare) *sizePicker {
	sp := &sizePicker{fixed: len(mix) == 1}
	i := 0
	for si, s := range mix {
		sp.sizes[si] = s.Size
		for j := 0; j < s.Pct && i < len(sp.table); j++ {
			sp.table[i] = uint8(si)
			i++
		}
	}
	return sp
}

// pick returns the index of the next I/O's size in the mix and the size.
func (sp *sizePicker) pick(rng *rand.Rand) (int, int64) {
	if sp.fixed {
		return 0, sp.sizes[0]
	}
	si := int(sp.table[rng.Uint32N(100)])
	return si, sp.sizes[si]
}

// sizeAlign is the alignment of a phase's offsets: the greatest common
// divisor of its block sizes, so every size can start at every slot.
func sizeAlign(p *scenarios.Phase) int64 {
	var g int64
	for _, s := range p.AllSizes() {
		g = gcd(g, s)
	}
	return g
}

// newOffsets returns worker wi's offset generator for phase p over
// [base, base+length). Random offsets are aligned to the phase's size
// alignment and leave room for its largest size at the end; verified
// phases draw only from the worker's own share of the range, so no two
// in-flight writes ever touch one block.
func newOffsets(p *scenarios.Phase, rng *rand.Rand, base, length int64, wi int, verified bool, tables *distTables) Offsets {
	seq := NewSeqOffsets(base, length, p.BS, wi, p.QD)
	if !p.RW.Random() {
		return seq
	}
	if verified {
		lo, hi := seq.Span()
		base, length = lo, hi-lo
	}
	align := sizeAlign(p)
	units := (length-p.BS)/align + 1
	if p.Offsets == nil {
		return NewRandOffsets(rng, base, units*align, align)
	}
	return &DistOffsets{rng: rng, t: tables.get(p.Offsets, units), base: base, align: align}
}

// phaseSizes returns the phase's size pickers per op, or nil when every
// I/O is the one block size. Pickers are read-only, so workers share them.
func phaseSizes(p *scenarios.Phase) *[NumOps]*sizePicker {
	if !p.Mixed() {
		return nil
	}
	return &[NumOps]*sizePicker{Read: newSizePicker(p.Sizes(false)), Write: newSizePicker(p.Sizes(true))}
}

// SizeResult is what one block size of a mix did in a phase × target × op.
type SizeResult struct {
	BS int64 `json:"bs"`
	// Pct is the size's share in the scenario's mix.
	Pct   int     `json:"pct"`
	Ops   uint64  `json:"ops"`
	Bytes uint64  `json:"bytes"`
	IOPS  float64 `json:"iops"`
	MBps  float64 `json:"mib_per_sec"`
}

// sizeResults breaks c down per block size of the phase's mix for op.
func sizeResults(p *scenarios.Phase, op Op, c *opCounts, secs float64) []SizeResult {
	if !p.Mixed() {
		return nil
	}
	var out []SizeResult
	for i, s := range p.Sizes(op == Write) {
		r := SizeResult{BS: s.Size, Pct: s.Pct, Ops: c.sizeOps[i], Bytes: c.sizeOps[i] * uint64(s.Size)}
		if secs > 0 {
			r.IOPS = float64(r.Ops) / secs
			r.MBps = float64(r.Bytes) / secs / (1 << 20)
		}
		out = append(out, r)
	}
	return out
}

// describeSizes writes the phase's block size or mixes for events.
func describeSizes(p *scenarios.Phase) string {
	if !p.Mixed() {
		return scenarios.FormatSize(p.BS)
	}
	r, w := scenarios.FormatMix(p.Sizes(false)), scenarios.FormatMix(p.Sizes(true))
	switch {
	case !p.RW.Writes():
		return "{" + r + "}"
	case !p.RW.Reads():
		return "{" + w + "}"
	case r == w:
		return "{" + r + "}"
	}
	return "{read: {" + r + "}, write: {" + w + "}}"
}
