// Package collecttest materialises the fixture trees under
// collect/testdata/fixtures into fake roots for collect.Host{Root: ...}, so
// tests outside package collect (the watch command's) drive the collectors
// with the same copies of real sysfs layouts.
//
// A tree is a manifest, NAME.tree, each line of which makes one entry:
//
//	# comment                 (each tree says where its layout comes from)
//	include OTHER             start from OTHER.tree, then override
//	/path = value             a file holding "value\n", as sysfs attributes do
//	/path -> target           a symlink, relative as sysfs's are
//	/path/                    an empty directory
//	/path <<END ... END       a file of several lines (/proc/diskstats)
//	- /path                   remove an entry an included tree made
//
// Manifests rather than committed trees keep the fixtures small, diffable
// and free of the trailing-space and symlink quirks of checkouts.
package collecttest

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	path, link string
	content    string
	dir        bool
}

func load(t testing.TB, dir, name string) []entry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name+".tree"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []entry
	set := func(e entry) {
		for i := range out {
			if out[i].path == e.path {
				out[i] = e
				return
			}
		}
		out = append(out, e)
	}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "include "):
			for _, e := range load(t, dir, strings.TrimSpace(strings.TrimPrefix(line, "include "))) {
				set(e)
			}
		case strings.HasPrefix(line, "- "):
			p := strings.TrimSpace(line[2:])
			for i := range out {
				if out[i].path == p {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
		case strings.HasSuffix(line, " <<END"):
			var b strings.Builder
			for sc.Scan() && sc.Text() != "END" {
				b.WriteString(sc.Text() + "\n")
			}
			set(entry{path: strings.TrimSuffix(line, " <<END"), content: b.String()})
		case strings.Contains(line, " -> "):
			p, l, _ := strings.Cut(line, " -> ")
			set(entry{path: p, link: l})
		case strings.Contains(line, " ="):
			p, v, _ := strings.Cut(line, " =")
			set(entry{path: p, content: strings.TrimPrefix(v, " ") + "\n"})
		case strings.HasSuffix(line, "/"):
			set(entry{path: strings.TrimSuffix(line, "/"), dir: true})
		default:
			t.Fatalf("%s.tree:%d: cannot read %q", name, ln, line)
		}
	}
	return out
}

// Tree materialises DIR/NAME.tree into a fresh temporary directory (removed
// when the test ends) and returns it, for use as collect.Host.Root.
func Tree(t testing.TB, dir, name string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range load(t, dir, name) {
		p := filepath.Join(root, e.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case e.dir:
			err = os.MkdirAll(p, 0o755)
		case e.link != "":
			err = os.Symlink(e.link, p)
		default:
			err = os.WriteFile(p, []byte(e.content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// SetAttr rewrites one file of a materialised tree, as the kernel would
// between two polls; v gets the newline sysfs attributes end with.
func SetAttr(t testing.TB, root, p, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, p), []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
