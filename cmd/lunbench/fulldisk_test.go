package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"lunbench/report"
)

// tinyResults mounts a tmpfs of size on a new directory for results and
// unmounts it at the end of the test; it skips without root.
func tinyResults(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("lbhost-results-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("lbhost-results", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillUpTo leaves about free bytes on the filesystem of dir.
func fillUpTo(t *testing.T, dir string, free int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, avail-free); err != nil {
		t.Fatal(err)
	}
}

// TestFullResultsDisk runs lunbench with its results on a filesystem that
// is, or becomes, full. Before issue 11 a verify run crashed with SIGBUS
// (exit 2, run.json left "running"), and report warned and exited 0.
func TestFullResultsDisk(t *testing.T) {
	t.Run("verify map cannot be reserved", func(t *testing.T) {
		// 4 GiB of 4 KiB units need 2 MiB of generations: more than a
		// 2 MiB tmpfs has once run.json and friends are in it.
		res := tinyResults(t, "2m")
		target := filepath.Join(t.TempDir(), "lbhost-big.dat")
		sc := writeScenario(t, t.TempDir(), fmt.Sprintf("name: full\ntargets: [{name: big, path: %s, size: 4GiB, allow_write: true}]\n"+
			"phases: [{name: w, rw: randwrite, bs: 4k, qd: 4, duration: 3s, verify: true}]\n", target))
		var stdout, stderr bytes.Buffer
		code := execute([]string{"run", sc, "--no-tui", "--out", filepath.Join(res, "run")}, nil, &stdout, &stderr, make(chan os.Signal))
		if code != exitRuntime || !strings.Contains(stderr.String(), "reserve 2.0 MiB for the map: no space left on device") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
		r, err := report.ReadRun(filepath.Join(res, "run"))
		if err != nil || r.Status != "failed" || !strings.Contains(r.Error, "no space left on device") || len(r.Phases) != 0 {
			t.Fatalf("run.json: %+v, %v; want status failed with the reason and no phase run", r, err)
		}
		if !strings.Contains(stdout.String(), "verdict: ERROR") {
			t.Errorf("no summary printed:\n%s", stdout.String())
		}
	})
	t.Run("results fill up mid-run", func(t *testing.T) {
		// 10 intervals a second of hlogs fill 64 KiB within seconds of
		// a 60 s phase; the run must stop then, not at its end.
		res := tinyResults(t, "2m")
		fillUpTo(t, res, 64<<10)
		target := filepath.Join(t.TempDir(), "lbhost-f.dat")
		sc := writeScenario(t, t.TempDir(), fmt.Sprintf("name: fill\ninterval: 100ms\ntargets: [{name: f, path: %s, size: 64MiB, allow_write: true}]\n"+
			"phases: [{name: rr, rw: randrw, bs: 4k, qd: 4, duration: 60s}]\n", target))
		var stdout, stderr bytes.Buffer
		code := execute([]string{"run", sc, "--no-tui", "--out", filepath.Join(res, "run")}, nil, &stdout, &stderr, make(chan os.Signal))
		if code != exitRuntime || !strings.Contains(stderr.String(), "no space left on device; run stopped") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "verdict: ERROR") || !strings.Contains(stdout.String(), "rr") {
			t.Errorf("no summary printed:\n%s", stdout.String())
		}
		// run.json could not be rewritten on the full disk: it still says
		// running, and its report (written elsewhere) reads INCOMPLETE.
	})
	t.Run("report on a full disk", func(t *testing.T) {
		res := tinyResults(t, "1m")
		dir := filepath.Join(res, "run")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "report", "testdata", "run1"))); err != nil {
			t.Fatal(err)
		}
		fillUpTo(t, res, 0)
		var stdout, stderr bytes.Buffer
		code := execute([]string{"report", dir}, nil, &stdout, &stderr, nil)
		if code != exitRuntime || !strings.Contains(stderr.String(), "no space left on device") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
	})
}
