package scenarios

import (
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Steady is SNIA's steady-state rule for a phase: over the last Rounds
// rounds of Round each, max − min of the metric is at most MaxExcursion of
// its average, and the least-squares line changes by at most MaxSlope of
// the average across the window.
type Steady struct {
	Metric       string // iops or throughput
	Rounds       int
	Round        time.Duration
	MaxExcursion float64 // fraction
	MaxSlope     float64 // fraction
}

// SNIA PTS defaults.
const (
	defaultSteadyRounds    = 5
	defaultSteadyRound     = time.Minute
	defaultSteadyExcursion = 0.20
	defaultSteadySlope     = 0.10
)

// windowPattern reads "5 × 60s" (or 5x60s, 5 * 60s).
var windowPattern = regexp.MustCompile(`^\s*([0-9]+)\s*[×xX*]\s*(\S+)\s*$`)

// steady decodes until_steady: and, with precondition: true, puts the
// precondition sub-phase before the phase.
func (d *decoder) steady(p *Phase, own fields, interval time.Duration, durOK bool, ctx string) {
	f, ok := own.okf("until_steady")
	if !ok || isNull(f.val) {
		return
	}
	sctx := "until_steady of " + ctx
	fs := d.object(f.val, objSteady, sctx)
	if fs == nil {
		return
	}
	st := &Steady{Metric: "iops", Rounds: defaultSteadyRounds, Round: defaultSteadyRound,
		MaxExcursion: defaultSteadyExcursion, MaxSlope: defaultSteadySlope}
	if mf, ok := fs.okf("metric"); ok {
		st.Metric = mf.s
	}
	if wf, ok := fs.okf("window"); ok && !d.window(st, wf, interval, sctx) {
		return
	}
	if ef, ok := fs.okf("max_excursion"); ok {
		st.MaxExcursion = ef.f / 100
	}
	if sf, ok := fs.okf("max_slope"); ok {
		st.MaxSlope = sf.f / 100
	}
	switch tf, ok := fs.okf("timeout"); {
	case ok:
		p.Duration = time.Duration(tf.n)
	case !durOK || p.Duration == 0:
		d.errf(f.val, "%s needs timeout (the longest the phase may run unsettled, 2h) or a duration on the phase", sctx)
		return
	}
	if need := time.Duration(st.Rounds) * st.Round; p.Duration < need {
		d.errf(f.val, "%s: the timeout (%s) is shorter than one window (%d × %s)", sctx, formatDuration(p.Duration), st.Rounds, formatDuration(st.Round))
		return
	}
	p.Steady = st
}

// window parses window: ROUNDS × LENGTH.
func (d *decoder) window(st *Steady, f *field, interval time.Duration, ctx string) bool {
	m := windowPattern.FindStringSubmatch(f.s)
	if m == nil {
		d.errf(f.val, "window in %s must be ROUNDS × LENGTH like \"5 × 60s\", got %s", ctx, describe(f.val))
		return false
	}
	n, err := strconv.Atoi(m[1])
	round, derr := ParseDuration(m[2])
	switch {
	case err != nil || n < 2 || n > 1000:
		d.errf(f.val, "window in %s needs 2 to 1000 rounds, got %s", ctx, m[1])
	case derr != nil:
		d.errf(f.val, "window in %s: %v", ctx, derr)
	case round < interval || round%interval != 0:
		d.errf(f.val, "window in %s: a round (%s) must be a whole number of the scenario's interval (%s)", ctx, formatDuration(round), formatDuration(interval))
	default:
		st.Rounds, st.Round = n, round
		return true
	}
	return false
}

// precondition returns the sub-phase that writes each target's range twice
// sequentially in 128 KiB blocks before p, named NAME[precondition].
func precondition(p Phase) Phase {
	q := Phase{Name: p.Name + "[precondition]", RW: Write, BS: 128 << 10, QD: min(p.QD, 8), RangePasses: 2,
		Targets: p.Targets, Seed: p.Seed, OnError: p.OnError, Engine: p.Engine, Pos: p.Pos,
		Sub: &Sub{Parent: p.Name, Key: "precondition", Label: "precondition"}}
	return q
}

// steadyNode writes a Steady as the format reads it.
func steadyNode(st *Steady) *yaml.Node {
	n := mapping()
	n.Style = yaml.FlowStyle
	add(n, "metric", str(st.Metric))
	add(n, "window", str(strconv.Itoa(st.Rounds)+" × "+formatDuration(st.Round)))
	add(n, "max_excursion", str(fmtPct(st.MaxExcursion*100)))
	add(n, "max_slope", str(fmtPct(st.MaxSlope*100)))
	return n
}

// JudgeSteady applies the rule to the last rounds of values: whether they
// are steady, and their average, excursion (max − min) and slope change
// across the window (both as fractions of the average).
func JudgeSteady(st *Steady, values []float64) (ok bool, avg, excursion, slope float64) {
	if len(values) < st.Rounds {
		return false, 0, 0, 0
	}
	w := values[len(values)-st.Rounds:]
	lo, hi := w[0], w[0]
	var sx, sy, sxy, sxx float64
	for i, v := range w {
		lo, hi = min(lo, v), max(hi, v)
		x := float64(i)
		sx, sy, sxy, sxx = sx+x, sy+v, sxy+x*v, sxx+x*x
	}
	n := float64(len(w))
	avg = sy / n
	if avg <= 0 {
		return false, avg, 0, 0
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	excursion = (hi - lo) / avg
	slope = b * (n - 1) / avg
	return excursion <= st.MaxExcursion && abs(slope) <= st.MaxSlope, avg, excursion, slope
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// checkPrecondition checks that a phase's precondition can write.
func (d *decoder) checkPrecondition(f *field, p Phase, subs []Phase, targets []targetInfo, ctx string) {
	if len(subs) > 1 || p.Sub != nil {
		d.errf(f.key, "precondition in %s: put it on a phase without sweep or curve, or on a phase of its own before them", ctx)
	}
	for _, name := range p.Targets {
		for _, ti := range targets {
			if ti.t.Name == name && ti.allowKnown && !ti.t.AllowWrite {
				d.errf(f.key, "precondition in %s writes target %q, which does not allow writes; add allow_write: true to it if its data may be destroyed", ctx, name)
			}
		}
	}
}
