package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Sub says what a phase expanded from a sweep: or curve: stands for. Each
// sub-phase is a phase of its own in the run and the results.
type Sub struct {
	// Parent is the phase as written.
	Parent string `json:"parent"`
	// Key is the swept key (qd, rate_iops, bs), or "curve" for a point
	// of a latency-vs-load curve.
	Key string `json:"key"`
	// Value is the swept value; for a curve, the share (0..1) of the
	// maximum, 0 for the run that finds the maximum.
	Value float64 `json:"value"`
	// Label is the value as the name shows it: 8, 4KiB, max, 30%.
	Label string `json:"label"`
}

// SubName names a sub-phase: NAME[qd=8], NAME[max], NAME[load=30%].
func SubName(parent string, s Sub) string {
	switch {
	case s.Key != "curve":
		return fmt.Sprintf("%s[%s=%s]", parent, s.Key, s.Label)
	case s.Value == 0:
		return parent + "[max]"
	}
	return fmt.Sprintf("%s[load=%s]", parent, s.Label)
}

// scalarList parses a list of scalars of f's element kind.
func (d *decoder) scalarList(f *field, ctx string) bool {
	v := f.val
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.errf(v, "%s%s must be %s, got %s", f.def.name, where(ctx), expected(f.def), describe(v))
		return false
	}
	el := f.def
	el.kind = f.def.elem
	ok := true
	for _, n := range v.Content {
		ef := d.value(el, f.key, n, ctx)
		if !ef.ok {
			ok = false
			continue
		}
		f.items = append(f.items, ef)
	}
	return ok
}

// expand turns a phase with sweep: or curve: into its sub-phases, each with
// the phase's criteria (a curve's stay on the phase as written, which is
// where iops_at_p99 reads them).
func (d *decoder) expand(p Phase, crit []Criterion, own fields, ctx string) ([]Phase, []Criterion) {
	sw, curve := own["sweep"], own["curve"]
	switch {
	case sw == nil && curve == nil:
		d.checkCurveOnly(crit, ctx)
		return []Phase{p}, crit
	case p.Steady != nil && (sw != nil || curve != nil):
		at := sw
		if at == nil {
			at = curve
		}
		d.errf(at.key, "%s sets until_steady; a swept phase or a curve runs for set times, so bring the target to steady state in a phase before it", ctx)
		return []Phase{p}, crit
	case sw != nil && curve != nil:
		d.errf(curve.key, "%s sets both sweep and curve; set one", ctx)
		return []Phase{p}, crit
	case len(p.Drills) > 0:
		at := sw
		if at == nil {
			at = curve
		}
		d.errf(at.key, "%s has drills; a swept phase or a curve runs several times, so drills go in a phase of their own", ctx)
		return []Phase{p}, crit
	}
	if sw != nil {
		d.checkCurveOnly(crit, ctx)
		return d.sweep(p, crit, sw, ctx)
	}
	return d.curve(p, crit, curve, ctx)
}

// checkCurveOnly rejects iops_at_p99 outside a curve phase's expect.
func (d *decoder) checkCurveOnly(crit []Criterion, ctx string) {
	for _, c := range crit {
		if c.Metric == "iops_at_p99" {
			d.errAt(c.Pos, "iops_at_p99 in expect of %s reads a latency-vs-load curve; add curve: {points: [...]} to the phase", ctx)
		}
	}
}

// sweep expands sweep: {KEY: [values]} into one phase per value.
func (d *decoder) sweep(p Phase, crit []Criterion, f *field, ctx string) ([]Phase, []Criterion) {
	if !f.ok {
		return []Phase{p}, crit
	}
	fs := d.object(f.val, objSweep, "sweep of "+ctx)
	if len(fs) != 1 {
		if fs != nil {
			d.errf(f.val, "sweep of %s takes one key, qd, rate_iops or bs", ctx)
		}
		return []Phase{p}, crit
	}
	var key string
	var vf *field
	for k, v := range fs {
		key, vf = k, v
	}
	if !vf.ok {
		return []Phase{p}, crit
	}
	switch {
	case key == "bs" && p.Mixed():
		d.errf(vf.key, "sweep over bs in %s replaces bs; give the phase one bs, not a mix", ctx)
	case key == "rate_iops" && p.Think > 0:
		d.errf(vf.key, "sweep over rate_iops in %s makes it open loop, which takes no think", ctx)
	}
	var out []Phase
	var outCrit []Criterion
	for _, it := range vf.items {
		q := p
		sub := Sub{Parent: p.Name, Key: key}
		switch key {
		case "qd":
			q.QD, sub.Value, sub.Label = int(it.n), float64(it.n), strconv.FormatInt(it.n, 10)
		case "rate_iops":
			if it.f <= 0 {
				d.errf(it.val, "rate_iops in sweep of %s must be above 0", ctx)
			}
			q.RateIOPS, sub.Value, sub.Label = it.f, it.f, strconv.FormatFloat(it.f, 'g', -1, 64)
		case "bs":
			q.BS, sub.Value, sub.Label = it.n, float64(it.n), FormatSize(it.n)
		}
		q.Sub = &sub
		q.Name = SubName(p.Name, sub)
		if slices.ContainsFunc(out, func(o Phase) bool { return o.Name == q.Name }) {
			d.errf(it.val, "%s appears twice in sweep of %s", sub.Label, ctx)
			continue
		}
		out = append(out, q)
		for _, c := range crit {
			c.Phase = q.Name
			outCrit = append(outCrit, c)
		}
	}
	return out, outCrit
}

// curve expands curve: {points: [...], duration: D} into the run that
// finds the maximum and one open-loop run per point; the runner sets each
// point's rate from the maximum.
func (d *decoder) curve(p Phase, crit []Criterion, f *field, ctx string) ([]Phase, []Criterion) {
	if !f.ok {
		return []Phase{p}, crit
	}
	cctx := "curve of " + ctx
	fs := d.object(f.val, objCurve, cctx)
	pf, ok := fs.okf("points")
	if !ok {
		return []Phase{p}, crit
	}
	if p.RateIOPS > 0 {
		d.errf(f.key, "%s has rate_iops or rate; a curve first runs the phase uncapped to find its maximum, then sets the rates itself", ctx)
	}
	for _, c := range crit {
		if c.Metric != "iops_at_p99" {
			d.errAt(c.Pos, "%s in expect of %s: a curve's expect takes iops_at_p99 (each point's figures are in the results)", c.Metric, ctx)
		}
	}
	maxRun := p
	maxRun.Sub = &Sub{Parent: p.Name, Key: "curve", Label: "max"}
	maxRun.Name = SubName(p.Name, *maxRun.Sub)
	out := []Phase{maxRun}
	for _, it := range pf.items {
		if it.f == 0 {
			d.errf(it.val, "points in %s must be above 0%%", cctx)
			continue
		}
		q := p
		q.Think = 0
		if df, ok := fs.okf("duration"); ok {
			q.Duration = time.Duration(df.n)
		}
		q.Sub = &Sub{Parent: p.Name, Key: "curve", Value: it.f / 100, Label: strconv.FormatFloat(it.f, 'g', -1, 64) + "%"}
		q.Name = SubName(p.Name, *q.Sub)
		if slices.ContainsFunc(out, func(o Phase) bool { return o.Name == q.Name }) {
			d.errf(it.val, "%s appears twice in points of %s", q.Sub.Label, cctx)
			continue
		}
		out = append(out, q)
	}
	return out, crit
}

// iopsAtP99 parses iops_at_p99: {latency: 1ms, min: 50000}: at least min
// IOPS at a point of the curve whose p99 is at most latency.
func (d *decoder) iopsAtP99(v *yaml.Node, what string) (Criterion, bool) {
	c := Criterion{Metric: "iops_at_p99", Cmp: GE}
	if v.Kind != yaml.MappingNode {
		d.errf(v, "%s must be a mapping like {latency: 1ms, min: 50000}, got %s", what, describe(v))
		return c, false
	}
	var lat, minIOPS *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := d.deref(v.Content[i]), d.deref(v.Content[i+1])
		switch k.Value {
		case "latency":
			lat = val
		case "min":
			minIOPS = val
		default:
			d.errf(k, "unknown key %q in %s%s", k.Value, what, didYouMean(k.Value, []string{"latency", "min"}, nil, "it takes"))
			return c, false
		}
	}
	if lat == nil || minIOPS == nil {
		d.errf(v, "%s needs latency (the p99 bound, 1ms) and min (the IOPS required at it)", what)
		return c, false
	}
	ls, ok1 := d.text(lat, what)
	ms, ok2 := d.text(minIOPS, what)
	if !ok1 || !ok2 {
		return c, false
	}
	l, err := ParseDuration(ls)
	if err != nil || l <= 0 {
		d.errf(lat, "latency in %s must be a duration above 0 like 1ms, got %s", what, describe(lat))
		return c, false
	}
	m, err := parseCount(ms)
	if err != nil {
		d.errf(minIOPS, "min in %s: %v", what, err)
		return c, false
	}
	c.Latency, c.Threshold = l, m
	c.Text = fmt.Sprintf("iops_at_p99 >= %s at p99 <= %s", ms, formatDuration(l))
	return c, true
}

// groupNode writes the sub-phases at the start of ps that share the first
// one's parent back as the one phase with sweep: or curve: they came from.
func groupNode(ps []Phase, byPhase map[string][]Criterion) *yaml.Node {
	first := ps[0]
	var group []Phase
	for _, q := range ps {
		if q.Sub == nil || q.Sub.Parent != first.Sub.Parent {
			break
		}
		group = append(group, q)
	}
	parent := first
	parent.Name, parent.Sub = first.Sub.Parent, nil
	cs := byPhase[first.Name] // a sweep's rules are on each sub-phase
	if first.Sub.Key == "curve" {
		cs = byPhase[parent.Name] // a curve's on the phase as written
	}
	pm := phaseNode(parent, cs)
	spec := mapping()
	spec.Style = yaml.FlowStyle
	vals := seq()
	vals.Style = yaml.FlowStyle
	if first.Sub.Key == "curve" {
		for _, q := range group[1:] {
			vals.Content = append(vals.Content, str(q.Sub.Label))
		}
		add(spec, "points", vals)
		if len(group) > 1 && group[1].Duration != first.Duration {
			add(spec, "duration", dur(group[1].Duration))
		}
		add(pm, "curve", spec)
		return pm
	}
	for _, q := range group {
		vals.Content = append(vals.Content, str(q.Sub.Label))
	}
	add(spec, first.Sub.Key, vals)
	add(pm, "sweep", spec)
	return pm
}
