package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lunbench/report"
)

// stallBox is the lab rig of DESIGN.md: a loop device with direct I/O over
// a file on a FUSE mount (bindfs). Stopping the bindfs process freezes every
// I/O to the loop device: a real, timed fault.
type stallBox struct {
	loop string
	fuse *exec.Cmd
	mnt  string
}

func newStallBox(t *testing.T) *stallBox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a FUSE mount and a loop device")
	}
	for _, tool := range []string{"bindfs", "losetup", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages bindfs, util-linux, fuse)", tool)
		}
	}
	base, err := os.MkdirTemp("/var/tmp", "lunbench-stallbox-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	src, mnt := filepath.Join(base, "src"), filepath.Join(base, "mnt")
	os.Mkdir(src, 0o755)
	os.Mkdir(mnt, 0o755)
	b := &stallBox{mnt: mnt}
	// Foreground, so the PID to stop is the one started here.
	b.fuse = exec.Command("bindfs", "-f", src, mnt)
	if err := b.fuse.Start(); err != nil {
		t.Fatalf("bindfs: %v", err)
	}
	t.Cleanup(func() {
		b.fuse.Process.Signal(syscall.SIGCONT)
		exec.Command("fusermount", "-u", mnt).Run()
		b.fuse.Process.Kill()
		b.fuse.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for !mounted(mnt) {
		if time.Now().After(deadline) {
			t.Fatal("bindfs did not mount within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	img := filepath.Join(mnt, "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--direct-io=on", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	b.loop = strings.TrimSpace(string(out))
	t.Cleanup(func() {
		b.fuse.Process.Signal(syscall.SIGCONT)
		exec.Command("losetup", "-d", b.loop).Run()
	})
	return b
}

func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	return err == nil && strings.Contains(string(b), " "+dir+" ")
}

// pause freezes the box for d, starting after delay.
func (b *stallBox) pause(delay, d time.Duration) {
	time.Sleep(delay)
	b.fuse.Process.Signal(syscall.SIGSTOP)
	time.Sleep(d)
	b.fuse.Process.Signal(syscall.SIGCONT)
}

// TestStallMeasuredOnFrozenDevice freezes a real block device for 1.5 s
// under load: the run reports one stall whose length is the pause to
// within 50 ms, as an event while it lasts and in run.json.
func TestStallMeasuredOnFrozenDevice(t *testing.T) {
	b := newStallBox(t)
	dir := t.TempDir()
	sc := writeScenario(t, dir, `
name: stallbox
stall_threshold: 300ms
targets: [{name: box, path: `+b.loop+`}]
phases:
  - {name: rr, rw: randread, bs: 4k, qd: 4, duration: 5s}
`)
	const pause = 1500 * time.Millisecond
	go b.pause(2*time.Second, pause)
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal))
	if code != exitPass {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Stalls) != 1 {
		t.Fatalf("stalls: %+v", run.Stalls)
	}
	s := run.Stalls[0]
	if d := s.Dur - pause; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Fatalf("stall of %v measured for a %v pause", s.Dur, pause)
	}
	evs, _ := report.ReadEvents(out)
	var started, ended bool
	for _, e := range evs {
		switch e.Kind.String() {
		case "stall_start":
			started = e.Time.Before(s.End) // seen while still stalled
		case "stall_end":
			ended = e.Dur == s.Dur
		}
	}
	if !started || !ended {
		t.Fatalf("stall events: started-while-stalled %v, end with exact duration %v", started, ended)
	}
	// The run sampled the loop device's diskstats, and the pause shows
	// there too: a second with requests in flight and nothing completed.
	ds, err := os.ReadFile(filepath.Join(out, "diskstats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Base(b.loop)
	var rows, frozen int
	for _, line := range strings.Split(string(ds), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 27 && f[2] == dev && f[3] == "lun" {
			rows++
			if f[4] == "0.00" && f[26] != "0" {
				frozen++
			}
		}
	}
	if rows < 4 {
		t.Fatalf("diskstats.csv has %d rows for %s:\n%s", rows, dev, ds)
	}
	t.Logf("pause %v measured as %v; %d diskstats rows for %s, %d of them frozen", pause, s.Dur, rows, dev, frozen)
}
