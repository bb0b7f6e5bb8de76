package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// SysRoot says where /sys, /proc and /dev are read from. The zero value (or
// Root "/") is the running system. Tests point Root at a fixture tree laid
// out like the real one (see testdata/safety); under such a root, target
// paths below /dev are looked up inside the tree as well, so a fixture never
// leads lunbench to a real device. Other target paths (plain files) are
// always the real ones.
type SysRoot struct {
	Root string
}

// live reports whether s is the running system rather than a fixture.
func (s SysRoot) live() bool { return s.Root == "" || s.Root == "/" }

// path maps a host-absolute path ("/sys/dev/block") to where it is read.
func (s SysRoot) path(abs string) string {
	if s.live() {
		return abs
	}
	return filepath.Join(s.Root, abs)
}

// target maps a (resolved, absolute) target path to the file to stat and
// open: fixture /dev entries live inside the root, files never do.
func (s SysRoot) target(p string) string {
	if !s.live() && strings.HasPrefix(path.Clean(p), "/dev/") {
		return s.path(p)
	}
	return p
}

// attr returns a sysfs attribute without its trailing newline and the
// space padding SCSI puts in vendor and model; "" if it is missing.
func (s SysRoot) attr(abs string) string { return readAttr(s.path(abs)) }

func readAttr(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// resolve returns p with every symlink resolved. Fixture /dev links are
// followed inside the root, with absolute link targets taken as relative to
// it, the way the kernel would see them on the real host.
func (s SysRoot) resolve(p string) (string, error) {
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		p = abs
	}
	if s.live() || !strings.HasPrefix(path.Clean(p), "/dev/") {
		return filepath.EvalSymlinks(p)
	}
	return s.FollowLinks(p, false)
}

// FollowLinks follows the symlinks in the absolute path p component by
// component, the way the kernel would, but confined to the root: an
// absolute link target restarts at the root, not at the real "/". A
// component that does not exist is an error, unless keepMissing is set:
// then it is kept as it is, which lets /dev/mapper/NAME -> ../dm-4 resolve
// in a fixture tree without device nodes. After 40 links it gives up: with
// ELOOP, or with keepMissing where it got to.
func (s SysRoot) FollowLinks(p string, keepMissing bool) (string, error) {
	p = path.Clean("/" + p)
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		cur, changed := "/", false
		for i, part := range parts {
			next := path.Join(cur, part)
			link, err := os.Readlink(s.path(next))
			if err != nil {
				if !keepMissing {
					if _, serr := os.Lstat(s.path(next)); serr != nil {
						return "", serr
					}
				}
				cur = next
				continue
			}
			if !path.IsAbs(link) {
				link = path.Join(cur, link)
			}
			p = path.Join(append([]string{link}, parts[i+1:]...)...)
			changed = true
			break
		}
		if !changed {
			return p, nil
		}
	}
	if keepMissing {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", p, syscall.ELOOP)
}

// DeviceKind says whether a target is a regular file or a block device.
type DeviceKind string

// The kinds of target.
const (
	KindFile  DeviceKind = "file"
	KindBlock DeviceKind = "block"
)

// Device is what lunbench knows about a target path: what it resolves to,
// its size and block sizes, and the identity sysfs gives the device. For a
// file target, the sysfs facts (Major, Minor, KernelName, block sizes,
// Vendor...) describe the block device holding its filesystem when one can
// be found; Size is always the file's own.
type Device struct {
	// Path is the target as the user named it (/dev/mapper/mpatha).
	Path string `json:"path"`
	// Resolved is Path with symlinks resolved (/dev/dm-4, /dev/loop3, a file).
	Resolved string     `json:"resolved"`
	Kind     DeviceKind `json:"kind"`
	// Size is in bytes: st_size for files, BLKGETSIZE64 for block devices.
	Size          int64 `json:"size"`
	LogicalBlock  int64 `json:"logical_block"`
	PhysicalBlock int64 `json:"physical_block"`
	// Major and Minor are the block device's number (for files: of the
	// device under the filesystem, or st_dev if there is none).
	Major      uint32 `json:"major"`
	Minor      uint32 `json:"minor"`
	KernelName string `json:"kernel_name,omitempty"` // sdf, dm-4, loop3
	Vendor     string `json:"vendor,omitempty"`
	Model      string `json:"model,omitempty"`
	Rev        string `json:"rev,omitempty"`
	Serial     string `json:"serial,omitempty"`
	// WWID is the SCSI/NVMe world-wide id; for a multipath map, the id of
	// its LUN (taken from the map's uuid).
	WWID       string `json:"wwid,omitempty"`
	DMName     string `json:"dm_name,omitempty"`
	DMUUID     string `json:"dm_uuid,omitempty"`
	Rotational bool   `json:"rotational"`

	// file is where the target is opened on this machine: Resolved, or
	// its place inside a fixture root.
	file string
	sys  SysRoot
}

// display names the device for messages: the user's path, with the kernel
// name added when the path does not show it (/dev/mapper/mpatha (dm-4)).
func (d Device) display() string {
	if d.Kind == KindBlock && d.KernelName != "" && path.Base(d.Path) != d.KernelName {
		return fmt.Sprintf("%s (%s)", d.Path, d.KernelName)
	}
	return d.Path
}

// openPath is the file to open for d. Devices built by hand (not by
// ProbeDevice) are opened at Resolved, else at Path.
func (d Device) openPath() string {
	switch {
	case d.file != "":
		return d.file
	case d.Resolved != "":
		return d.Resolved
	}
	return d.Path
}

// ProbeDevice finds out what path is: a regular file or a block device, its
// size, block sizes and sysfs identity. Errors name the path and say what is
// wrong with it ("/dev/sdz: no such file or directory").
func ProbeDevice(p string, sys SysRoot) (Device, error) {
	d := Device{Path: p, sys: sys}
	if p == "" {
		return d, errors.New("empty target path")
	}
	res, err := sys.resolve(p)
	if err != nil {
		return d, fmt.Errorf("%s: %w", p, bareErr(err))
	}
	d.Resolved = res
	d.file = sys.target(res)
	var st unix.Stat_t
	if err := unix.Stat(d.file, &st); err != nil {
		return d, fmt.Errorf("%s: %w", p, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		d.Kind = KindBlock
		d.Major, d.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
		if err := d.probeBlock(sys); err != nil {
			return d, err
		}
	case unix.S_IFREG:
		if name := path.Base(res); !sys.live() && strings.HasPrefix(res, "/dev/") && fileExists(sys.path("/sys/class/block/"+name)) {
			// A fixture holds no device nodes: a plain file at
			// /dev/NAME stands for the block device sysfs describes.
			d.Kind = KindBlock
			maj, mi, ok := parseDevNum(sys.attr("/sys/class/block/" + name + "/dev"))
			if !ok {
				return d, fmt.Errorf("%s: no device number in sysfs for %s", p, name)
			}
			d.Major, d.Minor = maj, mi
			if err := d.probeBlock(sys); err != nil {
				return d, err
			}
			break
		}
		d.Kind = KindFile
		d.Size = st.Size
		d.Major, d.Minor = unix.Major(st.Dev), unix.Minor(st.Dev)
		d.probeFileDevice(sys)
	case unix.S_IFDIR:
		return d, fmt.Errorf("%s: is a directory, %w", p, ErrNotTarget)
	case unix.S_IFCHR:
		return d, fmt.Errorf("%s: is a character device (%d:%d), %w", p, unix.Major(st.Rdev), unix.Minor(st.Rdev), ErrNotTarget)
	default:
		return d, fmt.Errorf("%s: is a %s, %w", p, fileTypeName(st.Mode), ErrNotTarget)
	}
	return d, nil
}

// ErrNotTarget is why a path that exists cannot be a target: lunbench
// drives I/O against regular files and block devices only.
var ErrNotTarget = errors.New("not a regular file or block device")

// fileTypeName names the kinds of file ErrNotTarget is about.
func fileTypeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "named pipe"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "special file"
}

// probeBlock fills in a block device's facts from sysfs, falling back to
// ioctls on the device itself for the sizes.
func (d *Device) probeBlock(sys SysRoot) error {
	dir, err := filepath.EvalSymlinks(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", d.Major, d.Minor)))
	if err == nil {
		d.KernelName = filepath.Base(dir)
		d.fillSysfs(dir)
	} else {
		d.KernelName = path.Base(d.Resolved)
	}
	var ioctlErr error
	if sys.live() {
		ioctlErr = d.probeIoctl()
	}
	if d.Size == 0 && dir != "" {
		if n, err := strconv.ParseInt(readAttr(filepath.Join(dir, "size")), 10, 64); err == nil {
			// sysfs counts 512-byte sectors whatever the block size.
			d.Size = n * 512
		}
	}
	if d.Size == 0 && ioctlErr != nil {
		return fmt.Errorf("%s: cannot read the device size: %w", d.Path, ioctlErr)
	}
	if d.Size == 0 {
		return fmt.Errorf("%s: block device has size 0 (no medium, a LUN with no capacity, or a detached loop device)", d.Path)
	}
	if d.LogicalBlock == 0 {
		d.LogicalBlock = 512
	}
	if d.PhysicalBlock == 0 {
		d.PhysicalBlock = d.LogicalBlock
	}
	return nil
}

// probeIoctl asks the device itself for its size and, when sysfs had
// nothing, its block sizes.
func (d *Device) probeIoctl() error {
	fd, err := unix.Open(d.file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var n uint64
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.BLKGETSIZE64, uintptr(unsafe.Pointer(&n))); e != 0 {
		return fmt.Errorf("BLKGETSIZE64: %w", e)
	}
	d.Size = int64(n)
	if d.LogicalBlock == 0 {
		if v, err := unix.IoctlGetInt(fd, unix.BLKSSZGET); err == nil && v > 0 {
			d.LogicalBlock = int64(v)
		}
	}
	if d.PhysicalBlock == 0 {
		if v, err := unix.IoctlGetUint32(fd, unix.BLKPBSZGET); err == nil && v > 0 {
			d.PhysicalBlock = int64(v)
		}
	}
	return nil
}

// probeFileDevice finds the block device under a file's filesystem for its
// block sizes. Filesystems with anonymous device numbers (btrfs, overlay)
// are looked up by their mount source instead; failing both, 512 is the
// alignment every O_DIRECT-capable filesystem accepts.
func (d *Device) probeFileDevice(sys SysRoot) {
	dir, err := filepath.EvalSymlinks(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", d.Major, d.Minor)))
	if err != nil {
		want := fmt.Sprintf("%d:%d", d.Major, d.Minor)
		for _, m := range readMountinfo(sys) {
			if m.devnum != want || !strings.HasPrefix(m.source, "/dev/") {
				continue
			}
			res, rerr := sys.resolve(m.source)
			if rerr != nil {
				continue
			}
			var st unix.Stat_t
			if unix.Stat(sys.target(res), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
				d.Major, d.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
				dir, err = filepath.EvalSymlinks(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", d.Major, d.Minor)))
			}
			break
		}
	}
	if err == nil {
		d.KernelName = filepath.Base(dir)
		d.fillSysfs(dir)
	}
	if d.LogicalBlock == 0 {
		d.LogicalBlock = 512
	}
	if d.PhysicalBlock == 0 {
		d.PhysicalBlock = d.LogicalBlock
	}
}

// fillSysfs reads the attributes of the block device whose sysfs directory
// is dir (Documentation/ABI/stable/sysfs-block). A partition has no queue
// or device of its own: those are its disk's, the parent directory.
func (d *Device) fillSysfs(dir string) {
	disk := dir
	if fileExists(filepath.Join(dir, "partition")) {
		disk = filepath.Dir(dir)
	}
	q := filepath.Join(disk, "queue")
	if n, err := strconv.ParseInt(readAttr(filepath.Join(q, "logical_block_size")), 10, 64); err == nil && n > 0 {
		d.LogicalBlock = n
	}
	if n, err := strconv.ParseInt(readAttr(filepath.Join(q, "physical_block_size")), 10, 64); err == nil && n > 0 {
		d.PhysicalBlock = n
	}
	d.Rotational = readAttr(filepath.Join(q, "rotational")) == "1"
	dev := filepath.Join(disk, "device")
	d.Vendor = readAttr(filepath.Join(dev, "vendor"))
	d.Model = readAttr(filepath.Join(dev, "model"))
	d.Rev = readAttr(filepath.Join(dev, "rev"))
	if d.Rev == "" {
		d.Rev = readAttr(filepath.Join(dev, "firmware_rev")) // NVMe
	}
	d.Serial = firstNonEmpty(
		readAttr(filepath.Join(disk, "serial")), // virtio
		readAttr(filepath.Join(dev, "serial")),  // NVMe
		vpdSerial(filepath.Join(dev, "vpd_pg80")),
	)
	d.WWID = firstNonEmpty(readAttr(filepath.Join(dev, "wwid")), readAttr(filepath.Join(disk, "wwid")))
	d.DMName = readAttr(filepath.Join(disk, "dm", "name"))
	d.DMUUID = readAttr(filepath.Join(disk, "dm", "uuid"))
	if d.WWID == "" {
		// multipathd names the map after its LUN: uuid "mpath-<wwid>".
		if w, ok := strings.CutPrefix(d.DMUUID, "mpath-"); ok {
			d.WWID = w
		}
	}
}

// vpdSerial reads the unit serial number from a SCSI VPD page 0x80, which
// is binary: a 4-byte header whose last two bytes are the length.
func vpdSerial(p string) string {
	b, err := os.ReadFile(p)
	if err != nil || len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := int(b[2])<<8 | int(b[3])
	if 4+n > len(b) {
		n = len(b) - 4
	}
	return strings.TrimSpace(strings.TrimRight(string(b[4:4+n]), "\x00"))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// parseDevNum reads a sysfs dev attribute ("8:80").
func parseDevNum(s string) (major, minor uint32, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	ma, err1 := strconv.ParseUint(a, 10, 32)
	mi, err2 := strconv.ParseUint(b, 10, 32)
	return uint32(ma), uint32(mi), err1 == nil && err2 == nil
}

// bareErr strips an *fs.PathError's operation and path down to its errno,
// so that the message names the path once, as the user wrote it.
func bareErr(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// OpenTarget opens d with O_DIRECT: read-only, or read-write when write is
// set. A block device opened for writing is opened with O_EXCL too, so that
// the kernel itself refuses while the device is mounted or held by
// device-mapper, LVM or md; that refusal comes back as an
// *UnsafeTargetError naming what holds it.
func OpenTarget(d Device, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
		if d.Kind == KindBlock {
			flag |= unix.O_EXCL
		}
	}
	f, err := directio.OpenFile(d.openPath(), flag, 0)
	if err != nil {
		return nil, openError(d, write, err)
	}
	return f, nil
}

// openError turns a failed open into one line that says what to do.
func openError(d Device, write bool, err error) error {
	errno := bareErr(err)
	switch {
	case errno == unix.EBUSY && write && d.Kind == KindBlock:
		u := d.usage(d.sys)
		detail := u.describe()
		if detail == "" {
			detail = "mounted, held by another driver, or opened exclusively by another program"
		} else {
			detail = "mounted or held by another driver: " + detail
		}
		return &UnsafeTargetError{Device: d.display(), Reason: "device is in use (" + detail + ")", Found: u.found(), Err: errno}
	case errno == unix.EINVAL && d.Kind == KindBlock:
		return fmt.Errorf("%s: O_DIRECT not supported by this device: %w", d.display(), errno)
	case errno == unix.EINVAL:
		return fmt.Errorf("%s: O_DIRECT not supported on this filesystem (tmpfs?); put the file on ext4/xfs: %w", d.Path, errno)
	case errno == unix.EROFS && write:
		return fmt.Errorf("%s: cannot open for writing: the device is read-only (a write-protected LUN or a read-only mount): %w", d.display(), errno)
	case errno == unix.EACCES || errno == unix.EPERM:
		return fmt.Errorf("%s: permission denied (block devices need root or the disk group): %w", d.display(), errno)
	case errno == unix.ENOENT || errno == unix.ENXIO || errno == unix.ENODEV:
		return fmt.Errorf("%s: device is gone: %w", d.display(), errno)
	}
	return fmt.Errorf("open %s: %w", d.display(), errno)
}

// ErrFileTooSmall is wrapped by CreateSparse's error when the target file
// already exists but is smaller than the scenario needs.
var ErrFileTooSmall = errors.New("existing file is smaller than needed")

// CreateSparse creates a missing file target of size bytes without
// allocating its blocks. An existing regular file is left exactly as it is:
// nil if it is large enough, an error wrapping ErrFileTooSmall if not.
func CreateSparse(p string, size int64) error {
	if size <= 0 {
		return fmt.Errorf("create %s: size must be positive, not %d", p, size)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, bareErr(err))
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: exists and is not a regular file", p)
		}
		if st.Size() < size {
			return fmt.Errorf("%s is %d bytes but %d are needed; lunbench never grows an existing file: %w", p, st.Size(), size, ErrFileTooSmall)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", p, bareErr(err))
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("create %s: set size to %d bytes: %w", p, size, bareErr(err))
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return fmt.Errorf("create %s: %w", p, bareErr(err))
	}
	return nil
}

// mountEntry is one line of /proc/self/mountinfo (proc(5)).
type mountEntry struct {
	devnum, mountpoint, fstype, source string
}

// readMountinfo parses the mount table; a missing one is an empty table.
func readMountinfo(sys SysRoot) []mountEntry {
	f, err := os.Open(sys.path("/proc/self/mountinfo"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		m := mountEntry{devnum: fields[2], mountpoint: unescapeMount(fields[4])}
		for i := 5; i < len(fields); i++ {
			if fields[i] == "-" {
				if i+1 < len(fields) {
					m.fstype = fields[i+1]
				}
				if i+2 < len(fields) {
					m.source = unescapeMount(fields[i+2])
				}
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space) the kernel
// puts in mount points and sources.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
