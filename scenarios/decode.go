package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxAliasDerefs bounds how often aliases are followed, so that a file of a
// few lines that references anchors from anchors cannot make the loader
// walk billions of nodes.
const maxAliasDerefs = 10000

// validName is what a scenario, target, phase or drill may be called:
// names end up in file names and report headings.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// abort stops decoding early; parse recovers it and reports what it has.
type abort struct{}

// decoder walks a yaml.Node tree, collecting every problem with its
// position instead of stopping at the first.
type decoder struct {
	file   string
	lookup Lookup
	probs  []Problem
	derefs int
	objs   map[string][]keyDef // objects(), built once per load
	// interval is the scenario's, which steady-state rounds divide.
	interval time.Duration
	// hostLines are the hosts: names with their lines, for host: and on:.
	hostLines map[string]int
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) {
	d.errAt(d.pos(n), format, args...)
}

func (d *decoder) errAt(p Pos, format string, args ...any) {
	d.probs = append(d.probs, Problem{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases to the anchored node.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		d.derefs++
		if d.derefs > maxAliasDerefs {
			d.errf(n, "too many alias (*name) references; the file may reference at most %d", maxAliasDerefs)
			panic(abort{})
		}
		n = n.Alias
	}
	return n
}

// where is " in CTX", or "" at the top level.
func where(ctx string) string {
	if ctx == "" {
		return ""
	}
	return " in " + ctx
}

// describe names what a node holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float", "!!bool":
			return n.Value
		}
		v := n.Value
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "..."
		}
		return strconv.Quote(v)
	}
	return "an unsupported value"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// label names a mapping for messages: `phase "seq-read"` when it has a
// plain name, else `phase #2`.
func (d *decoder) label(n *yaml.Node, what string, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value != "" && !isNull(v) {
				return fmt.Sprintf("%s %q", what, v.Value)
			}
		}
	}
	return fmt.Sprintf("%s #%d", what, i+1)
}

// field is one key of a mapping with its value parsed according to its
// keyDef. ok is false when the value was wrong (and reported).
type field struct {
	def   keyDef
	key   *yaml.Node
	val   *yaml.Node
	ok    bool
	s     string
	n     int64 // kInt, kSize, kDuration, kMaxDuration
	u     uint64
	f     float64 // kFloat, kRate, kPercent
	b     bool
	names []string
	pos   []Pos // of each name
	crit  []Criterion
	mix   *sizeMix      // kSizeMix written as a mapping
	dist  *Distribution // kDist
	items []*field      // kScalarList: each value, parsed
}

// fields are the keys of one mapping.
type fields map[string]*field

// okf returns the field for key when it is present and valid.
func (fs fields) okf(key string) (*field, bool) {
	f := fs[key]
	return f, f != nil && f.ok
}

// object checks that n is a mapping of known keys, each given once, with
// every required key present, and parses each value. It returns nil when n
// is not a mapping.
func (d *decoder) object(n *yaml.Node, obj, ctx string) fields {
	n = d.deref(n)
	if d.objs == nil {
		d.objs = objects()
	}
	defs := d.objs[obj]
	if n.Kind != yaml.MappingNode {
		d.errf(n, "%s must be a mapping of keys (%s: ...), got %s", ctx, defs[0].name, describe(n))
		return nil
	}
	fs := fields{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			d.errf(k, "keys%s must be plain words, got %s", where(ctx), describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errf(k, "merge keys (<<) are not supported%s; put settings shared by phases in defaults:", where(ctx))
			continue
		}
		idx := slices.IndexFunc(defs, func(def keyDef) bool { return def.name == k.Value })
		if idx < 0 {
			d.unknownKey(k, obj, ctx, defs)
			continue
		}
		if prev, dup := fs[k.Value]; dup {
			d.errf(k, "duplicate key %q%s (first at line %d)", k.Value, where(ctx), prev.key.Line)
			continue
		}
		fs[k.Value] = d.value(defs[idx], k, n.Content[i+1], ctx)
	}
	for _, def := range defs {
		if def.required && fs[def.name] == nil {
			d.errf(n, "%s needs %s", ctx, def.name)
		}
	}
	return fs
}

func (d *decoder) unknownKey(k *yaml.Node, obj, ctx string, defs []keyDef) {
	if obj == objDefaults && slices.ContainsFunc(phaseKeys(), func(def keyDef) bool { return def.name == k.Value }) {
		d.errf(k, "%q cannot be set in defaults; set it in each phase", k.Value)
		return
	}
	d.errf(k, "unknown key %q%s%s", k.Value, where(ctx),
		didYouMean(k.Value, keyNames(defs), synonymMap(defs), "valid keys are"))
}

// expected says what a key of kind k takes, for messages.
func expected(def keyDef) string {
	switch def.kind {
	case kName:
		return "a name of letters, digits, '.', '_' and '-' (at most 64)"
	case kInt, kUint64:
		return "a whole number"
	case kFloat:
		return "a number"
	case kBool:
		return "true or false"
	case kSize:
		return "a size like 4k, 1MiB or 512"
	case kDuration:
		return "a duration like 30s, 500ms or 2m"
	case kRate:
		return "a rate like 200MiB/s"
	case kPercent:
		return "a percentage like 70%"
	case kEnum:
		return "one of " + strings.Join(def.enum, ", ")
	case kNames:
		return "a list of names like [lun0, lun1]"
	case kStrings:
		return "a list like [198.18.0.10, 198.18.0.11]"
	case kCriteria:
		return `a mapping of metric: "<cmp> <value>" (read_p99: "<= 2ms")`
	case kMaxDuration:
		return `an upper bound like "<= 15s"`
	case kObject:
		return "a mapping"
	case kList:
		return "a list"
	case kSizeMix:
		return "a size like 4k or a mix like {4k: 60%, 64k: 40%}"
	case kDist:
		return "uniform, normal, or one of {zipf: 1.2}, {pareto: 0.9}, {normal: 10%}, {hot: [{range: 10%, share: 90%}]}"
	case kScalarList:
		return "a list of values like [1, 2, 4]"
	}
	return "text"
}

// text returns a scalar's value with ${VAR} references expanded.
func (d *decoder) text(n *yaml.Node, what string) (string, bool) {
	s, probs := expand(n.Value, d.lookup)
	for _, p := range probs {
		d.errf(n, "%s: %s", what, p)
	}
	return s, len(probs) == 0
}

// value parses one key's value by its kind.
func (d *decoder) value(def keyDef, key, raw *yaml.Node, ctx string) *field {
	f := &field{def: def, key: key, val: d.deref(raw)}
	v := f.val
	what := def.name + where(ctx)
	switch def.kind {
	case kObject, kList, kCriteria:
		want := yaml.MappingNode
		if def.kind == kList {
			want = yaml.SequenceNode
		}
		switch {
		case v.Kind == want:
			f.ok = true
		case isNull(v):
			// "drills:" with nothing under it: an empty collection.
			f.ok = true
		default:
			d.errf(v, "%s must be %s, got %s", what, expected(def), describe(v))
		}
		if f.ok && def.kind == kCriteria {
			critCtx := def.name
			if ctx != "the scenario" {
				critCtx += " of " + ctx
			}
			// Keep the good rules of a block with bad ones, so that
			// checks on them still run and report.
			f.crit = d.criteria(v, critCtx)
		}
		return f
	case kNames, kStrings:
		f.ok = d.names(f, what)
		return f
	case kScalarList:
		f.ok = d.scalarList(f, ctx)
		return f
	case kSizeMix, kDist:
		if v.Kind == yaml.MappingNode {
			if def.kind == kSizeMix {
				f.ok = d.sizeMixValue(f, what)
			} else {
				f.ok = d.distValue(f, what)
			}
			return f
		}
	}
	if v.Kind != yaml.ScalarNode {
		d.errf(v, "%s must be %s, got %s", what, expected(def), describe(v))
		return f
	}
	if isNull(v) {
		d.errf(v, "%s has no value; it takes %s", what, expected(def))
		return f
	}
	s, ok := d.text(v, what)
	if !ok {
		return f
	}
	f.s = s
	f.ok = d.scalar(f, s, ctx)
	return f
}

// names parses a list of names, such as a phase's targets.
func (d *decoder) names(f *field, what string) bool {
	v := f.val
	if v.Kind != yaml.SequenceNode {
		d.errf(v, "%s must be %s, got %s", what, expected(f.def), describe(v))
		return false
	}
	ok := true
	for _, el := range v.Content {
		el = d.deref(el)
		if el.Kind != yaml.ScalarNode || isNull(el) {
			d.errf(el, "%s must be %s, got %s in the list", what, expected(f.def), describe(el))
			ok = false
			continue
		}
		s, good := d.text(el, what)
		if !good {
			ok = false
			continue
		}
		f.names = append(f.names, s)
		f.pos = append(f.pos, d.pos(el))
	}
	return ok
}

// scalar parses s by f's kind and checks its bounds.
func (d *decoder) scalar(f *field, s, ctx string) bool {
	v, def := f.val, f.def
	what := def.name + where(ctx)
	bad := func() bool {
		if strings.HasPrefix(strings.TrimSpace(s), "-") && (def.kind == kInt || def.kind == kUint64) {
			d.errf(v, "%s must not be negative, got %s", what, describe(v))
		} else {
			d.errf(v, "%s must be %s, got %s", what, expected(def), describe(v))
		}
		return false
	}
	var err error
	switch def.kind {
	case kString:
		return true
	case kName:
		if !validName.MatchString(s) {
			return bad()
		}
		return true
	case kInt:
		f.n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return bad()
		}
	case kUint64:
		f.u, err = strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return bad()
		}
		return true
	case kFloat:
		f.f, err = parseCount(s)
	case kBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			f.b = true
		case "false":
		default:
			return bad()
		}
		return true
	case kSize, kSizeMix:
		f.n, err = ParseSize(s)
	case kDist:
		switch DistKind(s) {
		case Uniform:
			f.dist = &Distribution{Kind: Uniform}
		case Normal:
			f.dist = &Distribution{Kind: Normal, Param: DefaultNormalSigma}
		default:
			d.errf(v, "unknown distribution %q%s%s", s, where(ctx), didYouMean(s, distKinds(), distSynonyms(), "use one of"))
			return false
		}
		return true
	case kDuration:
		var dur time.Duration
		dur, err = ParseDuration(s)
		f.n = int64(dur)
	case kRate:
		f.f, err = ParseRate(s)
	case kPercent:
		f.f, err = ParsePercent(s)
		if err == nil && def.whole && f.f != float64(int(f.f)) {
			d.errf(v, "%s must be a whole percentage like 70%%, got %s", what, describe(v))
			return false
		}
	case kEnum:
		if !slices.Contains(def.enum, s) {
			var syn map[string]string
			if def.name == "rw" {
				syn = rwSynonyms()
			}
			d.errf(v, "unknown %s %q%s%s", def.name, s, where(ctx),
				didYouMean(s, def.enum, syn, "use one of"))
			return false
		}
		return true
	case kMaxDuration:
		rest, found := strings.CutPrefix(strings.TrimSpace(s), "<=")
		if !found {
			d.errf(v, "%s must be %s, got %s", what, expected(def), describe(v))
			return false
		}
		var dur time.Duration
		dur, err = ParseDuration(rest)
		f.n = int64(dur)
	}
	if err != nil {
		d.errf(v, "%s: %v", what, err)
		return false
	}
	return d.bounds(f, what)
}

// bounds checks a number, size or duration against its keyDef.
func (d *decoder) bounds(f *field, what string) bool {
	def, v := f.def, f.val
	num := f.n
	if def.kind == kFloat || def.kind == kRate || def.kind == kPercent {
		return true // non-negative by parsing; nothing else bounds them
	}
	show := func(n int64) string {
		switch def.kind {
		case kSize, kSizeMix:
			return FormatSize(n)
		case kDuration, kMaxDuration:
			return formatDuration(time.Duration(n))
		}
		return strconv.FormatInt(n, 10)
	}
	switch {
	case num < 0:
		d.errf(v, "%s must not be negative, got %s", what, show(num))
	case def.positive && num == 0:
		d.errf(v, "%s must be greater than 0", what)
	case def.min > 0 && num < def.min:
		d.errf(v, "%s must be at least %s, got %s", what, show(def.min), show(num))
	case def.max > 0 && num > def.max:
		d.errf(v, "%s must be at most %s, got %s", what, show(def.max), show(num))
	case def.align > 0 && num%def.align != 0:
		d.errf(v, "%s must be a multiple of %d bytes, got %s", what, def.align, show(num))
	default:
		return true
	}
	return false
}

// criteria parses a mapping of metric: "<cmp> <value>"; ctx names the
// mapping, as in `expect of phase "x"`.
func (d *decoder) criteria(n *yaml.Node, ctx string) []Criterion {
	if isNull(n) {
		return nil
	}
	var out []Criterion
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), d.deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errf(k, "metric names in %s must be plain words, got %s", ctx, describe(k))
			continue
		}
		metric := k.Value
		unit, known := MetricUnit(metric)
		if !known {
			d.errf(k, "unknown metric %q in %s%s", metric, ctx, didYouMean(metric, MetricNames(), nil, "metrics are"))
			continue
		}
		if line, dup := seen[metric]; dup {
			d.errf(k, "duplicate metric %q in %s (first at line %d)", metric, ctx, line)
			continue
		}
		seen[metric] = k.Line
		what := metric + " in " + ctx
		if metric == "iops_at_p99" {
			if c, ok := d.iopsAtP99(v, what); ok {
				c.Pos = d.pos(k)
				out = append(out, c)
			}
			continue
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			d.errf(v, "%s must be a comparison and a value like \"%s %s\", got %s", what, defaultCmp(metric), exampleValue(unit), describe(v))
			continue
		}
		s, good := d.text(v, what)
		if !good {
			continue
		}
		c, err := parseCriterion(metric, unit, s)
		if err != nil {
			d.errf(v, "%s: %v", what, err)
			continue
		}
		c.Pos = d.pos(k)
		out = append(out, c)
	}
	return out
}

func exampleValue(u Unit) string {
	switch u {
	case Seconds:
		return "2ms"
	case BytesPerSec:
		return "200MiB/s"
	case Fraction:
		return "90%"
	}
	return "0"
}

// parseCriterion parses "<= 2ms" for a metric of unit u.
func parseCriterion(metric string, u Unit, s string) (Criterion, error) {
	t := strings.TrimSpace(s)
	op := t[:len(t)-len(strings.TrimLeft(t, "<>=!"))]
	rest := strings.TrimSpace(t[len(op):])
	c := Criterion{Metric: metric, Cmp: Cmp(op)}
	switch c.Cmp {
	case LE, LT, GE, GT, EQ:
	case "":
		if rest == "" {
			rest = exampleValue(u)
		}
		return c, fmt.Errorf("threshold %q needs a comparison: write \"%s %s\"", s, defaultCmp(metric), rest)
	default:
		return c, fmt.Errorf("unknown comparison %q (use <=, <, >=, > or ==)", op)
	}
	if rest == "" {
		return c, fmt.Errorf("%q needs a value after %s, e.g. \"%s %s\"", s, op, op, exampleValue(u))
	}
	var err error
	switch u {
	case Seconds:
		var dur time.Duration
		dur, err = ParseDuration(rest)
		c.Threshold = dur.Seconds()
	case BytesPerSec:
		c.Threshold, err = ParseRate(rest)
	case Fraction:
		c.Threshold, err = parseFraction(rest)
	default:
		c.Threshold, err = parseCount(rest)
	}
	if err != nil {
		return c, err
	}
	c.Text = metric + " " + op + " " + rest
	return c, nil
}
