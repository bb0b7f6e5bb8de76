package scenarios

import (
	"math"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// sizeMix is a decoded bs: one mix for every op, or one per op (nil when
// the mapping left that op out).
type sizeMix struct {
	read, write   []SizeShare
	perOp         bool
	readN, writeN *yaml.Node // where each was written, for messages
}

// mixKeysPerOp reports whether a bs mapping is written per op
// ({read: ..., write: ...}) rather than as size: share.
func mixKeysPerOp(v *yaml.Node) bool {
	for i := 0; i+1 < len(v.Content); i += 2 {
		if k := v.Content[i].Value; k == "read" || k == "write" {
			return true
		}
	}
	return false
}

// sizeMixValue parses bs written as a mapping: {4k: 60%, 64k: 40%}, or
// per op, {read: {4k: 70%, 8k: 30%}, write: 64k}.
func (d *decoder) sizeMixValue(f *field, what string) bool {
	v := f.val
	if !mixKeysPerOp(v) {
		m, ok := d.mixShares(v, what)
		f.mix = &sizeMix{read: m, write: m, readN: v, writeN: v}
		return ok
	}
	f.mix = &sizeMix{perOp: true}
	ok := true
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := d.deref(v.Content[i]), d.deref(v.Content[i+1])
		var dst *[]SizeShare
		var at **yaml.Node
		switch k.Value {
		case "read":
			dst, at = &f.mix.read, &f.mix.readN
		case "write":
			dst, at = &f.mix.write, &f.mix.writeN
		default:
			d.errf(k, "unknown key %q in %s: a bs per op takes read: and write:, each a size or a mix like {4k: 60%%, 64k: 40%%}", k.Value, what)
			ok = false
			continue
		}
		if *at != nil {
			d.errf(k, "duplicate key %q in %s", k.Value, what)
			ok = false
			continue
		}
		*at = val
		m, good := d.oneMix(val, what+" ("+k.Value+")")
		*dst, ok = m, ok && good
	}
	return ok
}

// oneMix parses one op's sizes: a plain size or a mapping of size: share.
func (d *decoder) oneMix(v *yaml.Node, what string) ([]SizeShare, bool) {
	if v.Kind == yaml.MappingNode {
		return d.mixShares(v, what)
	}
	if v.Kind != yaml.ScalarNode || isNull(v) {
		d.errf(v, "%s must be a size like 4k or a mix like {4k: 60%%, 64k: 40%%}, got %s", what, describe(v))
		return nil, false
	}
	n, ok := d.mixSize(v, what)
	return []SizeShare{{Size: n, Pct: 100}}, ok
}

// mixSize parses one block size of a mix, bounded as bs is.
func (d *decoder) mixSize(k *yaml.Node, what string) (int64, bool) {
	s, ok := d.text(k, what)
	if !ok {
		return 0, false
	}
	n, err := ParseSize(s)
	switch {
	case err != nil:
		d.errf(k, "%s: %v", what, err)
	case n <= 0 || n%512 != 0 || n > 64<<20:
		d.errf(k, "block size %s in %s must be a multiple of 512 bytes up to 64MiB", describe(k), what)
	default:
		return n, true
	}
	return 0, false
}

// mixShares parses {4k: 60%, 64k: 40%}: whole, positive shares adding up
// to 100%, each size once.
func (d *decoder) mixShares(v *yaml.Node, what string) ([]SizeShare, bool) {
	var out []SizeShare
	ok := true
	sum := 0
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := d.deref(v.Content[i]), d.deref(v.Content[i+1])
		size, good := d.mixSize(k, what)
		if !good {
			ok = false
			continue
		}
		if j := slices.IndexFunc(out, func(s SizeShare) bool { return s.Size == size }); j >= 0 {
			d.errf(k, "block size %s appears twice in %s", FormatSize(size), what)
			ok = false
			continue
		}
		pct, good := d.mixPct(val, what+" for "+FormatSize(size))
		if !good {
			ok = false
			continue
		}
		sum += pct
		out = append(out, SizeShare{Size: size, Pct: pct})
	}
	switch {
	case len(out) == 0 && ok:
		d.errf(v, "%s is an empty mix; list block sizes and their shares, like {4k: 60%%, 64k: 40%%}", what)
		ok = false
	case len(out) > maxMixSizes:
		d.errf(v, "%s lists %d block sizes; a mix takes at most %d", what, len(out), maxMixSizes)
		ok = false
	case ok && sum != 100:
		d.errf(v, "the shares in %s add up to %d%%; they must add up to 100%%", what, sum)
		ok = false
	}
	slices.SortFunc(out, func(a, b SizeShare) int { return int(a.Size - b.Size) })
	return out, ok
}

// mixPct parses one share of a mix: a whole percentage above 0.
func (d *decoder) mixPct(v *yaml.Node, what string) (int, bool) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		d.errf(v, "%s must be a share like 60%%, got %s", what, describe(v))
		return 0, false
	}
	s, ok := d.text(v, what)
	if !ok {
		return 0, false
	}
	f, err := ParsePercent(s)
	switch {
	case err != nil:
		d.errf(v, "%s: %v", what, err)
	case f != math.Trunc(f) || f == 0:
		d.errf(v, "%s must be a whole percentage above 0 like 60%%, got %s", what, describe(v))
	default:
		return int(f), true
	}
	return 0, false
}

// applyBS sets the phase's block size(s) from a bs mapping: BS becomes the
// largest size (buffers and range checks use it).
func (d *decoder) applyBS(p *Phase, m *sizeMix, rwOK bool, ctx string) {
	if !m.perOp && len(m.read) == 1 {
		p.BS = m.read[0].Size // {4k: 100%} is just bs: 4k
		return
	}
	p.ReadSizes, p.WriteSizes = m.read, m.write
	if rwOK {
		for _, c := range []struct {
			does  bool
			sizes *[]SizeShare
			at    *yaml.Node
			op    string
		}{
			{p.RW.Reads(), &p.ReadSizes, m.readN, "read"},
			{p.RW.Writes(), &p.WriteSizes, m.writeN, "write"},
		} {
			switch {
			case c.does && c.at == nil:
				d.errAt(p.Pos, "bs of %s gives sizes per op but none for %ss, which rw: %s does", ctx, c.op, p.RW)
			case !c.does && m.perOp && c.at != nil:
				d.errf(c.at, "bs of %s gives %s sizes, but rw: %s does no %ss", ctx, c.op, p.RW, c.op)
			case !c.does:
				*c.sizes = nil
			}
		}
	}
	for _, s := range append(slices.Clone(p.ReadSizes), p.WriteSizes...) {
		p.BS = max(p.BS, s.Size)
	}
}

// distValue parses offsets: written as a mapping with one key: {zipf:
// 1.2}, {pareto: 0.9}, {normal: 10%} or {hot: [{range: 10%, share: 90%}]}.
func (d *decoder) distValue(f *field, what string) bool {
	v := f.val
	if len(v.Content) != 2 {
		d.errf(v, "%s takes one distribution, like {zipf: 1.2}, {pareto: 0.9}, {normal: 10%%} or {hot: [{range: 10%%, share: 90%%}]}", what)
		return false
	}
	k, val := d.deref(v.Content[0]), d.deref(v.Content[1])
	kind := DistKind(k.Value)
	dist := &Distribution{Kind: kind}
	f.dist = dist
	if kind == Hot {
		return d.hotBands(dist, val, what)
	}
	if !slices.Contains(distKinds(), k.Value) || kind == Uniform {
		d.errf(k, "unknown distribution %q in %s%s", k.Value, what, didYouMean(k.Value, distKinds(), distSynonyms(), "use one of"))
		return false
	}
	if val.Kind != yaml.ScalarNode || isNull(val) {
		d.errf(val, "%s in %s must be a number, got %s", kind, what, describe(val))
		return false
	}
	s, ok := d.text(val, what)
	if !ok {
		return false
	}
	return d.distParam(dist, val, s, what)
}

// distSynonyms maps fio's and vdbench's names to ours.
func distSynonyms() map[string]string {
	return map[string]string{"random": "uniform", "gauss": "normal", "gaussian": "normal",
		"zoned": "hot", "hotband": "hot", "hotbands": "hot", "bands": "hot", "zipfian": "zipf"}
}

// distParam checks a distribution's parameter against its range.
func (d *decoder) distParam(dist *Distribution, v *yaml.Node, s, what string) bool {
	var err error
	var f float64
	switch dist.Kind {
	case Normal:
		f, err = ParsePercent(s)
		if err == nil && f == 0 {
			d.errf(v, "normal in %s: the standard deviation must be above 0%% of the range", what)
			return false
		}
	default:
		f, err = parseCount(s)
	}
	switch {
	case err != nil:
		d.errf(v, "%s in %s: %v", dist.Kind, what, err)
		return false
	case dist.Kind == Zipf && (f <= 0 || f > 10):
		d.errf(v, "zipf in %s: θ must be above 0 and at most 10 (1.2 is a typical hot set), got %s", what, s)
		return false
	case dist.Kind == Pareto && (f <= 0 || f >= 1):
		d.errf(v, "pareto in %s: h must lie strictly between 0 and 1 (0.9 sends 90%% of the I/O to 10%% of the range), got %s", what, s)
		return false
	}
	dist.Param = f
	return true
}

// hotBands parses hot: [{range: 10%, share: 90%}, ...].
func (d *decoder) hotBands(dist *Distribution, v *yaml.Node, what string) bool {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.errf(v, "hot in %s must be a list of bands like [{range: 10%%, share: 90%%}], got %s", what, describe(v))
		return false
	}
	ok := true
	var rng, share float64
	for i, el := range v.Content {
		el = d.deref(el)
		ctx := "hot band #" + strconv.Itoa(i+1) + " of " + what
		fs := d.object(el, objHotBand, ctx)
		if fs == nil {
			ok = false
			continue
		}
		rf, rOK := fs.okf("range")
		sf, sOK := fs.okf("share")
		if !rOK || !sOK {
			ok = false
			continue
		}
		if rf.f == 0 {
			d.errf(rf.val, "range in %s must be above 0%%", ctx)
			ok = false
		}
		rng += rf.f
		share += sf.f
		dist.Bands = append(dist.Bands, HotBand{RangePct: rf.f, SharePct: sf.f})
	}
	switch {
	case !ok:
	case rng > 100:
		d.errf(v, "the hot bands in %s cover %g%% of the range; at most 100%%", what, rng)
		ok = false
	case share > 100:
		d.errf(v, "the hot bands in %s take %g%% of the I/O; at most 100%%", what, share)
		ok = false
	case rng == 100 && share != 100:
		d.errf(v, "the hot bands in %s cover the whole range but take %g%% of the I/O; the shares must add up to 100%%", what, share)
		ok = false
	}
	return ok
}

// MaxVerifiedCompress bounds compress: in verified phases: every 512-byte
// sector keeps a 40-byte stamp that does not compress, so no sector can
// shrink much below a tenth.
const MaxVerifiedCompress = 4

// phaseReduction sets compress: and dedupe: from the phase or, for phases
// that write, from defaults.
func (d *decoder) phaseReduction(p *Phase, own, defaults fields, rwOK bool, ctx string) {
	pick := func(key string) (*field, bool) {
		f, ok := own.okf(key)
		switch {
		case ok && rwOK && !p.RW.Writes():
			d.errf(f.key, "%s in %s only applies to phases that write, not rw: %s", key, ctx, p.RW)
			return nil, false
		case !ok && own[key] == nil && (!rwOK || p.RW.Writes()):
			f, ok = defaults.okf(key)
		}
		return f, ok
	}
	if f, ok := pick("compress"); ok {
		switch {
		case f.f < 1 || f.f > 100:
			d.errf(f.val, "compress in %s must be a ratio from 1 (incompressible) to 100, like 2.0, got %s", ctx, f.s)
		case p.Verify && f.f > MaxVerifiedCompress:
			d.errf(f.val, "compress in %s is at most %d with verify: true (each 512-byte sector keeps a 40-byte stamp), got %s", ctx, MaxVerifiedCompress, f.s)
		case f.f > 1:
			p.Compress = f.f
		}
	}
	if f, ok := pick("dedupe"); ok && f.f > 0 {
		if p.Verify {
			d.errf(f.key, "dedupe in %s cannot be combined with verify: true: every verified sector carries its own offset and generation, so no two blocks are alike", ctx)
			return
		}
		p.DedupePct = int(f.f)
	}
}

// phaseArrival sets rate_process: and think:, which need open and closed
// loop respectively. A phase's own key must fit its pacing; one from
// defaults applies only where it fits.
func (d *decoder) phaseArrival(p *Phase, own, defaults fields, ctx string) {
	open := p.RateIOPS > 0
	if f, ok := own.okf("rate_process"); ok {
		if !open && f.s == RatePoisson {
			d.errf(f.key, "rate_process in %s needs rate_iops or rate: poisson spaces an open-loop phase's I/Os", ctx)
		}
		p.Poisson = open && f.s == RatePoisson
	} else if f, ok := defaults.okf("rate_process"); ok && own["rate_process"] == nil {
		p.Poisson = open && f.s == RatePoisson
	}
	if f, ok := own.okf("think"); ok {
		if open && f.n > 0 {
			d.errf(f.key, "think in %s applies to closed loop; with rate_iops or rate the pace is set by the rate", ctx)
		}
		p.Think = time.Duration(f.n)
	} else if f, ok := defaults.okf("think"); ok && own["think"] == nil && !open {
		p.Think = time.Duration(f.n)
	}
	if open {
		p.Think = 0
	}
}
