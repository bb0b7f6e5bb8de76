package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The seed corpus lives in testdata/fuzz/<FuzzName>/ (the reference and
// fixture files, and edge cases); go test runs it as part of every test run.
// Fuzz with:
//
//	go test -run '^$' -fuzz FuzzIscsidConf -fuzztime 150s ./collect/preflight
//	go test -run '^$' -fuzz FuzzMultipathConf -fuzztime 150s ./collect/preflight

func FuzzIscsidConf(f *testing.F) {
	for _, fx := range fixtures() {
		for name, body := range fx.files() {
			if strings.HasPrefix(name, "etc/iscsi/") || strings.Contains(name, "/nodes/") || strings.Contains(name, "/ifaces/") {
				f.Add(body)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseIscsidConf("fuzz", strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(data, "\n") + 1
		for _, s := range c.Settings {
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("setting %q on line %d of %d", s.Key, s.Line, lines)
			}
			if s.Key == "" || strings.ContainsAny(s.Key, "= \t\r\n\v\f") {
				t.Fatalf("bad key %q", s.Key)
			}
			if secretKey(s.Key) && s.Value != "" && s.Value != Redacted {
				t.Fatalf("secret %q not redacted", s.Key)
			}
			if got, ok := c.Get(s.Key); !ok || got.Line < s.Line {
				t.Fatalf("Get(%q) = %+v, %v: not the last one", s.Key, got, ok)
			}
		}
		for _, p := range c.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem on line %d of %d", p.Line, lines)
			}
		}
	})
}

func FuzzMultipathConf(f *testing.F) {
	f.Add(ref001Multipath)
	if b, err := os.ReadFile(filepath.Join("testdata", "ref001-multipath-unbalanced.conf")); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseMultipathConf("fuzz", strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(data, "\n") + 1
		var check func(ss []*MPSection, depth int)
		check = func(ss []*MPSection, depth int) {
			// One section opens per line at most (text after '{' is
			// ignored), so nesting cannot exceed the line count.
			if len(ss) > 0 && depth > lines {
				t.Fatalf("sections nested %d deep in %d lines", depth, lines)
			}
			for _, s := range ss {
				if s.Line < 1 || s.Line > lines || (s.EndLine != 0 && s.EndLine < s.Line) {
					t.Fatalf("section %q lines %d-%d of %d", s.Name, s.Line, s.EndLine, lines)
				}
				for _, a := range s.Attrs {
					if a.Line < s.Line || a.Line > lines {
						t.Fatalf("attr %q on line %d in section from line %d", a.Key, a.Line, s.Line)
					}
				}
				check(s.Sections, depth+1)
			}
		}
		check(c.Sections, 1)
		for _, p := range c.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem on line %d of %d", p.Line, lines)
			}
		}
		// Resolving settings against whatever was parsed must not panic
		// either (vendor and product patterns are regexps from the file).
		for _, key := range []string{"no_path_retry", "features", "polling_interval"} {
			effective([]*MPConf{c}, key, mpPath{WWID: "36001", Vendor: "NEXENTA", Product: "COMSTAR"})
		}
	})
}
