package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/remote/sshtest"
)

// TestRunOverSSH runs a two-host scenario end to end over real sshd: the
// built binary is the coordinator, in the lab's client namespace; each host
// is a namespace with its own sshd, HOME and PATH. h1 has another lunbench
// version on its PATH and h2 none, so both get the coordinator's binary
// copied into their cache; the second run reuses the copies.
func TestRunOverSSH(t *testing.T) {
	sshtest.Require(t)
	lab := sshtest.New(t, 2)
	dir := directDirNamed(t, "lb17s-run-")
	bin := filepath.Join(dir, "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	h1, h2 := lab.Hosts[0], lab.Hosts[1]
	old := "#!/bin/sh\necho 'lunbench 0.0.1 (an older one)'\n"
	if err := os.WriteFile(filepath.Join(h1.Bin, "lunbench"), []byte(old), 0o755); err != nil {
		t.Fatal(err)
	}
	sc := writeScenario(t, dir, fmt.Sprintf(`name: sshpair
hosts:
  - {name: h1, ssh: %s}
  - {name: h2, ssh: %s}
targets:
  - {name: a, path: %s, size: 16MiB, host: h1, allow_write: true}
  - {name: b, path: %s, size: 16MiB, host: h2, allow_write: true}
phases:
  - {name: fill, rw: write, bs: 64k, qd: 2, duration: 2s}
  - {name: mix, rw: randrw, bs: 4k, qd: 4, duration: 2s}
`, h1.Dest, h2.Dest, filepath.Join(dir, "a.dat"), filepath.Join(dir, "b.dat")))

	self, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	caches := map[string]string{}
	for i := 1; i <= 2; i++ {
		out := filepath.Join(dir, fmt.Sprintf("res%d", i))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var stdout, stderr bytes.Buffer
		cmd := lab.Command(ctx, bin, "run", sc, "--no-tui", "--out", out, "--ssh-config", lab.Config)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("run %d: %v\nstdout:\n%s\nstderr:\n%s", i, err, stdout.String(), stderr.String())
		}
		t.Logf("run %d: %v\n%s", i, time.Since(start).Round(time.Millisecond), stdout.String())
		for _, f := range []string{"run.json", "intervals.csv", "report.md", "hosts/h1/run.json", "hosts/h2/run.json", "hosts/h1/intervals.csv", "hosts/h2/intervals.csv"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("run %d: missing %s: %v", i, f, err)
			}
		}
		for _, h := range lab.Hosts {
			m, _ := filepath.Glob(filepath.Join(h.Home, ".cache", "lunbench", "*", "lunbench"))
			if len(m) != 1 {
				t.Fatalf("run %d: %s's cache holds %q; want one copy", i, h.Name, m)
			}
			got, _ := os.ReadFile(m[0])
			if sha256.Sum256(got) != sha256.Sum256(self) {
				t.Errorf("run %d: %s's copy differs from the coordinator's binary", i, h.Name)
			}
			fi, _ := os.Stat(m[0])
			stamp := fmt.Sprint(fi.ModTime().UnixNano())
			if i == 2 && caches[h.Name] != stamp {
				t.Errorf("%s's copy was written again on the second run", h.Name)
			}
			caches[h.Name] = stamp
		}
		if b, _ := os.ReadFile(filepath.Join(h1.Bin, "lunbench")); string(b) != old {
			t.Error("h1's own lunbench was changed")
		}
		for _, h := range lab.Hosts {
			want := map[int]string{1: h.Name + ": copied lunbench (", 2: h.Name + ": runs the copy of lunbench cached at " + h.Home}[i]
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("run %d: no line %q in the output", i, want)
			}
		}
		if !strings.Contains(stdout.String(), "h1") || !strings.Contains(stdout.String(), "h2") {
			t.Errorf("run %d: the summary names no hosts:\n%s", i, stdout.String())
		}
	}
}
