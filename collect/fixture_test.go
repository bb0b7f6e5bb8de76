package collect

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lunbench/collect/collecttest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// fixture materialises testdata/fixtures/NAME.tree (the format is
// described in package collecttest) into a fresh directory and returns it,
// for use as Host.Root.
func fixture(t testing.TB, name string) string {
	t.Helper()
	return collecttest.Tree(t, filepath.Join("testdata", "fixtures"), name)
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
	collecttest.SetAttr(t, root, p, v)
}
