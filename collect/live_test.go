package collect

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPathsLive runs `lunbench paths` against this machine's /sys and checks
// that every whole disk in use appears, named by its kernel name and kind.
func TestPathsLive(t *testing.T) {
	if _, err := os.Stat("/sys/class/block"); err != nil {
		t.Skip("no sysfs here")
	}
	var buf bytes.Buffer
	if err := Paths(&buf, nil, Host{}, false, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("lunbench paths on this machine:\n%s", buf.String())
	disks, _ := filepath.Glob("/sys/block/*")
	for _, d := range disks {
		name := filepath.Base(d)
		size, _ := os.ReadFile(d + "/size")
		holders, _ := os.ReadDir(d + "/holders")
		if n, _ := strconv.ParseUint(strings.TrimSpace(string(size)), 10, 64); n == 0 || len(holders) > 0 {
			continue
		}
		if !strings.Contains(buf.String(), name+"  ") {
			t.Errorf("%s (in use, nothing stacked on it) missing from the tree", name)
		}
	}
	buf.Reset()
	if err := Paths(&buf, nil, Host{}, true, false); err != nil {
		t.Fatal(err)
	}
}

// TestResolveLive resolves this machine's root filesystem through a file.
func TestResolveLive(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Host{}.Resolve(filepath.Join(wd, "resolve.go"))
	if err != nil {
		t.Skipf("cannot resolve the filesystem of the checkout (overlay or tmpfs?): %v", err)
	}
	if r.Role != RoleFS || r.File == "" || r.MajMin == "" || r.Members[0].Name != r.Name {
		t.Errorf("file resolved to %+v", r)
	}
	t.Logf("resolve.go lives on %s (%s, %s)", r.Name, r.MajMin, r.Kind)
	// A file that does not exist yet lives on its directory's filesystem.
	r2, err := Host{}.Resolve(filepath.Join(wd, "no-such-file.dat"))
	if err != nil || r2.Name != r.Name {
		t.Errorf("missing file resolved to %+v, %v; want %s", r2, err, r.Name)
	}
}
