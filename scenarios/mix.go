package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SizeShare is one block size of a mix and the whole percentage of I/Os
// that use it (fio's bssplit).
type SizeShare struct {
	Size int64
	Pct  int
}

// maxMixSizes bounds a mix: per-size counters live in every worker's
// recorder, so their number is fixed at compile time.
const maxMixSizes = 16

// MaxMixSizes is how many block sizes one mix may list.
const MaxMixSizes = maxMixSizes

// Sizes returns the block sizes op's I/Os of the phase use: the mix, or
// the one block size BS at 100%.
func (p Phase) Sizes(write bool) []SizeShare {
	m := p.ReadSizes
	if write {
		m = p.WriteSizes
	}
	if len(m) == 0 {
		return []SizeShare{{Size: p.BS, Pct: 100}}
	}
	return m
}

// Mixed reports whether the phase uses more than one block size.
func (p Phase) Mixed() bool { return len(p.ReadSizes) > 0 || len(p.WriteSizes) > 0 }

// AllSizes lists every distinct block size the phase issues, smallest
// first.
func (p Phase) AllSizes() []int64 {
	var out []int64
	for _, w := range []bool{false, true} {
		if (w && !p.RW.Writes()) || (!w && !p.RW.Reads()) {
			continue
		}
		for _, s := range p.Sizes(w) {
			if !slices.Contains(out, s.Size) {
				out = append(out, s.Size)
			}
		}
	}
	slices.Sort(out)
	return out
}

// MeanSize is the mean bytes per I/O of the phase, weighted by its read
// share: it converts a rate in bytes per second into I/Os per second.
func (p Phase) MeanSize() float64 {
	mean := func(m []SizeShare) float64 {
		var s float64
		for _, x := range m {
			s += float64(x.Size) * float64(x.Pct) / 100
		}
		return s
	}
	r := float64(p.ReadPct) / 100
	return r*mean(p.Sizes(false)) + (1-r)*mean(p.Sizes(true))
}

// FormatMix writes a mix as the format writes it: "4KiB: 60%, 64KiB: 40%".
func FormatMix(m []SizeShare) string {
	parts := make([]string, len(m))
	for i, s := range m {
		parts[i] = fmt.Sprintf("%s: %d%%", FormatSize(s.Size), s.Pct)
	}
	return strings.Join(parts, ", ")
}

// The values of engine: how a phase issues its I/O.
const (
	// EngineThreads gives each queue slot a goroutine blocking in
	// pread/pwrite (the default).
	EngineThreads = "threads"
	// EngineURing issues every slot of a target through one io_uring.
	EngineURing = "io_uring"
)

// The values of rate_process.
const (
	RateFixed   = "fixed"
	RatePoisson = "poisson"
)

// DistKind names an offset distribution.
type DistKind string

// The offset distributions of random phases.
const (
	Uniform DistKind = "uniform" // every block equally likely (default)
	Zipf    DistKind = "zipf"    // the k-th hottest block ∝ k^-θ (hot blocks scattered from the seed)
	Pareto  DistKind = "pareto"  // fio's pareto:h, h of the I/O to the hottest 1-h of the blocks
	Normal  DistKind = "normal"  // Gaussian around the range's middle
	Hot     DistKind = "hot"     // hot bands from the range's start, rest uniform
)

// distKinds lists the distributions in the order the docs present them.
func distKinds() []string {
	return []string{string(Uniform), string(Zipf), string(Pareto), string(Normal), string(Hot)}
}

// Distribution is where a random phase's offsets fall.
type Distribution struct {
	Kind DistKind
	// Param is θ for zipf (> 0), h for pareto (0 < h < 1), and the
	// standard deviation in percent of the range for normal.
	Param float64
	// Bands are the hot bands, laid out from the start of the range in
	// order; the rest of the range takes the rest of the I/O, uniformly.
	Bands []HotBand
}

// HotBand is a part of the range (RangePct percent of it) that takes
// SharePct percent of the I/Os.
type HotBand struct {
	RangePct, SharePct float64
}

// DefaultNormalSigma is normal's standard deviation, in percent of the
// range, when none is given: ±3σ spans the range.
const DefaultNormalSigma = 100.0 / 6

// String writes the distribution as the format writes it.
func (d *Distribution) String() string {
	switch {
	case d == nil:
		return string(Uniform)
	case d.Kind == Hot:
		parts := make([]string, len(d.Bands))
		for i, b := range d.Bands {
			parts[i] = fmt.Sprintf("{range: %s, share: %s}", fmtPct(b.RangePct), fmtPct(b.SharePct))
		}
		return "hot: [" + strings.Join(parts, ", ") + "]"
	case d.Kind == Normal:
		return "normal: " + fmtPct(d.Param)
	case d.Kind == Uniform:
		return string(Uniform)
	}
	return fmt.Sprintf("%s: %g", d.Kind, d.Param)
}

// fmtPct writes a percentage so that it parses back exactly.
func fmtPct(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) + "%" }

// bsNode writes a phase's bs: a size, a mix, or one per op.
func bsNode(p Phase) *yaml.Node {
	if !p.Mixed() {
		return str(FormatSize(p.BS))
	}
	mixNode := func(m []SizeShare) *yaml.Node {
		n := mapping()
		n.Style = yaml.FlowStyle
		for _, s := range m {
			add(n, FormatSize(s.Size), str(strconv.Itoa(s.Pct)+"%"))
		}
		return n
	}
	if slices.Equal(p.ReadSizes, p.WriteSizes) || len(p.WriteSizes) == 0 {
		return mixNode(p.Sizes(false))
	}
	if len(p.ReadSizes) == 0 {
		return mixNode(p.WriteSizes)
	}
	n := mapping()
	add(n, "read", mixNode(p.ReadSizes))
	add(n, "write", mixNode(p.WriteSizes))
	return n
}

// distNode writes an offset distribution as the format reads it.
func distNode(d *Distribution) *yaml.Node {
	n := mapping()
	n.Style = yaml.FlowStyle
	switch d.Kind {
	case Hot:
		bands := seq()
		for _, b := range d.Bands {
			bn := mapping()
			add(bn, "range", str(fmtPct(b.RangePct)))
			add(bn, "share", str(fmtPct(b.SharePct)))
			bands.Content = append(bands.Content, bn)
		}
		add(n, "hot", bands)
	case Normal:
		add(n, "normal", str(fmtPct(d.Param)))
	default:
		add(n, string(d.Kind), num(strconv.FormatFloat(d.Param, 'f', -1, 64)))
	}
	return n
}
