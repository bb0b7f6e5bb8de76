package scenarios

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Marshal writes a resolved scenario back as YAML, every default spelled
// out and values in human units, as recorded in a run's scenario.yaml.
// Parse reads the result back to an equal Scenario (apart from Pos,
// Source and Builtin), so a recorded run can be repeated exactly.
//
// Values are written as resolved: ${VAR} references are gone, so a secret
// passed in through the environment (say, in a drill command) appears in
// the output.
func Marshal(s *Scenario) ([]byte, error) {
	m := mapping()
	m.HeadComment = fmt.Sprintf("Scenario %q as resolved by lunbench from %s: defaults filled in,\n"+
		"variables expanded, the seed fixed. Run this file to repeat the run.", s.Name, s.Source)
	add(m, "name", str(s.Name))
	if s.Description != "" {
		add(m, "description", str(s.Description))
	}
	add(m, "seed", num(strconv.FormatUint(s.Seed, 10)))
	add(m, "interval", dur(s.Interval))
	add(m, "stall_threshold", dur(s.StallThreshold))
	if len(s.Hosts) > 0 {
		hosts := seq()
		for _, h := range s.Hosts {
			hm := mapping()
			add(hm, "name", str(h.Name))
			if h.SSH != "" {
				add(hm, "ssh", str(h.SSH))
			}
			hosts.Content = append(hosts.Content, hm)
		}
		add(m, "hosts", hosts)
		add(m, "on_host_loss", str(string(s.OnHostLoss)))
	}

	// Rules go back where the format writes them: a phase's expect:, a
	// target's criteria:, or the top-level criteria:.
	byTarget := map[string][]Criterion{}
	byPhase := map[string][]Criterion{}
	var run []Criterion
	for _, c := range s.Criteria {
		switch {
		case c.Phase != "" && c.Target != "":
			return nil, fmt.Errorf("marshal scenario %q: criterion %q is for both phase %q and target %q, which the format cannot express",
				s.Name, c.Text, c.Phase, c.Target)
		case c.Phase != "":
			if !slices.ContainsFunc(s.Phases, func(p Phase) bool { return p.Name == c.Phase || (p.Sub != nil && p.Sub.Parent == c.Phase) }) {
				return nil, fmt.Errorf("marshal scenario %q: criterion %q names unknown phase %q", s.Name, c.Text, c.Phase)
			}
			byPhase[c.Phase] = append(byPhase[c.Phase], c)
		case c.Target != "":
			if !slices.ContainsFunc(s.Targets, func(t Target) bool { return t.Name == c.Target }) {
				return nil, fmt.Errorf("marshal scenario %q: criterion %q names unknown target %q", s.Name, c.Text, c.Target)
			}
			byTarget[c.Target] = append(byTarget[c.Target], c)
		default:
			run = append(run, c)
		}
	}
	targets := seq()
	for _, t := range s.Targets {
		tm := mapping()
		add(tm, "name", str(t.Name))
		add(tm, "path", str(t.Path))
		if t.Size > 0 {
			add(tm, "size", str(FormatSize(t.Size)))
		}
		if t.Host != "" {
			add(tm, "host", str(t.Host))
		}
		add(tm, "allow_write", boolean(t.AllowWrite))
		if t.AllowRAMBacked {
			add(tm, "allow_ram_backed", boolean(true))
		}
		if t.Offset > 0 {
			add(tm, "offset", str(FormatSize(t.Offset)))
		}
		if t.Length > 0 {
			add(tm, "length", str(FormatSize(t.Length)))
		}
		if e := t.Expect; e != nil {
			em := mapping()
			if e.Paths > 0 {
				add(em, "paths", num(strconv.Itoa(e.Paths)))
			}
			if e.Portals > 0 {
				add(em, "portals", num(strconv.Itoa(e.Portals)))
			}
			if e.CHAP != nil {
				add(em, "chap", boolean(*e.CHAP))
			}
			if e.RecoveryTmoMax > 0 {
				add(em, "recovery_tmo", quoted("<= "+formatDuration(e.RecoveryTmoMax)))
			}
			add(tm, "expect", em)
		}
		if t.Probe != nil {
			add(tm, "probe", probeNode(t.Probe))
		}
		if cs := byTarget[t.Name]; len(cs) > 0 {
			add(tm, "criteria", criteria(cs))
		}
		targets.Content = append(targets.Content, tm)
	}
	add(m, "targets", targets)

	phases := seq()
	pre := false
	for i, p := range s.Phases {
		var n *yaml.Node
		switch {
		case p.Sub != nil && p.Sub.Key == "precondition":
			pre = true // written as precondition: true on the next
			continue
		case p.Sub != nil && i > 0 && s.Phases[i-1].Sub != nil && s.Phases[i-1].Sub.Parent == p.Sub.Parent:
			continue // written with the first of its group
		case p.Sub != nil:
			n = groupNode(s.Phases[i:], byPhase)
		default:
			n = phaseNode(p, byPhase[p.Name])
		}
		if pre {
			add(n, "precondition", boolean(true))
			pre = false
		}
		phases.Content = append(phases.Content, n)
	}
	add(m, "phases", phases)
	if len(run) > 0 {
		add(m, "criteria", criteria(run))
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("marshal scenario %q: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal scenario %q: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// phaseNode writes one phase with its expect: block.
func phaseNode(p Phase, cs []Criterion) *yaml.Node {
	pm := mapping()
	add(pm, "name", str(p.Name))
	add(pm, "rw", str(string(p.RW)))
	add(pm, "bs", bsNode(p))
	add(pm, "qd", num(strconv.Itoa(p.QD)))
	if p.Duration > 0 {
		add(pm, "duration", dur(p.Duration))
	}
	if p.Bytes > 0 {
		add(pm, "bytes", str(FormatSize(p.Bytes)))
	}
	if p.Ramp > 0 {
		add(pm, "ramp", dur(p.Ramp))
	}
	if p.RW == RandRW || p.RW == ReadWrite {
		add(pm, "read_pct", str(strconv.Itoa(p.ReadPct)+"%"))
	}
	if p.Offsets != nil {
		add(pm, "offsets", distNode(p.Offsets))
	}
	if p.Poisson {
		add(pm, "rate_process", str(RatePoisson))
	}
	if p.Think > 0 {
		add(pm, "think", dur(p.Think))
	}
	if p.Compress > 0 {
		add(pm, "compress", num(strconv.FormatFloat(p.Compress, 'f', -1, 64)))
	}
	if p.DedupePct > 0 {
		add(pm, "dedupe", str(strconv.Itoa(p.DedupePct)+"%"))
	}
	if p.RateIOPS > 0 {
		add(pm, "rate_iops", num(strconv.FormatFloat(p.RateIOPS, 'f', -1, 64))) // the loader reads no exponents
	}
	names := seq()
	names.Style = yaml.FlowStyle
	for _, t := range p.Targets {
		names.Content = append(names.Content, str(t))
	}
	add(pm, "targets", names)
	if p.Seed != 0 {
		add(pm, "seed", num(strconv.FormatUint(p.Seed, 10)))
	}
	add(pm, "on_error", str(string(p.OnError)))
	add(pm, "verify", boolean(p.Verify))
	if p.Engine == EngineURing {
		add(pm, "engine", str(p.Engine))
	}
	if len(cs) > 0 {
		add(pm, "expect", criteria(cs))
	}
	if p.Steady != nil {
		sn := steadyNode(p.Steady)
		add(sn, "timeout", dur(p.Duration))
		add(pm, "until_steady", sn)
	}
	if len(p.Drills) > 0 {
		drills := seq()
		for _, dr := range p.Drills {
			drills.Content = append(drills.Content, drill(dr))
		}
		add(pm, "drills", drills)
	}
	return pm
}

func drill(dr Drill) *yaml.Node {
	m := mapping()
	add(m, "name", str(dr.Name))
	switch {
	case dr.Manual:
		add(m, "manual", boolean(true))
	case dr.After != "":
		add(m, "after", str(dr.After))
		add(m, "settle", dur(dr.Settle))
	default:
		add(m, "at", dur(dr.At))
	}
	// Commands are written as the user wrote them, ${VAR} unexpanded: a
	// CHAP secret or password handed to a drill through the environment
	// must not end up in the results.
	if dr.Inject != "" {
		add(m, "inject", command(dr.InjectSource, dr.Inject))
	}
	add(m, "timeout", dur(dr.Timeout))
	if dr.ProbeLogin {
		add(m, "probe_login", boolean(true))
	}
	if r := dr.Recover; r != nil {
		rm := mapping()
		add(rm, "command", command(r.CommandSource, r.Command))
		add(rm, "at", dur(r.At))
		add(m, "recover", rm)
	}
	if len(dr.Expect) > 0 {
		add(m, "expect", criteria(dr.Expect))
	}
	if dr.Failure != "" {
		add(m, "failure", str(dr.Failure))
	}
	if dr.On != "" {
		add(m, "on", str(dr.On))
	}
	return m
}

// criteria writes rules in the form they are read: metric: "<cmp> <value>".
// The value is the one written in the file, from Text; a rule built in
// code without Text gets its threshold in base units.
func criteria(cs []Criterion) *yaml.Node {
	m := mapping()
	for _, c := range cs {
		if c.Metric == "iops_at_p99" {
			n := mapping()
			n.Style = yaml.FlowStyle
			add(n, "latency", dur(c.Latency))
			add(n, "min", num(strconv.FormatFloat(c.Threshold, 'f', -1, 64)))
			add(m, c.Metric, n)
			continue
		}
		v, ok := strings.CutPrefix(c.Text, c.Metric+" ")
		if !ok {
			v = string(c.Cmp) + " " + formatThreshold(c.Metric, c.Threshold)
		}
		add(m, c.Metric, quoted(v))
	}
	return m
}

// formatThreshold writes a threshold in a spelling its metric's parser reads.
func formatThreshold(metric string, v float64) string {
	if u, _ := MetricUnit(metric); u == Seconds {
		return formatDuration(time.Duration(math.Round(v * float64(time.Second))))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }
func seq() *yaml.Node     { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// str is a string value, escaped so the loader's ${VAR} expansion gives it
// back unchanged.
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: escapeVars(s)}
}

// command writes a drill command: its source text verbatim (it is still to
// be expanded when read back), or, for a scenario built in code with no
// source, the command itself with "${" escaped.
func command(source, expanded string) *yaml.Node {
	if source != "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: source}
	}
	return str(expanded)
}

func quoted(s string) *yaml.Node {
	n := str(s)
	n.Style = yaml.DoubleQuotedStyle
	return n
}

func num(s string) *yaml.Node {
	tag := "!!int"
	if strings.ContainsAny(s, ".eE") {
		tag = "!!float"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func dur(d time.Duration) *yaml.Node { return str(formatDuration(d)) }

// formatDuration writes d as time.Duration.String does, without the zero
// tails that read oddly in a scenario: "1m" rather than "1m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// probeNode writes a probe: block; it holds the names of the variables
// with the secrets, never the secrets.
func probeNode(p *TargetProbe) *yaml.Node {
	m := mapping()
	list := func(key string, vs []string) {
		if len(vs) == 0 {
			return
		}
		l := seq()
		for _, v := range vs {
			l.Content = append(l.Content, str(v))
		}
		add(m, key, l)
	}
	text := func(key, v string) {
		if v != "" {
			add(m, key, str(v))
		}
	}
	list("portals", p.Portals)
	text("target", p.Target)
	list("allowed", p.Allowed)
	list("refused", p.Refused)
	if p.CHAP != nil {
		add(m, "chap", boolean(*p.CHAP))
	}
	if p.MutualCHAP {
		add(m, "mutual_chap", boolean(true))
	}
	text("chap_user", p.CHAPUser)
	text("chap_secret_env", p.CHAPSecretEnv)
	text("target_user", p.TargetUser)
	text("target_secret_env", p.TargetSecretEnv)
	if p.LUNs > 0 {
		add(m, "luns", num(strconv.Itoa(p.LUNs)))
	}
	list("wwid", p.WWIDs)
	if p.Pings > 0 {
		add(m, "pings", num(strconv.Itoa(p.Pings)))
	}
	if p.Timeout > 0 {
		add(m, "timeout", dur(p.Timeout))
	}
	return m
}
