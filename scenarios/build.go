package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Defaults the loader fills in.
const (
	defaultInterval       = time.Second
	defaultStallThreshold = 500 * time.Millisecond
	defaultDrillTimeout   = 60 * time.Second
	// settleUnset marks a chained drill whose settle time is the default,
	// known once the whole scenario (its stall_threshold) is read.
	settleUnset       = -1
	defaultQD         = 1
	defaultMixReadPct = 50
)

// targetInfo is a decoded target plus what phases need to check it.
type targetInfo struct {
	t Target
	// allowKnown is false when allow_write was written wrong (and
	// reported), so the write guard stays quiet rather than pile on.
	allowKnown bool
	criteria   []Criterion
}

// scenario assembles and validates a whole scenario from the root mapping.
func (d *decoder) scenario(root *yaml.Node) *Scenario {
	const ctx = "the scenario"
	top := d.object(root, objScenario, ctx)
	if top == nil {
		return nil
	}
	s := &Scenario{Source: d.file, Interval: defaultInterval, StallThreshold: defaultStallThreshold}
	if f, ok := top.okf("name"); ok {
		s.Name = f.s
	}
	if f, ok := top.okf("description"); ok {
		s.Description = f.s
	}
	if f, ok := top.okf("seed"); ok {
		s.Seed = f.u
	}
	if f, ok := top.okf("interval"); ok {
		s.Interval = time.Duration(f.n)
	}
	if f, ok := top.okf("stall_threshold"); ok {
		s.StallThreshold = time.Duration(f.n)
	}

	s.Hosts = d.hosts(top["hosts"])
	if len(s.Hosts) > 0 {
		s.OnHostLoss = Continue
	}
	if f, ok := top.okf("on_host_loss"); ok {
		s.OnHostLoss = OnError(f.s)
	}
	targets := d.targets(top["targets"], root)
	for _, ti := range targets {
		s.Targets = append(s.Targets, ti.t)
	}

	var defaults fields
	if f, ok := top.okf("defaults"); ok && !isNull(f.val) {
		defaults = d.object(f.val, objDefaults, "defaults")
		if f, ok := defaults.okf("expect"); ok {
			d.checkDrillOnly(f.crit, "expect of defaults")
			d.checkHostOnly(f.crit, "expect of defaults")
		}
	}
	var phaseCrit []Criterion
	d.interval = s.Interval
	s.Phases, phaseCrit = d.phases(top["phases"], root, defaults, targets)

	anyVerify := slices.ContainsFunc(s.Phases, func(p Phase) bool { return p.Verify })
	if f, ok := top.okf("criteria"); ok {
		d.checkDrillOnly(f.crit, "criteria")
		d.checkVerify(f.crit, "criteria", anyVerify, "a phase with verify: true")
		s.Criteria = append(s.Criteria, f.crit...)
	}
	for _, ti := range targets {
		for _, c := range ti.criteria {
			c.Target = ti.t.Name
			s.Criteria = append(s.Criteria, c)
		}
	}
	s.Criteria = append(s.Criteria, phaseCrit...)
	// A chained drill waits by default for I/O to have flowed longer than
	// a stall takes to be noticed, and a second more.
	for pi := range s.Phases {
		for di := range s.Phases[pi].Drills {
			if dr := &s.Phases[pi].Drills[di]; dr.Settle == settleUnset {
				dr.Settle = s.StallThreshold + time.Second
			}
		}
	}
	return s
}

// targets decodes the targets list and checks names are unique.
func (d *decoder) targets(f *field, root *yaml.Node) []targetInfo {
	if f == nil || (f.ok && len(f.val.Content) == 0) {
		at := root
		if f != nil {
			at = f.key
		}
		d.errf(at, "the scenario needs at least one target (targets: - name: ..., path: ...)")
		return nil
	}
	if !f.ok {
		return nil
	}
	var out []targetInfo
	first := map[string]int{}
	for i, el := range f.val.Content {
		el = d.deref(el)
		ctx := d.label(el, "target", i)
		fs := d.object(el, objTarget, ctx)
		if fs == nil {
			continue
		}
		ti := targetInfo{t: Target{Pos: d.pos(el)}, allowKnown: true}
		t := &ti.t
		if nf, ok := fs.okf("name"); ok {
			t.Name = nf.s
			if line, dup := first[t.Name]; dup {
				d.errf(nf.val, "duplicate target name %q (first at line %d)", t.Name, line)
			} else {
				first[t.Name] = nf.val.Line
			}
		}
		if pf, ok := fs.okf("path"); ok {
			t.Path = pf.s
			if strings.TrimSpace(t.Path) == "" {
				d.errf(pf.val, "path in %s is empty", ctx)
			} else if i := strings.IndexFunc(t.Path, unicode.IsControl); i >= 0 {
				// A NUL cannot reach the kernel and a newline is surely a
				// quoting accident; either would create or open the wrong file.
				d.errf(pf.val, "path in %s contains the control character %q at byte %d; a device or file path has none", ctx, t.Path[i:i+1], i+1)
			}
		}
		if sf, ok := fs.okf("size"); ok {
			t.Size = sf.n
		}
		if hf, ok := fs.okf("host"); ok {
			d.hostRef(hf, ctx)
			if hf.s != LocalHost {
				t.Host = hf.s
			}
		}
		if af, ok := fs.okf("allow_write"); ok {
			t.AllowWrite = af.b
		} else if af != nil {
			ti.allowKnown = false
		}
		if rf, ok := fs.okf("allow_ram_backed"); ok {
			t.AllowRAMBacked = rf.b
		}
		of, okOff := fs.okf("offset")
		if okOff {
			t.Offset = of.n
		}
		lf, okLen := fs.okf("length")
		if okLen {
			t.Length = lf.n
		}
		if t.Size > 0 && okOff && t.Offset >= t.Size {
			d.errf(of.val, "offset in %s (%s) must be less than its size (%s)", ctx, FormatSize(t.Offset), FormatSize(t.Size))
		} else if t.Size > 0 && okLen && t.Offset+t.Length > t.Size {
			d.errf(lf.val, "offset + length in %s (%s) must not exceed its size (%s)", ctx, FormatSize(t.Offset+t.Length), FormatSize(t.Size))
		}
		if ef, ok := fs.okf("expect"); ok && !isNull(ef.val) {
			t.Expect = d.targetExpect(ef.val, "expect of "+ctx)
		}
		if pf, ok := fs.okf("probe"); ok && !isNull(pf.val) {
			t.Probe = d.targetProbe(pf.val, "probe of "+ctx)
		}
		if cf, ok := fs.okf("criteria"); ok {
			d.checkDrillOnly(cf.crit, "criteria of "+ctx)
			ti.criteria = cf.crit
		}
		out = append(out, ti)
	}
	return out
}

// targetExpect decodes a target's host expectations; nil if it sets none.
func (d *decoder) targetExpect(n *yaml.Node, ctx string) *TargetExpect {
	fs := d.object(n, objTargetExpect, ctx)
	if fs == nil {
		return nil
	}
	var e TargetExpect
	if f, ok := fs.okf("paths"); ok {
		e.Paths = int(f.n)
	}
	if f, ok := fs.okf("portals"); ok {
		e.Portals = int(f.n)
	}
	if f, ok := fs.okf("chap"); ok {
		e.CHAP = &f.b
	}
	if f, ok := fs.okf("recovery_tmo"); ok {
		e.RecoveryTmoMax = time.Duration(f.n)
	}
	if e == (TargetExpect{}) {
		return nil
	}
	return &e
}

// phases decodes the phases list, merging in defaults and checking each
// phase against the targets.
func (d *decoder) phases(f *field, root *yaml.Node, defaults fields, targets []targetInfo) ([]Phase, []Criterion) {
	if f == nil || (f.ok && len(f.val.Content) == 0) {
		at := root
		if f != nil {
			at = f.key
		}
		d.errf(at, "the scenario needs at least one phase (phases: - name: ..., rw: ...)")
		return nil, nil
	}
	if !f.ok {
		return nil, nil
	}
	var out []Phase
	var crit []Criterion
	first := map[string]int{}
	for i, el := range f.val.Content {
		el = d.deref(el)
		ctx := d.label(el, "phase", i)
		fs := d.object(el, objPhase, ctx)
		if fs == nil {
			continue
		}
		p, pc := d.phase(el, fs, defaults, targets, ctx)
		if nf, ok := fs.okf("name"); ok {
			if line, dup := first[p.Name]; dup {
				d.errf(nf.val, "duplicate phase name %q (first at line %d)", p.Name, line)
			} else {
				first[p.Name] = nf.val.Line
			}
		}
		subs, sc := d.expand(p, pc, fs, ctx)
		if f, ok := fs.okf("precondition"); ok && f.b {
			d.checkPrecondition(f, p, subs, targets, ctx)
			out = append(out, precondition(p))
		}
		out = append(out, subs...)
		crit = append(crit, sc...)
	}
	return out, crit
}

// phase builds one phase from its own keys and, for keys it leaves out,
// from defaults. It returns the phase's criteria apart, for the caller to
// flatten into Scenario.Criteria.
func (d *decoder) phase(el *yaml.Node, own, defaults fields, targets []targetInfo, ctx string) (Phase, []Criterion) {
	p := Phase{Pos: d.pos(el), QD: defaultQD, OnError: Continue}
	// get returns the phase's field for key, else the one from defaults.
	// present is true if either wrote the key; ok if its value is good.
	get := func(key string) (f *field, ok, present bool) {
		f = own[key]
		if f == nil {
			ownsRate := own["rate"] != nil || own["rate_iops"] != nil
			if (key == "rate" || key == "rate_iops") && ownsRate {
				return nil, false, false // the phase chose its own pacing
			}
			f = defaults[key]
		}
		return f, f != nil && f.ok, f != nil
	}

	if f, ok, _ := get("name"); ok {
		p.Name = f.s
	}
	rwF, rwOK, rwSet := get("rw")
	if rwOK {
		p.RW = RW(rwF.s)
	} else if !rwSet {
		d.errf(el, "%s needs rw (one of %s)", ctx, strings.Join(rwNames(), ", "))
	}
	bsF, bsOK, bsSet := get("bs")
	switch {
	case bsOK && bsF.mix != nil:
		d.applyBS(&p, bsF.mix, rwOK, ctx)
	case bsOK:
		p.BS = bsF.n
	case !bsSet:
		d.errf(el, "%s needs bs (the block size, e.g. 4k or 1MiB)", ctx)
	}
	if f, ok, _ := get("qd"); ok {
		p.QD = int(f.n)
	}
	durF, durOK, durSet := get("duration")
	if durOK {
		p.Duration = time.Duration(durF.n)
	}
	bytesF, bytesOK, bytesSet := get("bytes")
	if bytesOK {
		p.Bytes = bytesF.n
	}
	if (!durSet || durOK) && (!bytesSet || bytesOK) && p.Duration == 0 && p.Bytes == 0 && own["until_steady"] == nil {
		d.errf(el, "%s needs duration or bytes", ctx)
	}
	if f, ok, _ := get("ramp"); ok {
		p.Ramp = time.Duration(f.n)
		if durOK && p.Duration > 0 && p.Ramp >= p.Duration {
			d.errf(f.val, "ramp in %s (%s) must be shorter than its duration (%s)", ctx, formatDuration(p.Ramp), formatDuration(p.Duration))
		}
	}
	var rateBytes float64
	var rateF *field
	if own["rate"] != nil && own["rate_iops"] != nil {
		d.errf(own["rate"].key, "%s sets both rate and rate_iops; set one", ctx)
	} else {
		if f, ok, _ := get("rate_iops"); ok {
			p.RateIOPS = f.f
			if !rateOK(p.RateIOPS) {
				d.errf(f.val, "rate_iops%s must be 0 (no pacing) or from %s to %s I/Os per second, got %s",
					where(ctx), rateRange()[0], rateRange()[1], describe(f.val))
			}
		}
		if f, ok, _ := get("rate"); ok && bsOK && p.BS > 0 {
			rateBytes, rateF = f.f, f
		}
	}
	if f, ok, _ := get("seed"); ok {
		p.Seed = f.u
	}
	if f, ok, _ := get("on_error"); ok {
		p.OnError = OnError(f.s)
	}
	if f, ok, _ := get("verify"); ok {
		p.Verify = f.b
	}
	p.Engine = EngineThreads
	if f, ok, _ := get("engine"); ok {
		p.Engine = f.s
	}

	mix := p.RW == RandRW || p.RW == ReadWrite
	switch f, ok := own.okf("read_pct"); {
	case ok && rwOK && !mix:
		d.errf(f.key, "read_pct in %s only applies to randrw and readwrite, not %s", ctx, p.RW)
	case ok:
		p.ReadPct = int(f.f)
	case mix:
		// read_pct in defaults applies to mixes only.
		p.ReadPct = defaultMixReadPct
		if f, ok := defaults.okf("read_pct"); ok {
			p.ReadPct = int(f.f)
		}
	case p.RW.Reads():
		p.ReadPct = 100
	}

	if rateBytes > 0 {
		// After read_pct: a mix's mean size depends on it.
		mean := p.MeanSize()
		p.RateIOPS = rateBytes / mean
		if !rateOK(p.RateIOPS) {
			d.errf(rateF.val, "rate%s must be 0 (no pacing) or from %s/s to %s/s at bs %s (%s to %s I/Os per second), got %s",
				where(ctx), formatRate(MinRateIOPS*mean), formatRate(MaxRateIOPS*mean),
				FormatSize(int64(mean)), rateRange()[0], rateRange()[1], describe(rateF.val))
		}
	}
	d.phaseOffsets(&p, own, defaults, rwOK, ctx)
	d.phaseReduction(&p, own, defaults, rwOK, ctx)
	d.phaseArrival(&p, own, defaults, ctx)
	d.steady(&p, own, d.interval, durOK, ctx)

	p.Targets = d.phaseTargets(own, defaults, targets, ctx)
	if rwOK && p.RW.Writes() {
		for _, name := range p.Targets {
			i := slices.IndexFunc(targets, func(ti targetInfo) bool { return ti.t.Name == name })
			if i >= 0 && targets[i].allowKnown && !targets[i].t.AllowWrite {
				d.errf(rwF.val, "%s writes (rw: %s) to target %q, which does not allow writes; "+
					"add allow_write: true to target %q if its data may be destroyed", ctx, p.RW, name, name)
			}
		}
	}

	crit := d.phaseCriteria(&p, own, defaults, rwOK, ctx)
	if f, ok := own.okf("drills"); ok && !isNull(f.val) {
		p.Drills = d.drills(f.val, &p, durOK, targets, ctx)
	}
	return p, crit
}

// phaseOffsets sets the phase's offset distribution: its own (random
// patterns only), else the one in defaults where it applies.
func (d *decoder) phaseOffsets(p *Phase, own, defaults fields, rwOK bool, ctx string) {
	f, ok := own.okf("offsets")
	switch {
	case ok && rwOK && !p.RW.Random():
		d.errf(f.key, "offsets in %s only applies to random patterns (randread, randwrite, randrw), not %s", ctx, p.RW)
		return
	case !ok && own["offsets"] == nil && p.RW.Random():
		f, ok = defaults.okf("offsets")
	}
	if ok && f.dist.Kind != Uniform {
		p.Offsets = f.dist
	}
}

// phaseTargets resolves the phase's targets: those it names, or all.
func (d *decoder) phaseTargets(own, defaults fields, targets []targetInfo, ctx string) []string {
	f := own["targets"]
	if f == nil {
		f = defaults["targets"]
	}
	var all []string
	for _, ti := range targets {
		all = append(all, ti.t.Name)
	}
	if f == nil {
		return all
	}
	if !f.ok {
		return nil
	}
	if len(f.names) == 0 {
		d.errf(f.val, "targets in %s is empty; name at least one target, or leave it out for all", ctx)
		return nil
	}
	var out []string
	for i, name := range f.names {
		switch {
		case !slices.Contains(all, name):
			if len(all) > 0 {
				d.errAt(f.pos[i], "%s names unknown target %q%s", ctx, name, didYouMean(name, all, nil, "targets are"))
			}
		case slices.Contains(out, name):
			d.errAt(f.pos[i], "%s names target %q twice", ctx, name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// phaseCriteria returns the phase's expect: block merged metric by metric
// with the one in defaults, checked against what the phase does.
func (d *decoder) phaseCriteria(p *Phase, own, defaults fields, rwOK bool, ctx string) []Criterion {
	var out []Criterion
	ectx := "expect of " + ctx
	if f, ok := own.okf("expect"); ok {
		d.checkDrillOnly(f.crit, ectx)
		d.checkHostOnly(f.crit, ectx)
		d.checkVerify(f.crit, ectx, p.Verify, "verify: true in "+ctx)
		if rwOK {
			for _, c := range f.crit {
				if !appliesTo(c.Metric, p.RW) {
					d.errAt(c.Pos, "%s in %s: %s (rw: %s) does no %ss", c.Metric, ectx, ctx, p.RW, opOf(c.Metric))
				}
			}
		}
		out = append(out, f.crit...)
	}
	if f, ok := defaults.okf("expect"); ok && (own["expect"] == nil || own["expect"].ok) {
		// Inherited rules apply where they make sense, so that
		// defaults can hold read and write rules for a mixed scenario.
		for _, c := range f.crit {
			inherit := !slices.ContainsFunc(out, func(o Criterion) bool { return o.Metric == c.Metric }) &&
				!drillOnlyMetric(c.Metric) && !HostMetric(c.Metric) && (!rwOK || appliesTo(c.Metric, p.RW)) &&
				(p.Verify || !NeedsVerify(c.Metric))
			if inherit {
				out = append(out, c)
			}
		}
	}
	for i := range out {
		out[i].Phase = p.Name
	}
	return out
}

// opOf returns "read" or "write" for an op-specific metric, else "".
func opOf(metric string) string {
	switch {
	case strings.HasPrefix(metric, "read_"):
		return "read"
	case strings.HasPrefix(metric, "write_"):
		return "write"
	}
	return ""
}

// appliesTo reports whether a phase with pattern rw can measure metric.
func appliesTo(metric string, rw RW) bool {
	switch opOf(metric) {
	case "read":
		return rw.Reads()
	case "write":
		return rw.Writes()
	}
	return true
}

func (d *decoder) checkDrillOnly(cs []Criterion, ctx string) {
	for _, c := range cs {
		if drillOnlyMetric(c.Metric) {
			d.errAt(c.Pos, "%s in %s only applies to a drill; put it in the drill's expect", c.Metric, ctx)
		}
	}
}

// checkHostOnly rejects preflight metrics where they would be read as
// being about a phase or a drill.
func (d *decoder) checkHostOnly(cs []Criterion, ctx string) {
	for _, c := range cs {
		if HostMetric(c.Metric) {
			d.errAt(c.Pos, "%s in %s is about the host's set-up, not the I/O; put it in the run's or a target's criteria", c.Metric, ctx)
		}
	}
}

// checkDrillMetrics rejects metrics a drill does not measure, so a rule
// that could only ever fail "not measured" is caught before the run.
func (d *decoder) checkDrillMetrics(cs []Criterion, ctx string) {
	for _, c := range cs {
		if !slices.Contains(DrillMetrics(), c.Metric) {
			d.errAt(c.Pos, "%s in %s is not measured per drill; a drill's expect takes %s", c.Metric, ctx, strings.Join(DrillMetrics(), ", "))
		}
	}
}

func (d *decoder) checkVerify(cs []Criterion, ctx string, verify bool, need string) {
	for _, c := range cs {
		if NeedsVerify(c.Metric) && !verify {
			d.errAt(c.Pos, "%s in %s needs %s; without verification nothing counts them", c.Metric, ctx, need)
		}
	}
}

// drills decodes a phase's drills and checks how they refer to each other.
func (d *decoder) drills(n *yaml.Node, p *Phase, durOK bool, targets []targetInfo, pctx string) []Drill {
	var out []Drill
	type ref struct {
		after string
		node  *yaml.Node
	}
	refs := map[string]ref{}
	first := map[string]int{}
	for i, el := range n.Content {
		el = d.deref(el)
		ctx := d.label(el, "drill", i)
		fs := d.object(el, objDrill, ctx)
		if fs == nil {
			continue
		}
		dr := Drill{Pos: d.pos(el), Timeout: defaultDrillTimeout}
		if f, ok := fs.okf("name"); ok {
			dr.Name = f.s
			if line, dup := first[dr.Name]; dup {
				d.errf(f.val, "duplicate drill name %q in %s (first at line %d)", dr.Name, pctx, line)
			} else {
				first[dr.Name] = f.val.Line
			}
		}
		atF, atOK := fs.okf("at")
		if atOK {
			dr.At = time.Duration(atF.n)
			if end := p.Ramp + p.Duration; durOK && p.Duration > 0 && dr.At >= end {
				d.errf(atF.val, "at in %s (%s) must be before the end of %s (%s: ramp %s + duration %s)",
					ctx, formatDuration(dr.At), pctx, formatDuration(end), formatDuration(p.Ramp), formatDuration(p.Duration))
			}
		}
		afterF, afterOK := fs.okf("after")
		if afterOK {
			dr.After = afterF.s
			refs[dr.Name] = ref{dr.After, afterF.val}
		}
		if f, ok := fs.okf("settle"); ok {
			dr.Settle = time.Duration(f.n)
			if !afterOK {
				d.errf(f.key, "settle in %s only applies to a drill with after: (the wait for I/O to flow again after the earlier drill)", ctx)
			}
		} else if afterOK {
			dr.Settle = settleUnset
		}
		if f, ok := fs.okf("manual"); ok {
			dr.Manual = f.b
		}
		// A manual: that failed to parse may have meant true; stay quiet.
		manualBad := fs["manual"] != nil && !fs["manual"].ok
		hasAt, hasAfter := fs["at"] != nil, fs["after"] != nil
		switch {
		case hasAt && hasAfter:
			d.errf(fs["after"].key, "%s sets both at and after; set one", ctx)
		case dr.Manual && (hasAt || hasAfter):
			d.errf(fs["manual"].key, "%s is manual, so it takes no at or after", ctx)
		case !hasAt && !hasAfter && !dr.Manual && !manualBad:
			d.errf(el, "%s needs at (a time into the phase), after (another drill) or manual: true", ctx)
		}
		if f, ok := fs.okf("inject"); ok {
			dr.Inject, dr.InjectSource = f.s, d.deref(f.val).Value
		} else if f == nil && !dr.Manual && !manualBad {
			d.errf(el, "%s needs inject (the shell command that causes the fault)", ctx)
		}
		if f, ok := fs.okf("timeout"); ok {
			dr.Timeout = time.Duration(f.n)
		}
		if f, ok := fs.okf("failure"); ok {
			dr.Failure = f.s
		}
		if f, ok := fs.okf("on"); ok {
			d.hostRef(f, ctx)
			if f.s != LocalHost {
				dr.On = f.s
			}
		}
		if f, ok := fs.okf("recover"); ok && !isNull(f.val) {
			rctx := "recover of " + ctx
			if rf := d.object(f.val, objRecover, rctx); rf != nil {
				r := &Recover{Pos: d.pos(d.deref(f.val))}
				if cf, ok := rf.okf("command"); ok {
					r.Command, r.CommandSource = cf.s, d.deref(cf.val).Value
				}
				if af, ok := rf.okf("at"); ok {
					r.At = time.Duration(af.n)
				}
				dr.Recover = r
			}
		}
		if f, ok := fs.okf("probe_login"); ok && f.b {
			dr.ProbeLogin = true
			if !phaseHasProbe(p, targets) {
				d.errf(f.key, "probe_login in %s needs a target of %s with a probe: block (its portals, initiator and CHAP are used)", ctx, pctx)
			}
		}
		if f, ok := fs.okf("expect"); ok {
			ectx := "expect of " + ctx
			d.checkDrillMetrics(f.crit, ectx)
			for _, c := range f.crit {
				if c.Metric == "login_back" && !dr.ProbeLogin {
					d.errAt(c.Pos, "login_back in %s is measured by the login watch: add probe_login: true to %s", ectx, ctx)
				}
			}
			d.checkVerify(f.crit, ectx, p.Verify, "verify: true in "+pctx)
			for _, c := range f.crit {
				c.Phase, c.Drill = p.Name, dr.Name
				dr.Expect = append(dr.Expect, c)
			}
		}
		out = append(out, dr)
	}
	// after: must name another drill of the phase, without going round in
	// a circle, or the drill would never be injected.
	for _, dr := range out {
		r, ok := refs[dr.Name]
		if !ok {
			continue
		}
		switch {
		case r.after == dr.Name:
			d.errf(r.node, "drill %q cannot follow itself", dr.Name)
		case first[r.after] == 0:
			var names []string
			for _, o := range out {
				if o.Name != dr.Name {
					names = append(names, o.Name)
				}
			}
			d.errf(r.node, "drill %q follows unknown drill %q%s", dr.Name, r.after, didYouMean(r.after, names, nil, "drills of "+pctx+" are"))
		default:
			chain := []string{dr.Name}
			for cur := r.after; ; {
				if cur == dr.Name {
					// Report the cycle once, at its first drill.
					if slices.Min(chain) == dr.Name {
						d.errf(r.node, "drills follow each other in a circle: %s -> %s", strings.Join(chain, " -> "), dr.Name)
					}
					break
				}
				next, ok := refs[cur]
				if !ok || slices.Contains(chain, cur) {
					break
				}
				chain = append(chain, cur)
				cur = next.after
			}
		}
	}
	return out
}

// phaseHasProbe reports whether one of the phase's targets has a probe: block.
func phaseHasProbe(p *Phase, targets []targetInfo) bool {
	for _, ti := range targets {
		if ti.t.Probe != nil && slices.Contains(p.Targets, ti.t.Name) {
			return true
		}
	}
	return false
}

// CheckBlockSize checks the phase's block size against a device's logical
// block size, which the loader cannot know: O_DIRECT I/O must be a whole
// number of logical blocks, so 512-byte I/O fails on a 4Kn LUN.
func (p Phase) CheckBlockSize(logical int64) error {
	if logical <= 0 {
		return fmt.Errorf("phase %q: invalid logical block size %d", p.Name, logical)
	}
	for _, bs := range p.AllSizes() {
		if bs%logical != 0 {
			return fmt.Errorf("phase %q: bs %s is not a multiple of the device's logical block size %s; use bs: %s or a multiple",
				p.Name, FormatSize(bs), FormatSize(logical), FormatSize(logical))
		}
	}
	return nil
}

// The range of open-loop pacing per target. Below MinRateIOPS a phase
// would wait hours between I/Os; above MaxRateIOPS no LUN keeps up and the
// pacer would only count missed slots.
const (
	MinRateIOPS = 0.1
	MaxRateIOPS = 1e7
)

// rateRange is the pacing range as messages write it: "0.1", "10000000".
func rateRange() [2]string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return [2]string{f(MinRateIOPS), f(MaxRateIOPS)}
}

// rateOK reports whether r is 0 (no pacing) or within the pacing range.
func rateOK(r float64) bool {
	return r == 0 || (r >= MinRateIOPS && r <= MaxRateIOPS)
}

// formatRate writes a throughput in bytes per second with a binary unit,
// to four significant digits: 409.6 -> "409.6B", 4.096e10 -> "38.15GiB".
func formatRate(r float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for r >= 1024 && i < len(units)-1 {
		r /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", r, units[i])
}
