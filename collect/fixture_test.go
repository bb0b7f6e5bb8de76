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
	goldenfile "lunbench/report/golden"
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

// fakeDMSetup replays the fixture's `dmsetup status --target multipath`.
func fakeDMSetup(name string) func(context.Context, ...string) ([]byte, error) {
	return func(_ context.Context, args ...string) ([]byte, error) {
		if strings.Join(args, " ") == "status --target multipath" {
			return os.ReadFile(filepath.Join("testdata", "fixtures", name+".dmsetup-status.txt"))
		}
		return nil, fmt.Errorf("fake dmsetup: unexpected %q", args)
	}
}

// golden compares got with testdata/golden/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

// setAttr rewrites one file of a materialised fixture, as the kernel would
// between two polls.
func setAttr(t testing.TB, root, p, v string) {
	t.Helper()
	collecttest.SetAttr(t, root, p, v)
}
