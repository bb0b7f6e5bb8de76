// Package stallbox drives scenarios/lab/stallbox.sh from tests: a loop
// device with direct I/O over a file on a bindfs (FUSE) mount, whose I/O
// freezes while bindfs is stopped and fails once it is killed. It is the
// rig a user rehearses drills with, and the real, timed fault of the
// stall, drill and verify tests.
package stallbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Box is one stall box.
type Box struct {
	// Script is stallbox.sh's absolute path, Dir the box's folder (the
	// script's DIR argument), Dev its loop device.
	Script, Dir, Dev string
	// PID is bindfs's.
	PID int
}

// New sets up a box of sizeMiB MiB under /var/tmp, or skips the test
// without root or the tools. The box is taken down when the test ends:
// bindfs continued and killed by its PID, the loop device detached by
// name, the mount and the folder removed.
func New(t testing.TB, sizeMiB int) *Box {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the stall box is a FUSE mount and a loop device")
	}
	for _, tool := range []string{"bindfs", "losetup"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages bindfs, util-linux)", tool)
		}
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "stallbox.sh")
	base, err := os.MkdirTemp("/var/tmp", fmt.Sprintf("lunbench-box-%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	b := &Box{Script: script, Dir: filepath.Join(base, "box")}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "down", b.Dir).CombinedOutput(); err != nil {
			t.Logf("stallbox down: %v: %s", err, out)
		}
		os.RemoveAll(base)
	})
	out, err := exec.Command(script, "up", b.Dir, strconv.Itoa(sizeMiB)).CombinedOutput()
	if err != nil {
		t.Fatalf("stallbox up: %v: %s", err, out)
	}
	b.Dev = strings.TrimSpace(string(out))
	pid, err := os.ReadFile(filepath.Join(b.Dir, "bindfs.pid"))
	if err == nil {
		b.PID, err = strconv.Atoi(strings.TrimSpace(string(pid)))
	}
	if err != nil {
		t.Fatalf("stallbox: bindfs PID: %v", err)
	}
	return b
}

// Cmd is the box's control command for a drill: "stallbox.sh pause DIR".
func (b *Box) Cmd(verb string) string { return b.Script + " " + verb + " " + b.Dir }

// Run runs one of the box's verbs (pause, resume, break) now.
func (b *Box) Run(t testing.TB, verb string) {
	if out, err := exec.Command(b.Script, verb, b.Dir).CombinedOutput(); err != nil {
		t.Errorf("stallbox %s: %v: %s", verb, err, out)
	}
}

// Freeze stops bindfs (on) or continues it, as pause and resume do,
// without a process of its own: for tests that time freezes finely.
func (b *Box) Freeze(on bool) error {
	if on {
		return syscall.Kill(b.PID, syscall.SIGSTOP)
	}
	return syscall.Kill(b.PID, syscall.SIGCONT)
}
