package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MPConf is a parsed /etc/multipath.conf (or a conf.d file).
type MPConf struct {
	Name string `json:"name"`
	// Sections are the top-level sections in file order.
	Sections []*MPSection `json:"sections"`
	// Problems are structural faults and lines multipathd would reject.
	Problems []Problem `json:"problems,omitempty"`
}

// MPSection is one "name { ... }" block.
type MPSection struct {
	Name string `json:"name"`
	Line int    `json:"line"`
	// EndLine is the line of the closing brace; 0 when the section was
	// never closed and the parser closed it itself.
	EndLine  int          `json:"end_line,omitempty"`
	Attrs    []MPAttr     `json:"attrs,omitempty"`
	Sections []*MPSection `json:"sections,omitempty"`
}

// MPAttr is one "keyword value" line inside a section.
type MPAttr struct {
	Key string `json:"key"`
	// Value has its quotes removed ("1 queue_if_no_path"); "" when missing.
	Value  string `json:"value"`
	Quoted bool   `json:"quoted,omitempty"`
	Line   int    `json:"line"`
}

// Get returns the last attribute named key in the section, as multipathd
// keeps the last of repeated keywords.
func (s *MPSection) Get(key string) (MPAttr, bool) {
	if s == nil {
		return MPAttr{}, false
	}
	for i := len(s.Attrs) - 1; i >= 0; i-- {
		if s.Attrs[i].Key == key {
			return s.Attrs[i], true
		}
	}
	return MPAttr{}, false
}

// Sub returns the subsections named name.
func (s *MPSection) Sub(name string) []*MPSection {
	var out []*MPSection
	for _, c := range s.Sections {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Top returns the top-level sections named name (several "defaults { }"
// blocks are legal and add up).
func (c *MPConf) Top(name string) []*MPSection {
	if c == nil {
		return nil
	}
	var out []*MPSection
	for _, s := range c.Sections {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// children lists the subsections each section may hold, after
// multipath.conf(5): blacklist and blacklist_exceptions hold device blocks,
// devices holds device, multipaths holds multipath, overrides holds protocol.
var mpChildren = map[string][]string{
	"":                     {"defaults", "blacklist", "blacklist_exceptions", "devices", "multipaths", "overrides"},
	"blacklist":            {"device"},
	"blacklist_exceptions": {"device"},
	"devices":              {"device"},
	"multipaths":           {"multipath"},
	"overrides":            {"protocol"},
	"device":               {"protocol"},
}

func mayHold(parent, child string) bool {
	for _, c := range mpChildren[parent] {
		if c == child {
			return true
		}
	}
	return false
}

// mpToken is one word of a multipath.conf line.
type mpToken struct {
	text   string
	quoted bool
}

// tokenize splits a line the way multipath-tools' alloc_strvec does: words
// separated by blanks; "{" and "}" are words of their own outside quotes;
// '#' or '!' at the start of a word begins a comment; a double-quoted string
// is one word, with "" standing for a literal quote. An unterminated string
// runs to the end of the line (bad reports that).
func tokenize(line string) (toks []mpToken, bad bool) {
	i := 0
	for {
		for i < len(line) && (cSpace(rune(line[i])) || line[i] >= 0x80) {
			i++
		}
		if i >= len(line) || line[i] == '#' || line[i] == '!' {
			return toks, bad
		}
		switch c := line[i]; {
		case c == '{' || c == '}':
			toks = append(toks, mpToken{text: string(c)})
			i++
		case c == '"':
			i++
			var b strings.Builder
			closed := false
			for i < len(line) {
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(line[i])
				i++
			}
			if !closed {
				bad = true
			}
			toks = append(toks, mpToken{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(line) && !cSpace(rune(line[j])) && line[j] < 0x80 &&
				line[j] != '{' && line[j] != '}' && line[j] != '"' && line[j] != '#' && line[j] != '!' {
				j++
			}
			if j == i { // a lone byte the loop above cannot take
				j++
			}
			toks = append(toks, mpToken{text: line[i:j]})
			i = j
		}
	}
}

// ParseMultipathConf reads multipath.conf. It never fails on content: it
// keeps every line number, tolerates comments, odd spacing and quoted
// values, and recovers from missing closing braces the way a reader of the
// file would, not the way multipathd does. When a section keyword turns up
// where it cannot be (a "blacklist {" inside an unclosed "defaults {"), the
// open sections are closed up to the level where it can, and each
// implicit close is kept as a Problem of severity Error, because multipathd
// itself would read everything after it as part of the unclosed section.
// It fails only when r does.
func ParseMultipathConf(name string, r io.Reader) (*MPConf, error) {
	c := &MPConf{Name: name}
	var stack []*MPSection
	top := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1].Name
	}
	push := func(s *MPSection) {
		if len(stack) == 0 {
			c.Sections = append(c.Sections, s)
		} else {
			p := stack[len(stack)-1]
			p.Sections = append(p.Sections, s)
		}
		stack = append(stack, s)
	}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		toks, bad := tokenize(strings.TrimRight(line, "\r\n"))
		if bad {
			c.problem(n, Warn, "missing closing quote")
		}
		if len(toks) > 0 {
			t0 := toks[0]
			switch {
			case !t0.quoted && t0.text == "}":
				if len(stack) == 0 {
					c.problem(n, Warn, "unmatched '}'")
				} else {
					stack[len(stack)-1].EndLine = n
					stack = stack[:len(stack)-1]
				}
				if len(toks) > 1 {
					c.problem(n, Info, "text after '}' is ignored")
				}
			case !t0.quoted && t0.text == "{":
				c.problem(n, Warn, "'{' without a section name; the line is ignored")
			case len(toks) > 1 && !toks[1].quoted && toks[1].text == "{":
				sec := &MPSection{Name: t0.text, Line: n}
				if !mayHold(top(), sec.Name) {
					// Close up to the nearest level that may hold
					// this section, if there is one.
					lvl := -1
					for i := len(stack) - 1; i >= 0; i-- {
						if mayHold(stack[i].Name, sec.Name) {
							lvl = i
							break
						}
					}
					if lvl < 0 && mayHold("", sec.Name) {
						lvl = -1
					} else if lvl < 0 {
						lvl = -2
					}
					if lvl == -2 {
						where := "at the top level"
						if len(stack) > 0 {
							where = fmt.Sprintf("in %q (line %d)", top(), stack[len(stack)-1].Line)
						}
						c.problem(n, Warn, "section %q does not belong %s; multipathd ignores it", clip(sec.Name), where)
					} else {
						for len(stack)-1 > lvl {
							s := stack[len(stack)-1]
							c.problem(n, Error, "section %q opened at line %d is not closed before %q at line %d; multipathd reads the lines that follow as part of it",
								s.Name, s.Line, sec.Name, n)
							stack = stack[:len(stack)-1]
						}
					}
				}
				push(sec)
				if len(toks) > 2 {
					c.problem(n, Info, "text after '{' is ignored")
				}
			default:
				a := MPAttr{Key: t0.text, Line: n}
				if len(toks) > 1 {
					a.Value, a.Quoted = toks[1].text, toks[1].quoted
					if len(toks) > 2 {
						c.problem(n, Info, "%s: text after the value is ignored (quote values that contain blanks)", clip(a.Key))
					}
				} else if _, isSection := mpChildren[a.Key]; isSection || a.Key == "defaults" || a.Key == "multipath" {
					c.problem(n, Warn, "%s: missing '{'", clip(a.Key))
				} else {
					c.problem(n, Warn, "%s: missing value", clip(a.Key))
				}
				if len(stack) == 0 {
					c.problem(n, Warn, "%s is outside any section; multipathd ignores it", clip(a.Key))
				} else {
					s := stack[len(stack)-1]
					s.Attrs = append(s.Attrs, a)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, fmt.Errorf("read %s: %w", name, err)
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		c.problem(stack[i].Line, Error, "section %q opened at line %d is never closed", stack[i].Name, stack[i].Line)
	}
	return c, nil
}

func (c *MPConf) problem(n int, sev Severity, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Line: n, Msg: fmt.Sprintf(format, args...), Severity: sev})
}

// mpLevel is where an effective multipath setting came from.
type mpLevel string

const (
	levelMultipath mpLevel = "multipaths"
	levelOverrides mpLevel = "overrides"
	levelDevice    mpLevel = "devices"
	levelHwtable   mpLevel = "built-in hwtable"
	levelDefaults  mpLevel = "defaults"
	levelBuiltin   mpLevel = "built-in default"
)

// mpSetting is an effective setting and where it came from.
type mpSetting struct {
	Value string
	Level mpLevel
	File  string // config file, "" for built-ins
	Line  int
}

func (s mpSetting) where() string {
	if s.File == "" {
		return string(s.Level)
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// hwEntry is a built-in multipath-tools hwtable entry. Only the arrays this
// tool is aimed at are listed; multipathd knows many more.
type hwEntry struct {
	vendor, product string
	set             map[string]string
}

// builtinHW is the part of libmultipath/hwtable.c that matters here:
// NexentaStor/COMSTAR LUNs get no_path_retry 30 and group_by_serial since
// multipath-tools 0.4.9.
var builtinHW = []hwEntry{
	{vendor: "NEXENTA", product: "COMSTAR", set: map[string]string{
		"no_path_retry": "30", "path_grouping_policy": "group_by_serial",
	}},
}

// builtinDefault is what multipathd uses when nothing sets a keyword
// (libmultipath/defaults.h).
var builtinDefault = map[string]string{
	"no_path_retry":        "fail",
	"features":             "0",
	"path_checker":         "tur",
	"polling_interval":     "5",
	"path_grouping_policy": "failover",
	"failback":             "manual",
	"fast_io_fail_tmo":     "5",
	"user_friendly_names":  "no",
}

// mpPath identifies the LUN a setting is resolved for; empty fields match
// only sections that do not need them.
type mpPath struct {
	WWID, Vendor, Product string
}

// effective resolves keyword for one LUN in multipathd's order of
// precedence: multipaths (by wwid) > overrides > devices (last matching
// entry first) > built-in hwtable > defaults > built-in default.
func effective(confs []*MPConf, key string, p mpPath) mpSetting {
	for _, c := range rev(confs) {
		for _, ms := range revs(c.Top("multipaths")) {
			for _, m := range revs(ms.Sub("multipath")) {
				if w, ok := m.Get("wwid"); !ok || p.WWID == "" || w.Value != p.WWID {
					continue
				}
				if a, ok := m.Get(key); ok {
					return mpSetting{a.Value, levelMultipath, c.Name, a.Line}
				}
			}
		}
	}
	for _, c := range rev(confs) {
		for _, o := range revs(c.Top("overrides")) {
			if a, ok := o.Get(key); ok {
				return mpSetting{a.Value, levelOverrides, c.Name, a.Line}
			}
		}
	}
	for _, c := range rev(confs) {
		for _, ds := range revs(c.Top("devices")) {
			for _, d := range revs(ds.Sub("device")) {
				if !deviceMatches(d, p) {
					continue
				}
				if a, ok := d.Get(key); ok {
					return mpSetting{a.Value, levelDevice, c.Name, a.Line}
				}
			}
		}
	}
	for _, h := range builtinHW {
		if v, ok := h.set[key]; ok && reMatch(h.vendor, p.Vendor) && reMatch(h.product, p.Product) {
			return mpSetting{Value: v, Level: levelHwtable}
		}
	}
	for _, c := range rev(confs) {
		for _, d := range revs(c.Top("defaults")) {
			if a, ok := d.Get(key); ok {
				return mpSetting{a.Value, levelDefaults, c.Name, a.Line}
			}
		}
	}
	return mpSetting{Value: builtinDefault[key], Level: levelBuiltin}
}

func deviceMatches(d *MPSection, p mpPath) bool {
	v, okV := d.Get("vendor")
	pr, okP := d.Get("product")
	if !okV && !okP {
		return false
	}
	return (!okV || reMatch(v.Value, p.Vendor)) && (!okP || reMatch(pr.Value, p.Product))
}

// reMatch matches like regexec(REG_EXTENDED|REG_NOSUB): unanchored. An
// empty subject (LUN unknown) matches nothing; a pattern Go cannot compile
// falls back to a prefix comparison.
func reMatch(pattern, s string) bool {
	if s == "" {
		return false
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return strings.HasPrefix(s, pattern)
	}
	return re.MatchString(s)
}

func rev(cs []*MPConf) []*MPConf {
	out := make([]*MPConf, len(cs))
	for i, c := range cs {
		out[len(cs)-1-i] = c
	}
	return out
}

func revs(ss []*MPSection) []*MPSection {
	out := make([]*MPSection, len(ss))
	for i, s := range ss {
		out[len(ss)-1-i] = s
	}
	return out
}
