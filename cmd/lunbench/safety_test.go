package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// safetyRig is one reproduction of a way lunbench could destroy data: the
// scenario to run, the extra arguments, the files and devices that must
// come out byte for byte as they went in, and what the refusal must say.
type safetyRig struct {
	scenario string
	args     []string
	guarded  []string
	msgs     []string // substrings of the output
}

// TestRunNeverWritesInUse runs `lunbench run` against every hidden safety
// case of issue 11, each set up for real with loop devices, mounts, locks
// held by other processes and tmpfs. Every file and device at stake is
// checksummed whole (sha256) before and after: a single changed byte fails
// the case. Cases refused as scenario errors must leave no results
// directory behind.
func TestRunNeverWritesInUse(t *testing.T) {
	needSafetyRoot(t, "losetup", "mount", "umount", "mkfs.ext4", "flock")
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) safetyRig
		code      int
		noResults bool // refused before the results directory exists
		changed   bool // the control: the write must show in the checksum
	}{
		// The control: a free file is written, and the checksum sees it.
		{"free file is written", setupFreeFile, exitPass, false, true},
		// An ext4 image attached to a loop device that is mounted: a
		// randwrite on the image file would corrupt the mounted filesystem.
		{"file backing a mounted loop device", setupLoopBackedFile, exitRuntime, false, false},
		// Loop A over a file, ext4 on A, loop B over A mounted; then
		// --destroy-data=/dev/loopA: A is held by B, whatever the flag says.
		{"stacked loops with --destroy-data", setupStackedLoops, exitRuntime, false, false},
		// The other way up: loop B over loop A, A mounted; then
		// --destroy-data=/dev/loopB: writing B writes A's filesystem.
		{"loop over a mounted loop device with --destroy-data", setupOverMounted, exitRuntime, false, false},
		// flock(1) holds the file, as many tools lock what they use.
		{"file held by flock(1)", setupFlocked, exitRuntime, false, false},
		// A second process holds shared OFD locks on single bytes, the
		// way QEMU locks the disk images it has open.
		{"file OFD-locked QEMU-style", setupOFDLocked, exitRuntime, false, false},
		// QEMU itself with the image as a drive (skipped without QEMU).
		{"disk image open in QEMU", setupQEMU, exitRuntime, false, false},
		// A mistyped device name with size: no file appears in /dev, and
		// the message names the device that was likely meant.
		{"mistyped /dev name with size", setupMistypedDev, exitUsage, true, false},
		// A new file on tmpfs: refused, nothing created.
		{"new file on tmpfs", setupRAMNew("tmpfs"), exitUsage, true, false},
		// A new file on ramfs: the same.
		{"new file on ramfs", setupRAMNew("ramfs"), exitUsage, true, false},
		// Two targets, one a symlink to the other.
		{"duplicate through a symlink", setupDupSymlink, exitUsage, true, false},
		// Two targets, a loop device and its backing file.
		{"duplicate loop device and backing file", setupDupLoop, exitUsage, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := safeDir(t)
			rig := tt.setup(t, dir)
			before := map[string]string{}
			for _, p := range rig.guarded {
				before[p] = sha256Of(t, p)
			}
			out := filepath.Join(dir, "res")
			var stdout, stderr bytes.Buffer
			args := append([]string{"run", rig.scenario, "--no-tui", "--out", out}, rig.args...)
			code := execute(args, nil, &stdout, &stderr, make(chan os.Signal))
			all := stdout.String() + stderr.String()
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, all)
			}
			for _, m := range rig.msgs {
				if !strings.Contains(all, m) {
					t.Errorf("output lacks %q:\n%s", m, all)
				}
			}
			for _, p := range rig.guarded {
				after := sha256Of(t, p)
				if (after != before[p]) != tt.changed {
					t.Errorf("%s: sha256 %s before, %s after (changed: want %v)", p, before[p], after, tt.changed)
				}
			}
			if _, err := os.Stat(out); tt.noResults && err == nil {
				t.Errorf("a scenario error left a results directory %s", out)
			}
			t.Logf("exit %d: %s", code, strings.TrimSpace(stderr.String()))
		})
	}
}

// writePhase is a scenario that writes every target at random for a second.
func writePhase(t *testing.T, dir string, targets ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name: lbsafe\ntargets:\n")
	for _, tg := range targets {
		b.WriteString("  - " + tg + "\n")
	}
	b.WriteString("phases:\n  - {name: w, rw: randwrite, bs: 4k, qd: 4, duration: 1s}\n")
	return writeScenario(t, dir, b.String())
}

func setupFreeFile(t *testing.T, dir string) safetyRig {
	f := randomFile(t, filepath.Join(dir, "free.img"), 8<<20)
	return safetyRig{scenario: writePhase(t, dir, "{name: f, path: "+f+", allow_write: true}"), guarded: []string{f}}
}

func setupLoopBackedFile(t *testing.T, dir string) safetyRig {
	img := ext4Image(t, filepath.Join(dir, "fs.img"))
	dev := loopOver(t, img)
	mnt := mountOn(t, dev, filepath.Join(dir, "mnt"))
	return safetyRig{scenario: writePhase(t, dir, "{name: img, path: "+img+", allow_write: true}"), guarded: []string{img},
		msgs: []string{"refusing to write " + img + ": it backs loop device " + dev + " (mounted at " + mnt + ")", "losetup -d " + dev}}
}

// loopStack makes loop A over a 64 MiB random file, ext4 on A, and loop B
// over A, and mounts A or B (upper).
func loopStack(t *testing.T, dir string, upper bool) (file, a, b, mnt string) {
	t.Helper()
	file = randomFile(t, filepath.Join(dir, "lower.img"), 64<<20)
	a = loopOver(t, file)
	sh(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", a)
	b = loopOver(t, a)
	if upper {
		return file, a, b, mountOn(t, b, filepath.Join(dir, "mnt"))
	}
	return file, a, b, mountOn(t, a, filepath.Join(dir, "mnt"))
}

func setupStackedLoops(t *testing.T, dir string) safetyRig {
	file, a, b, mnt := loopStack(t, dir, true)
	return safetyRig{scenario: writePhase(t, dir, "{name: a, path: "+a+", allow_write: true}"), args: []string{"--destroy-data=" + a},
		guarded: []string{a, file},
		msgs:    []string{"refusing to write " + a + ": it backs loop device " + b + " (mounted at " + mnt + ")", "--destroy-data never overrides that"}}
}

func setupOverMounted(t *testing.T, dir string) safetyRig {
	file, a, b, mnt := loopStack(t, dir, false)
	return safetyRig{scenario: writePhase(t, dir, "{name: b, path: "+b+", allow_write: true}"), args: []string{"--destroy-data=" + b},
		guarded: []string{a, file}, // not b: it reads a through a's page cache
		msgs:    []string{"refusing to write " + b + ": it is built on " + filepath.Base(a) + " (mounted at " + mnt + ")", "--destroy-data never overrides that"}}
}

func setupFlocked(t *testing.T, dir string) safetyRig {
	f := randomFile(t, filepath.Join(dir, "vm.img"), 8<<20)
	// flock(1) takes the lock, then runs cat, which waits on its stdin:
	// closing that ends both.
	pid := holdUntilClosed(t, exec.Command("flock", "-x", f, "cat"), "", func() bool { return flockHeld(f) })
	return safetyRig{scenario: writePhase(t, dir, "{name: vm, path: "+f+", allow_write: true}"), guarded: []string{f},
		msgs: []string{"refusing to write " + f + ": another process holds a flock() lock (pid " + strconv.Itoa(pid) + " flock)"}}
}

func setupOFDLocked(t *testing.T, dir string) safetyRig {
	f := randomFile(t, filepath.Join(dir, "qemu.img"), 8<<20)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOFDLock$")
	cmd.Env = append(os.Environ(), "LBSAFE_OFD_LOCK="+f)
	holdUntilClosed(t, cmd, "", nil)
	return safetyRig{scenario: writePhase(t, dir, "{name: vm, path: "+f+", allow_write: true}"), guarded: []string{f},
		msgs: []string{"refusing to write " + f + ": another process holds a shared OFD lock (fcntl F_OFD_SETLK) from byte 100"}}
}

func setupQEMU(t *testing.T, dir string) safetyRig {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("needs qemu-system-x86_64")
	}
	f := randomFile(t, filepath.Join(dir, "guest.img"), 8<<20)
	// No machine, no guest: just the block layer with the image open,
	// and the monitor on stdin to quit it.
	cmd := exec.Command("qemu-system-x86_64", "-machine", "none", "-nographic", "-serial", "none", "-monitor", "stdio",
		"-drive", "file="+f+",format=raw,if=none,id=lbsafe0")
	holdUntilClosed(t, cmd, "quit\n", func() bool { return ofdHeld(f) })
	return safetyRig{scenario: writePhase(t, dir, "{name: guest, path: "+f+", allow_write: true}"), guarded: []string{f},
		msgs: []string{"refusing to write " + f + ": another process holds a shared OFD lock (fcntl F_OFD_SETLK) from byte 100"}}
}

func setupMistypedDev(t *testing.T, dir string) safetyRig {
	dev := loopOver(t, randomFile(t, filepath.Join(dir, "lun.img"), 8<<20))
	typo := strings.Replace(dev, "/dev/loop", "/dev/lop", 1)
	t.Cleanup(func() {
		if _, err := os.Lstat(typo); err == nil {
			t.Errorf("%s was created", typo)
			os.Remove(typo)
		}
	})
	return safetyRig{scenario: writePhase(t, dir, "{name: lun, path: "+typo+", size: 8MiB, allow_write: true}"), guarded: []string{dev},
		msgs: []string{typo + " does not exist, and lunbench never creates a file under /dev", "did you mean " + dev + "?", "allow_ram_backed: true"}}
}

// setupRAMNew mounts a RAM-backed filesystem of type fstype and names a
// file to create on it.
func setupRAMNew(fstype string) func(t *testing.T, dir string) safetyRig {
	return func(t *testing.T, dir string) safetyRig {
		mnt := filepath.Join(dir, fstype)
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		sh(t, "mount", "-t", fstype, "-o", "size=32m", "lbsafe-"+fstype, mnt)
		t.Cleanup(func() { sh(t, "umount", mnt) })
		f := filepath.Join(mnt, "new.dat")
		t.Cleanup(func() {
			if _, err := os.Lstat(f); err == nil {
				t.Errorf("%s was created on %s", f, fstype)
			}
		})
		return safetyRig{scenario: writePhase(t, dir, "{name: f, path: "+f+", size: 8MiB, allow_write: true}"),
			msgs: []string{f + " does not exist, and lunbench will not create it on " + mnt + " (" + fstype + ", RAM-backed)"}}
	}
}

func setupDupSymlink(t *testing.T, dir string) safetyRig {
	f := randomFile(t, filepath.Join(dir, "lun.img"), 8<<20)
	link := filepath.Join(dir, "alias")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	return safetyRig{scenario: writePhase(t, dir, "{name: a, path: "+f+", allow_write: true}", "{name: b, path: "+link+", allow_write: true}"),
		guarded: []string{f},
		msgs:    []string{`targets "a" (` + f + `) and "b" (` + link + `) are the same file or device: both resolve to ` + f}}
}

func setupDupLoop(t *testing.T, dir string) safetyRig {
	f := randomFile(t, filepath.Join(dir, "lun.img"), 8<<20)
	dev := loopOver(t, f)
	return safetyRig{scenario: writePhase(t, dir, "{name: file, path: "+f+", allow_write: true}", "{name: loop, path: "+dev+", allow_write: true}"),
		guarded: []string{f, dev},
		msgs:    []string{`targets "file" (` + f + `) and "loop" (` + dev + `) are the same data: ` + dev + ` is a loop device over ` + f}}
}

// TestRunWarnsRAMBacked: an existing file on tmpfs may be benchmarked, but
// the summary and the report say the figures are memory's. A read phase
// leaves the file as it was.
func TestRunWarnsRAMBacked(t *testing.T) {
	needSafetyRoot(t, "mount", "umount")
	dir := safeDir(t)
	mnt := filepath.Join(dir, "tmpfs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "-t", "tmpfs", "-o", "size=32m", "lbsafe-tmpfs", mnt)
	t.Cleanup(func() { sh(t, "umount", mnt) })
	f := randomFile(t, filepath.Join(mnt, "ram.img"), 4<<20)
	sum := sha256Of(t, f)
	sc := writeScenario(t, dir, "name: lbsafe-ram\ntargets: [{name: f, path: "+f+"}]\nphases: [{name: r, rw: randread, bs: 4k, duration: 300ms}]\n")
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal)); code != exitPass {
		t.Skipf("this kernel cannot run O_DIRECT on tmpfs (before Linux 6.6): exit %d\n%s", code, stderr.String())
	}
	want := `warning: target "f" is RAM-backed (tmpfs at ` + mnt + `): its figures measure memory, not storage`
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, stdout.String())
	}
	for _, name := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "is RAM-backed (tmpfs at "+mnt+")") {
			t.Errorf("%s lacks the RAM-backed warning", name)
		}
	}
	if sha256Of(t, f) != sum {
		t.Error("a read phase changed the file")
	}
}

// TestHelperOFDLock is not a test: setupOFDLocked runs the test binary as
// a second process that holds OFD locks the way QEMU does (shared locks on
// bytes 100 and 201 of the image) until its stdin closes.
func TestHelperOFDLock(t *testing.T) {
	p := os.Getenv("LBSAFE_OFD_LOCK")
	if p == "" {
		t.Skip("helper process for setupOFDLocked only")
	}
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, b := range []int64{100, 201} {
		if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &unix.Flock_t{Type: unix.F_RDLCK, Start: b, Len: 1}); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// needSafetyRoot skips unless the test runs as root with the tools.
func needSafetyRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates loop devices, mounts and locks")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
}

// safeDir is a new directory named lbsafe-* on a disk filesystem (loop
// devices need O_DIRECT on their backing files), removed at the end.
func safeDir(t *testing.T) string {
	t.Helper()
	return directDirNamed(t, "lbsafe-")
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// sha256Of hashes the whole file or block device. A block device is read
// with O_DIRECT: what is on it, not its page cache, in which a filesystem
// mounted on it keeps buffers it changed in memory and has not written.
func sha256Of(t *testing.T, p string) string {
	t.Helper()
	f, err := directio.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	buf := directio.AlignedBlock(1 << 20)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF || n == 0 && err == nil {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// randomFile writes size random bytes to p, so that any write shows.
func randomFile(t *testing.T, p string, size int) string {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ext4Image makes a 64 MiB ext4 image with every table written at mkfs
// time, so that a mounted, idle filesystem does not change it by itself.
func ext4Image(t *testing.T, p string) string {
	t.Helper()
	randomFile(t, p, 64<<20)
	sh(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", p)
	return p
}

// loopOver attaches a loop device over backing and detaches it by name at
// the end.
func loopOver(t *testing.T, backing string) string {
	t.Helper()
	out, err := exec.Command("losetup", "-f", "--show", backing).CombinedOutput()
	if err != nil {
		t.Skipf("this machine cannot attach loop devices: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^/dev/loop[0-9]+$`).MatchString(dev) {
		t.Fatalf("losetup printed %q", dev)
	}
	t.Cleanup(func() { sh(t, "losetup", "-d", dev) })
	return dev
}

// mountOn mounts dev on the new directory dir, and flushes so the
// checksum taken next sees the mounted state; unmounted at the end.
func mountOn(t *testing.T, dev, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "-o", "noatime", dev, dir)
	t.Cleanup(func() { sh(t, "umount", dir) })
	sh(t, "sync")
	return dir
}

// holdUntilClosed starts cmd with a pipe for its stdin and waits until it
// holds its lock: until ready says so, or until it prints "locked". At the
// end bye is written to its stdin and stdin is closed, which ends it; it is
// killed by PID if it has not gone within 5 s.
func holdUntilClosed(t *testing.T, cmd *exec.Cmd, bye string, ready func() bool) int {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	first := make(chan string, 1)
	go func() {
		if ready == nil {
			lines := bufio.NewScanner(stdout)
			lines.Scan()
			first <- lines.Text()
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		io.WriteString(stdin, bye)
		stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	if ready == nil {
		select {
		case l := <-first:
			if l != "locked" {
				t.Fatalf("%s: %q instead of \"locked\"", cmd.Path, l)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not take its lock in 10 s", cmd.Path)
		}
		return cmd.Process.Pid
	}
	for deadline := time.Now().Add(10 * time.Second); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not take its lock in 10 s", cmd.Path)
		}
	}
	return cmd.Process.Pid
}

// flockHeld reports whether someone holds a flock(2) lock on p: a
// non-blocking try on a descriptor of our own, released at once.
func flockHeld(p string) bool {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return true
	}
	unix.Flock(fd, unix.LOCK_UN)
	return false
}

// ofdHeld reports whether another open file description holds an OFD or
// POSIX lock that a whole-file write lock would conflict with.
func ofdHeld(p string) bool {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	return unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk) == nil && lk.Type != unix.F_UNLCK
}
