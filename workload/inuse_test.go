package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"lunbench/scenarios"
)

// TestLockedBy takes each kind of lock on a second open file description
// in this process (flock and OFD locks conflict between descriptions even
// within one process; a classic POSIX lock conflicts with an OFD probe)
// and checks that lockedBy sees it and says which it is. The real second
// process, flock(1) and an OFD-locking helper, is in cmd/lunbench's
// safety tests.
func TestLockedBy(t *testing.T) {
	self := fmt.Sprint(os.Getpid())
	tests := []struct {
		name string
		lock func(fd int) error
		want string // substring of the description; "" for no lock
	}{
		// Nobody holds anything.
		{"none", func(int) error { return nil }, ""},
		// flock(LOCK_EX), as flock(1) takes it: named with its PID.
		{"flock exclusive", func(fd int) error { return unix.Flock(fd, unix.LOCK_EX) }, "a flock() lock (pid " + self},
		// flock(LOCK_SH): a writer must still not go ahead.
		{"flock shared", func(fd int) error { return unix.Flock(fd, unix.LOCK_SH) }, "a flock() lock (pid " + self},
		// QEMU's image locking: a shared OFD lock on one byte.
		{"ofd shared byte", func(fd int) error {
			return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &unix.Flock_t{Type: unix.F_RDLCK, Start: 100, Len: 1})
		}, "a shared OFD lock (fcntl F_OFD_SETLK) from byte 100"},
		// An exclusive OFD lock over the whole file.
		{"ofd exclusive", func(fd int) error {
			return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &unix.Flock_t{Type: unix.F_WRLCK})
		}, "an exclusive OFD lock (fcntl F_OFD_SETLK) from byte 0"},
		// A classic POSIX record lock: named with its PID.
		{"posix", func(fd int) error {
			return unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &unix.Flock_t{Type: unix.F_WRLCK, Start: 4096, Len: 512})
		}, "an exclusive POSIX lock (fcntl) from byte 4096 (pid " + self},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(diskTempDir(t), "img")
			if err := CreateSparse(p, 1<<20); err != nil {
				t.Fatal(err)
			}
			fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := tt.lock(fd); err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err != nil {
				t.Fatal(err)
			}
			got := lockedBy(p, &st, SysRoot{})
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("lockedBy = %q, want %q", got, tt.want)
			}
			// Closing lockedBy's descriptor dropped this process's POSIX
			// locks on the file (fcntl(2)): take them again. (Another
			// process's, which are what matter, are not touched.)
			if err := tt.lock(fd); err != nil {
				t.Fatal(err)
			}
			d, err := ProbeDevice(p, SysRoot{})
			if err != nil {
				t.Fatal(err)
			}
			err = GuardWrite(d, "", SysRoot{})
			var u *UnsafeTargetError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("GuardWrite refused an unlocked file: %v", err)
			case tt.want != "" && (!errors.As(err, &u) || u.Found != "locked"):
				t.Errorf("GuardWrite = %v, want a refusal with Found \"locked\"", err)
			}
		})
	}
}

// TestCheckCreate covers where a missing file target may be created. The
// fixture "held" is a host with a multipath map /dev/mapper/mpatha.
func TestCheckCreate(t *testing.T) {
	held := fixture("held")
	disk := filepath.Join(diskTempDir(t), "new.dat")
	tests := []struct {
		name string
		t    scenarios.Target
		sys  SysRoot
		want string // substring of the error; "" when allowed
	}{
		// A mistyped map name with size: refused, with the likely device.
		{"mistyped /dev", scenarios.Target{Name: "lun", Path: "/dev/mpathz", Size: 8 << 20, Pos: scenarios.Pos{File: "s.yaml", Line: 3, Column: 5}}, held,
			`s.yaml:3:5: target "lun": /dev/mpathz does not exist, and lunbench never creates a file under /dev (it would live in RAM on devtmpfs and the run would measure memory, not the LUN); did you mean /dev/mapper/mpatha?`},
		// Nothing like it: says so and where to look.
		{"nothing similar", scenarios.Target{Name: "lun", Path: "/dev/qqqqqqqqqqqq", Size: 8 << 20}, held, "no block device has a similar name (lsblk lists them)"},
		// The explicit opt-in.
		{"opted in", scenarios.Target{Name: "lun", Path: "/dev/mpathz", Size: 8 << 20, AllowRAMBacked: true}, held, ""},
		// Without size nothing is created: ProbeDevice says it is missing.
		{"no size", scenarios.Target{Name: "lun", Path: "/dev/mpathz"}, held, ""},
		// An existing device is never created.
		{"exists", scenarios.Target{Name: "lun", Path: "/dev/mapper/mpatha", Size: 8 << 20}, held, ""},
		// A new file on a disk filesystem.
		{"disk file", scenarios.Target{Name: "f", Path: disk, Size: 8 << 20}, SysRoot{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantConfigError(t, checkCreate(tt.t, tt.sys), tt.want)
		})
	}
}

// TestCheckDistinct covers two targets that are one file or device,
// without root: files, links and the fixture's multipath map.
func TestCheckDistinct(t *testing.T) {
	dir := diskTempDir(t)
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	for _, p := range []string{a, b} {
		if err := CreateSparse(p, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	sym, hard := filepath.Join(dir, "sym"), filepath.Join(dir, "hard")
	if err := os.Symlink("a.img", sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, hard); err != nil {
		t.Fatal(err)
	}
	tg := func(name, p string) scenarios.Target { return scenarios.Target{Name: name, Path: p} }
	tests := []struct {
		name string
		ts   []scenarios.Target
		sys  SysRoot
		want string // substring of the error; "" when allowed
	}{
		// Two files.
		{"distinct", []scenarios.Target{tg("x", a), tg("y", b)}, SysRoot{}, ""},
		// A symlink to the other target.
		{"symlink", []scenarios.Target{tg("x", a), tg("y", sym)}, SysRoot{},
			`targets "x" (` + a + `) and "y" (` + sym + `) are the same file or device: both resolve to ` + a},
		// A hard link: another name, the same inode.
		{"hard link", []scenarios.Target{tg("x", a), tg("y", hard)}, SysRoot{}, `targets "x" (` + a + `) and "y" (` + hard + `) are the same file or device`},
		// Two spellings of a file that does not exist yet.
		{"same new file", []scenarios.Target{tg("x", filepath.Join(dir, "new")), tg("y", dir+"/./new")}, SysRoot{}, "are the same file or device"},
		// A multipath map by its name and by its dm node.
		{"mapper and dm", []scenarios.Target{tg("x", "/dev/mapper/mpatha"), tg("y", "/dev/dm-0")}, fixture("held"), "both resolve to /dev/dm-0"},
		// A map and one of its paths are different devices (the guard
		// refuses to write the path: it is held).
		{"map and path", []scenarios.Target{tg("x", "/dev/mapper/mpatha"), tg("y", "/dev/sdf")}, fixture("held"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantConfigError(t, checkDistinct(tt.ts, tt.sys), tt.want)
		})
	}
}

// wantConfigError checks that err is nil when want is "", and otherwise a
// *ConfigError whose message contains want.
func wantConfigError(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// --- Root tests: real loop devices. ---

// TestGuardFileLoopRoot: a file that backs a loop device is in use,
// whether the loop device is mounted or not, and under another name.
func TestGuardFileLoopRoot(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount", "umount")
	dev := newLoop(t, nil, false)
	img := sysBackingFile(t, dev)
	d, err := ProbeDevice(img, SysRoot{})
	if err != nil {
		t.Fatal(err)
	}
	// Attached, nothing mounted: still in use.
	want := "refusing to write " + img + ": it backs loop device " + dev + " (attached; nothing mounted on it): writing the file rewrites the device and whatever lives on it; unmount it and detach it first (losetup -d " + dev + ")"
	if err := GuardWrite(d, "", SysRoot{}); err == nil || err.Error() != want {
		t.Errorf("attached:\ngot  %v\nwant %s", err, want)
	}
	// Renamed: found by inode (LOOP_GET_STATUS64), not by name.
	moved := img + ".moved"
	if err := os.Rename(img, moved); err != nil {
		t.Fatal(err)
	}
	if d, err = ProbeDevice(moved, SysRoot{}); err != nil {
		t.Fatal(err)
	}
	var u *UnsafeTargetError
	if err := GuardWrite(d, "", SysRoot{}); !errors.As(err, &u) || u.Found != "held" || !strings.Contains(err.Error(), "it backs loop device "+dev) {
		t.Errorf("renamed backing file: %v", err)
	}
	// And as two targets, the loop device and the renamed file are one.
	err = checkDistinct([]scenarios.Target{{Name: "file", Path: moved}, {Name: "loop", Path: dev}}, SysRoot{})
	if err == nil || !strings.Contains(err.Error(), "is a loop device over") {
		t.Errorf("loop device and its renamed backing file: %v", err)
	}
	// Mounted: the message says where.
	run(t, "mkfs.ext4", "-q", "-F", dev)
	mnt := mount(t, dev)
	if err := GuardWrite(d, "", SysRoot{}); err == nil || !strings.Contains(err.Error(), "it backs loop device "+dev+" (mounted at "+mnt+")") {
		t.Errorf("mounted: %v", err)
	}
}

// TestGuardStackedLoopRoot: loop A over a file, loop B over A, B mounted.
// A is held, and --destroy-data naming A does not change that.
func TestGuardStackedLoopRoot(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount", "umount")
	a := newLoop(t, nil, false)
	run(t, "mkfs.ext4", "-q", "-F", a)
	b := attachLoop(t, a)
	mnt := mount(t, b)
	d, err := ProbeDevice(a, SysRoot{})
	if err != nil {
		t.Fatal(err)
	}
	for _, destroy := range []string{"", a} {
		err := GuardWrite(d, destroy, SysRoot{})
		var u *UnsafeTargetError
		if !errors.As(err, &u) || u.Found != "held" || !strings.Contains(err.Error(), "it backs loop device "+b+" (mounted at "+mnt+")") {
			t.Errorf("destroy %q: %v", destroy, err)
		}
		if destroy != "" && !strings.Contains(err.Error(), "--destroy-data never overrides that") {
			t.Errorf("destroy %q: the message does not say --destroy-data cannot override: %v", destroy, err)
		}
	}
	// A device and a link to it, as udev makes in /dev/disk/by-*.
	link := filepath.Join(t.TempDir(), "by-id-lbsafe")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	err = checkDistinct([]scenarios.Target{{Name: "dev", Path: a}, {Name: "link", Path: link}}, SysRoot{})
	if err == nil || !strings.Contains(err.Error(), "are the same file or device: both resolve to "+a) {
		t.Errorf("device and a link to it: %v", err)
	}
	// Loop A and its backing file as two targets are one.
	img := sysBackingFile(t, a)
	err = checkDistinct([]scenarios.Target{{Name: "file", Path: img}, {Name: "upper", Path: b}}, SysRoot{})
	if err == nil || !strings.Contains(err.Error(), "is a loop device over "+a+" over "+img) {
		t.Errorf("loop over loop over file: %v", err)
	}
}

// TestGuardLowerInUseRoot: loop A over a file, ext4 on A mounted, loop B
// over A. Writing B writes A's mounted filesystem: B is refused, even with
// --destroy-data naming it. A second loop over the same file is refused as
// long as the first is mounted.
func TestGuardLowerInUseRoot(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount", "umount")
	a := newLoop(t, nil, false)
	run(t, "mkfs.ext4", "-q", "-F", a)
	mnt := mount(t, a)
	b := attachLoop(t, a)
	c := attachLoop(t, sysBackingFile(t, a))
	for _, tt := range []struct{ dev, want string }{
		// B over A: A is mounted.
		{b, "it is built on " + filepath.Base(a) + " (mounted at " + mnt + ")"},
		// C over A's backing file: that file also backs A, mounted.
		{c, "it is built on " + sysBackingFile(t, a) + " (also backs loop device " + a + " (mounted at " + mnt + "; backs loop device " + b},
	} {
		d, err := ProbeDevice(tt.dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		err = GuardWrite(d, tt.dev, SysRoot{})
		var u *UnsafeTargetError
		if !errors.As(err, &u) || u.Found != "held" || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--destroy-data never overrides that") {
			t.Errorf("%s:\ngot  %v\nwant %s", tt.dev, err, tt.want)
		}
	}
}

// sysBackingFile is the backing file of loop device dev, from sysfs.
func sysBackingFile(t *testing.T, dev string) string {
	t.Helper()
	b := readAttr("/sys/block/" + filepath.Base(dev) + "/loop/backing_file")
	if b == "" {
		t.Fatalf("%s has no backing_file in sysfs", dev)
	}
	return b
}

// attachLoop attaches a new loop device over backing (a file or a block
// device) and detaches it by name when the test ends.
func attachLoop(t *testing.T, backing string) string {
	t.Helper()
	dev := run(t, "losetup", "-f", "--show", backing)
	t.Cleanup(func() { run(t, "losetup", "-d", dev) })
	return dev
}

// TestRAMBacked covers the targets that get the "measures memory" warning.
func TestRAMBacked(t *testing.T) {
	disk := filepath.Join(diskTempDir(t), "lun.img")
	if err := CreateSparse(disk, 1<<20); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    Device
		want string
	}{
		// A zram device (the DESIGN's null-ish device).
		{"zram", Device{Kind: KindBlock, KernelName: "zram0"}, "zram0 (a RAM disk)"},
		// brd's RAM disk.
		{"brd", Device{Kind: KindBlock, KernelName: "ram3"}, "ram3 (a RAM disk)"},
		// A SCSI disk whose name merely starts like one.
		{"ramdisk-like name", Device{Kind: KindBlock, KernelName: "ramx"}, ""},
		// A LUN.
		{"lun", Device{Kind: KindBlock, KernelName: "sdf"}, ""},
		// A file on a disk filesystem.
		{"disk file", Device{Kind: KindFile, Path: disk, Resolved: disk}, ""},
		// A file on a filesystem on zram.
		{"file on zram", Device{Kind: KindFile, Path: disk, Resolved: disk, KernelName: "zram1"}, "a filesystem on zram1 (a RAM disk)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RAMBacked(tt.d, SysRoot{}); got != tt.want {
				t.Errorf("RAMBacked = %q, want %q", got, tt.want)
			}
		})
	}
	// /dev/shm is tmpfs on most systems: no root needed to try a file there.
	if fs, _ := ramFS("/dev/shm", SysRoot{}); fs == "tmpfs" {
		f, err := os.CreateTemp("/dev/shm", "lbsafe-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		defer os.Remove(f.Name())
		d := Device{Kind: KindFile, Path: f.Name(), Resolved: f.Name()}
		if got := RAMBacked(d, SysRoot{}); got != "tmpfs at /dev/shm" {
			t.Errorf("file on /dev/shm: RAMBacked = %q", got)
		}
	}
}
