package preflight

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// outline renders a parsed configuration compactly: sections with their
// line, attributes as key=value@line.
func outline(ss []*MPSection) string {
	var b strings.Builder
	var rec func(ss []*MPSection)
	rec = func(ss []*MPSection) {
		for _, s := range ss {
			fmt.Fprintf(&b, "%s@%d{", s.Name, s.Line)
			for _, a := range s.Attrs {
				fmt.Fprintf(&b, "%s=%s@%d;", a.Key, a.Value, a.Line)
			}
			rec(s.Sections)
			b.WriteString("}")
		}
	}
	rec(ss)
	return b.String()
}

func TestParseMultipathConf(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		outline  string
		problems []string // "line:severity"
	}{
		// A well-formed file with nesting and a quoted value.
		{"nested", "defaults {\n  user_friendly_names yes\n}\ndevices {\n  device {\n    vendor \"NEXENTA\"\n    features \"1 queue_if_no_path\"\n  }\n}\n",
			"defaults@1{user_friendly_names=yes@2;}devices@4{device@5{vendor=NEXENTA@6;features=1 queue_if_no_path@7;}}", nil},
		// Braces glued to words, comments with # and !, a comment after a value.
		{"glued", "defaults{\n polling_interval 10 # every ten seconds\n! old comment\n}\n",
			"defaults@1{polling_interval=10@2;}", nil},
		// Like multipathd, a keyword after '{' on the same line is ignored, and said so.
		{"after-brace", "defaults { polling_interval 10\n}\n",
			"defaults@1{}", []string{"1:info"}},
		// A '#' inside quotes is not a comment; "" is a literal quote.
		{"quotes", "blacklist {\n devnode \"^(sd#|x\"\"y)\"\n}\n",
			`blacklist@1{devnode=^(sd#|x"y)@2;}`, nil},
		// Missing closing brace at the end of the file.
		{"eof-unclosed", "defaults {\n no_path_retry queue\n",
			"defaults@1{no_path_retry=queue@2;}", []string{"1:error"}},
		// A top-level section inside an unclosed one closes it (the bug in reference 001).
		{"implicit-close", "defaults {\n a 1\nblacklist {\n devnode x\n}\n",
			"defaults@1{a=1@2;}blacklist@3{devnode=x@4;}", []string{"3:error"}},
		// A second multipath block inside an unclosed one becomes its sibling.
		{"sibling", "multipaths {\n multipath {\n  wwid 1\n multipath {\n  wwid 2\n }\n}\n",
			"multipaths@1{multipath@2{wwid=1@3;}multipath@4{wwid=2@5;}}", []string{"4:error"}},
		// An unmatched '}', a keyword outside any section, a missing value.
		{"stray", "}\nfoo bar\ndefaults {\n lonely\n}\n",
			"defaults@3{lonely=@4;}", []string{"1:warn", "2:warn", "4:warn"}},
		// An unknown section keeps brace matching intact.
		{"unknown-section", "weird {\n x 1\n}\ndefaults {\n}\n",
			"weird@1{x=1@2;}defaults@4{}", []string{"1:warn"}},
		// An unterminated quote runs to the end of the line.
		{"open-quote", "defaults {\n selector \"round-robin 0\n}\n",
			"defaults@1{selector=round-robin 0@2;}", []string{"2:warn"}},
		// Garbage bytes never crash and never make sections.
		// (The NUL becomes an unknown section; the rest of its line is ignored.)
		{"garbage", "\x00\xff{{}}}\"\n\t\t\n",
			"\x00@1{}", []string{"1:warn", "1:warn", "1:info", "1:error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseMultipathConf("m", strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := outline(c.Sections); got != tt.outline {
				t.Errorf("outline\n got %s\nwant %s", got, tt.outline)
			}
			var probs []string
			for _, p := range c.Problems {
				probs = append(probs, fmt.Sprintf("%d:%s", p.Line, p.Severity))
			}
			if !reflect.DeepEqual(probs, tt.problems) {
				t.Errorf("problems %v, want %v (%+v)", probs, tt.problems, c.Problems)
			}
		})
	}
}

// TestParseRef001Unbalanced parses reference 001's multipath.conf as
// published, without a single closing brace, and gets the structure the
// author meant, with every implicit close reported.
func TestParseRef001Unbalanced(t *testing.T) {
	f, err := os.Open("testdata/ref001-multipath-unbalanced.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseMultipathConf("ref001", f)
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	for _, s := range c.Sections {
		top = append(top, s.Name)
	}
	if want := []string{"defaults", "blacklist", "devices", "multipaths"}; !reflect.DeepEqual(top, want) {
		t.Fatalf("top-level sections %v, want %v", top, want)
	}
	if d := c.Top("defaults")[0]; d.attr("no_path_retry") != "12" || d.attr("selector") != "round-robin 0" || d.Get2("vendor") {
		t.Errorf("defaults wrong: %s", outline([]*MPSection{d}))
	}
	if bl := c.Top("blacklist")[0]; len(bl.Attrs) != 4 || len(bl.Sub("device")) != 1 || bl.Sub("device")[0].attr("product") != "PERC|Universal|Virtual" {
		t.Errorf("blacklist wrong: %s", outline([]*MPSection{bl}))
	}
	dev := c.Top("devices")[0].Sub("device")
	if len(dev) != 1 || dev[0].attr("features") != "1 queue_if_no_path" || dev[0].attr("failback") != "immediate" {
		t.Errorf("devices wrong")
	}
	var aliases []string
	for _, m := range c.Top("multipaths")[0].Sub("multipath") {
		aliases = append(aliases, m.attr("alias"))
	}
	if want := []string{"hydra_apps-a01", "hydra_db-a01", "hydra_db-a02", "hydra_db-a03"}; !reflect.DeepEqual(aliases, want) {
		t.Errorf("aliases %v, want %v", aliases, want)
	}
	errs := 0
	for _, p := range c.Problems {
		if p.Severity == Error {
			errs++
		}
	}
	// defaults, blacklist's device, blacklist, devices' device, devices,
	// three multipath blocks closed by their siblings, the last multipath
	// and multipaths at the end of the file.
	if errs != 10 {
		t.Errorf("%d unclosed-section errors, want 10: %+v", errs, c.Problems)
	}
}

// Get2 reports whether a key is present (test helper).
func (s *MPSection) Get2(key string) bool { _, ok := s.Get(key); return ok }

func TestEffective(t *testing.T) {
	conf, _ := ParseMultipathConf("/etc/multipath.conf", strings.NewReader(`defaults {
	no_path_retry 12
	polling_interval 10
}
devices {
	device {
		vendor "LIO-ORG"
		product ".*"
		no_path_retry queue
	}
	device {
		vendor "LIO-ORG"
		product "TCMU"
		no_path_retry 6
	}
}
multipaths {
	multipath {
		wwid 36001405aaaa
		no_path_retry fail
	}
}
`))
	confs := []*MPConf{conf}
	tests := []struct {
		name  string
		key   string
		p     mpPath
		value string
		level mpLevel
	}{
		// A multipaths entry beats everything for its wwid.
		{"multipath-wins", "no_path_retry", mpPath{WWID: "36001405aaaa", Vendor: "LIO-ORG", Product: "TCMU device"}, "fail", levelMultipath},
		// The later matching device entry wins.
		{"last-device", "no_path_retry", mpPath{Vendor: "LIO-ORG", Product: "TCMU device"}, "6", levelDevice},
		// The first device entry matches other products (unanchored regex).
		{"regex-device", "no_path_retry", mpPath{Vendor: "LIO-ORG", Product: "FILEIO"}, "queue", levelDevice},
		// The built-in hwtable beats the defaults section (NEXENTA COMSTAR: 30).
		{"hwtable-beats-defaults", "no_path_retry", mpPath{Vendor: "NEXENTA", Product: "COMSTAR"}, "30", levelHwtable},
		// Unknown arrays take the defaults section.
		{"defaults", "no_path_retry", mpPath{Vendor: "ACME", Product: "X"}, "12", levelDefaults},
		// Keys nobody sets take multipath-tools' built-in default.
		{"builtin", "path_checker", mpPath{}, "tur", levelBuiltin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := effective(confs, tt.key, tt.p)
			if got.Value != tt.value || got.Level != tt.level {
				t.Errorf("effective = %q (%s), want %q (%s)", got.Value, got.Level, tt.value, tt.level)
			}
		})
	}
}
