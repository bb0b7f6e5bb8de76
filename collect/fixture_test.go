package collect

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// Fixture trees live in testdata/fixtures/NAME.tree, a manifest each line
// of which makes one entry of a fake root (Host.Root):
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
type fixEntry struct {
	path, link string
	content    string
	dir        bool
}

func loadManifest(t testing.TB, name string) []fixEntry {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "fixtures", name+".tree"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixEntry
	set := func(e fixEntry) {
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
			for _, e := range loadManifest(t, strings.TrimSpace(strings.TrimPrefix(line, "include "))) {
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
			set(fixEntry{path: strings.TrimSuffix(line, " <<END"), content: b.String()})
		case strings.Contains(line, " -> "):
			p, l, _ := strings.Cut(line, " -> ")
			set(fixEntry{path: p, link: l})
		case strings.Contains(line, " ="):
			p, v, _ := strings.Cut(line, " =")
			set(fixEntry{path: p, content: strings.TrimPrefix(v, " ") + "\n"})
		case strings.HasSuffix(line, "/"):
			set(fixEntry{path: strings.TrimSuffix(line, "/"), dir: true})
		default:
			t.Fatalf("%s.tree:%d: cannot read %q", name, ln, line)
		}
	}
	return out
}

// fixture materialises testdata/fixtures/NAME.tree into a fresh directory
// and returns it, for use as Host.Root.
func fixture(t testing.TB, name string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range loadManifest(t, name) {
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

// fakeMultipathd replays testdata/fixtures/NAME.multipathd-*.
func fakeMultipathd(name string) func(context.Context, ...string) ([]byte, error) {
	return func(_ context.Context, args ...string) ([]byte, error) {
		switch strings.Join(args, " ") {
		case "show maps json":
			return os.ReadFile(filepath.Join("testdata", "fixtures", name+".multipathd-maps.json"))
		case "show paths format " + multipathdPathsFormat:
			return os.ReadFile(filepath.Join("testdata", "fixtures", name+".multipathd-paths.txt"))
		}
		return nil, fmt.Errorf("fake multipathd: unexpected %q", args)
	}
}

// golden compares got with testdata/golden/NAME, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// setAttr rewrites one file of a materialised fixture, as the kernel would
// between two polls.
func setAttr(t testing.TB, root, p, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, p), []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
