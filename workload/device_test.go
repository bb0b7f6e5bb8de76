package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// diskTempDir is a temporary directory on a real disk filesystem: O_DIRECT
// tests need one, and t.TempDir may be on tmpfs.
func diskTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil && (fs.Type == unix.TMPFS_MAGIC || fs.Type == unix.RAMFS_MAGIC) {
		d, err := os.MkdirTemp("/var/tmp", "lunbench-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	return dir
}

func fixture(name string) SysRoot { return SysRoot{Root: filepath.Join("testdata", "safety", name)} }

func TestProbeDeviceFile(t *testing.T) {
	dir := diskTempDir(t)
	file := filepath.Join(dir, "lun.img")
	if err := CreateSparse(file, 8<<20); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "lun-link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	d, err := ProbeDevice(link, SysRoot{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(file)
	if d.Path != link || d.Resolved != want || d.Kind != KindFile || d.Size != 8<<20 {
		t.Errorf("got path %q resolved %q kind %q size %d; want %q %q file %d", d.Path, d.Resolved, d.Kind, d.Size, link, want, 8<<20)
	}
	if lb := d.LogicalBlock; lb < 512 || lb&(lb-1) != 0 || d.PhysicalBlock < lb {
		t.Errorf("block sizes logical %d physical %d", lb, d.PhysicalBlock)
	}
	// The filesystem's device, when sysfs knows it, gives the block size.
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/sys/dev/block", devNum(st.Dev))); err == nil && d.KernelName == "" {
		t.Errorf("no kernel name for the filesystem's device %s", devNum(st.Dev))
	}
}

func devNum(dev uint64) string { return fmt.Sprintf("%d:%d", unix.Major(dev), unix.Minor(dev)) }

func TestProbeDeviceFixture(t *testing.T) {
	tests := []struct {
		name string
		sys  SysRoot
		path string
		want Device
	}{
		// An iSCSI LUN's SCSI disk: identity from the SCSI device,
		// serial from VPD page 0x80, 4K physical blocks.
		{"scsi disk", fixture("held"), "/dev/sdf", Device{
			Path: "/dev/sdf", Resolved: "/dev/sdf", Kind: KindBlock, Size: 1 << 30,
			LogicalBlock: 512, PhysicalBlock: 4096, Major: 8, Minor: 80, KernelName: "sdf",
			Vendor: "LIO-ORG", Model: "lun0", Rev: "4.0", Serial: "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90",
			WWID: "naa.6001405a1b2c3d4e5f60718293a4b5c6", Rotational: true}},
		// A multipath map named by its /dev/mapper link: resolved to
		// dm-0, WWID from the map's uuid.
		{"multipath map", fixture("held"), "/dev/mapper/mpatha", Device{
			Path: "/dev/mapper/mpatha", Resolved: "/dev/dm-0", Kind: KindBlock, Size: 1 << 30,
			LogicalBlock: 512, PhysicalBlock: 4096, Major: 254, Minor: 0, KernelName: "dm-0",
			WWID: "36001405a1b2c3d4e5f60718293a4b5c6", DMName: "mpatha", DMUUID: "mpath-36001405a1b2c3d4e5f60718293a4b5c6"}},
		// A loop device as losetup leaves it.
		{"loop", fixture("loop"), "/dev/loop3", Device{
			Path: "/dev/loop3", Resolved: "/dev/loop3", Kind: KindBlock, Size: 64 << 20,
			LogicalBlock: 512, PhysicalBlock: 512, Major: 7, Minor: 3, KernelName: "loop3"}},
		// A partition has no queue of its own: its disk's block sizes.
		{"partition", fixture("loop"), "/dev/loop4p1", Device{
			Path: "/dev/loop4p1", Resolved: "/dev/loop4p1", Kind: KindBlock, Size: 129024 * 512,
			LogicalBlock: 512, PhysicalBlock: 512, Major: 259, Minor: 0, KernelName: "loop4p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProbeDevice(tt.path, tt.sys)
			if err != nil {
				t.Fatal(err)
			}
			got.file, got.sys = "", SysRoot{}
			if got != tt.want {
				t.Errorf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestProbeDeviceErrors(t *testing.T) {
	dir := t.TempDir()
	empty := copyTree(t, filepath.Join("testdata", "safety", "loop"))
	if err := os.WriteFile(filepath.Join(empty, "sys/devices/virtual/block/loop3/size"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sys      SysRoot
		path     string
		want     string
		notExist bool
	}{
		// A device that is not there: one line naming it.
		{"missing device", fixture("held"), "/dev/sdz", "/dev/sdz: no such file or directory", true},
		// A dangling /dev/mapper link counts as missing too.
		{"missing map", fixture("held"), "/dev/mapper/mpathz", "/dev/mapper/mpathz: no such file or directory", true},
		// A missing file on the live system.
		{"missing file", SysRoot{}, filepath.Join(dir, "nope.img"), filepath.Join(dir, "nope.img") + ": no such file or directory", true},
		// A directory is neither kind of target (ErrNotTarget: exit 2).
		{"directory", SysRoot{}, dir, dir + ": is a directory, not a regular file or block device", false},
		// Character devices are not block devices; the message says
		// which one (ErrNotTarget: exit 2).
		{"char device", SysRoot{}, "/dev/null", "/dev/null: is a character device (1:3), not a regular file or block device", false},
		// A detached loop device (or a LUN with no capacity) has size 0.
		{"size 0", SysRoot{Root: empty}, "/dev/loop3", "/dev/loop3: block device has size 0 (no medium, a LUN with no capacity, or a detached loop device)", false},
		// Nothing at all.
		{"empty", SysRoot{}, "", "empty target path", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ProbeDevice(tt.path, tt.sys)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v", !tt.notExist)
			}
		})
	}
}

func TestDeviceJSON(t *testing.T) {
	d, err := ProbeDevice("/dev/mapper/mpatha", fixture("held"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"path":`, `"resolved":"/dev/dm-0"`, `"kind":"block"`, `"logical_block":512`,
		`"physical_block":4096`, `"kernel_name":"dm-0"`, `"dm_name":"mpatha"`, `"wwid":`, `"rotational":false`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
}

func TestOpenTargetFile(t *testing.T) {
	file := filepath.Join(diskTempDir(t), "lun.img")
	if err := CreateSparse(file, 1<<20); err != nil {
		t.Fatal(err)
	}
	d, err := ProbeDevice(file, SysRoot{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := OpenTarget(d, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	out := directio.AlignedBlock(4096)
	for i := range out {
		out[i] = byte(i * 7)
	}
	if _, err := w.WriteAt(out, 8192); err != nil {
		t.Fatal(err)
	}
	r, err := OpenTarget(d, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := directio.AlignedBlock(4096)
	if _, err := r.ReadAt(in, 8192); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, out) {
		t.Error("read back differs from what was written")
	}
	// The read-only descriptor refuses writes: it really is O_RDONLY.
	if _, err := r.WriteAt(out, 0); err == nil {
		t.Error("read-only open accepted a write")
	}
}

func TestOpenTargetErrors(t *testing.T) {
	probe := func(sys SysRoot, p string) Device {
		d, err := ProbeDevice(p, sys)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	file := Device{Path: "/dev/shm/lun.img", Resolved: "/dev/shm/lun.img", Kind: KindFile}
	tests := []struct {
		name   string
		d      Device
		write  bool
		err    error
		want   string
		unsafe bool // an *UnsafeTargetError
	}{
		// EBUSY on an O_EXCL open: say what holds the device.
		{"busy held", probe(fixture("held"), "/dev/sdf"), true, unix.EBUSY,
			"refusing to write /dev/sdf: device is in use (mounted or held by another driver: holders dm-0 (mpatha))", true},
		// EBUSY because a partition is mounted.
		{"busy mounted partition", probe(fixture("loop"), "/dev/loop4"), true, unix.EBUSY,
			"refusing to write /dev/loop4: device is in use (mounted or held by another driver: mounted at /mnt/bench data (loop4p1))", true},
		// EBUSY with nothing to show: another program has it open O_EXCL.
		{"busy unknown", probe(fixture("loop"), "/dev/loop3"), true, unix.EBUSY,
			"refusing to write /dev/loop3: device is in use (mounted, held by another driver, or opened exclusively by another program)", true},
		// tmpfs (before Linux 6.6) refuses O_DIRECT with EINVAL.
		{"no O_DIRECT", file, false, unix.EINVAL,
			"/dev/shm/lun.img: O_DIRECT not supported on this filesystem (tmpfs?); put the file on ext4/xfs: invalid argument", false},
		// A write-protected LUN.
		{"read-only", probe(fixture("held"), "/dev/mapper/mpatha"), true, unix.EROFS,
			"/dev/mapper/mpatha (dm-0): cannot open for writing: the device is read-only (a write-protected LUN or a read-only mount): read-only file system", false},
		// Not root.
		{"permission", probe(fixture("loop"), "/dev/loop3"), false, unix.EACCES,
			"/dev/loop3: permission denied (block devices need root or the disk group): permission denied", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openError(tt.d, tt.write, &fs.PathError{Op: "open", Path: tt.d.Path, Err: tt.err})
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
			var u *UnsafeTargetError
			if errors.As(err, &u) != tt.unsafe {
				t.Errorf("errors.As UnsafeTargetError = %v", !tt.unsafe)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
		})
	}
}

func TestCreateSparse(t *testing.T) {
	dir := t.TempDir()
	existing := func(size int64) string {
		p := filepath.Join(dir, "existing")
		os.Remove(p)
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		path     func() string
		size     int64
		wantErr  string // substring; "" for success
		tooSmall bool
		wantSize int64 // the file's size afterwards
	}{
		// A new file gets exactly the size, without allocated blocks.
		{"new", func() string { return filepath.Join(dir, "new.img") }, 64 << 20, "", false, 64 << 20},
		// A big enough existing file is left alone (not truncated).
		{"existing larger", func() string { return existing(8192) }, 4096, "", false, 8192},
		// A smaller one is not grown: the caller decides.
		{"existing smaller", func() string { return existing(4096) }, 8192, "is 4096 bytes but 8192 are needed", true, 4096},
		// A missing directory is reported with the path.
		{"no directory", func() string { return filepath.Join(dir, "missing", "x.img") }, 4096, "missing/x.img: no such file or directory", false, -1},
		// A directory is not a file target.
		{"directory", func() string { return dir }, 4096, "exists and is not a regular file", false, -1},
		// Size must be positive.
		{"zero size", func() string { return filepath.Join(dir, "zero.img") }, 0, "size must be positive", false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path()
			err := CreateSparse(p, tt.size)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrFileTooSmall) != tt.tooSmall {
				t.Errorf("errors.Is(err, ErrFileTooSmall) = %v", !tt.tooSmall)
			}
			if tt.wantSize < 0 {
				return
			}
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err != nil {
				t.Fatal(err)
			}
			if st.Size != tt.wantSize {
				t.Errorf("size %d, want %d", st.Size, tt.wantSize)
			}
			if tt.name == "new" && st.Blocks != 0 {
				t.Errorf("new file has %d blocks allocated, want a sparse file", st.Blocks)
			}
		})
	}
}
