package collect

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Role says why a device is sampled for a target.
type Role string

// The roles of a sampled device.
const (
	RoleLUN  Role = "lun"  // the block device the target names (or the map it resolves to)
	RolePath Role = "path" // a device below it: a multipath leg, an LVM physical volume
	RoleFS   Role = "fs"   // the device holding a file target's (or a loop backing file's) filesystem
)

// Member is one block device sampled for a target.
type Member struct {
	Name   string `json:"name"`   // kernel name, as in /proc/diskstats: dm-4, sdf
	MajMin string `json:"majmin"` // 253:4
	Role   Role   `json:"role"`
}

// Resolved is a target argument traced down to the block devices that carry
// its I/O.
type Resolved struct {
	Arg    string `json:"arg"`
	Name   string `json:"name"` // the device sampled for the target itself
	MajMin string `json:"majmin"`
	Kind   string `json:"kind"` // multipath, lvm, dm, iscsi, scsi, virtio, nvme, loop, ...
	Role   Role   `json:"role"` // RoleLUN for a block device, RoleFS for a file
	// Partition is the partition the argument named; Name is its disk.
	Partition string `json:"partition,omitempty"`
	// File is the regular file (or directory) the argument named.
	File string `json:"file,omitempty"`
	// Backing is a loop device's backing file.
	Backing string `json:"backing,omitempty"`
	// Members lists Name first, then every device below it (role path), then
	// for a loop device the filesystem device of its backing file (role fs).
	Members []Member `json:"members"`
}

// Resolve traces a target to its block devices. It accepts /dev/mapper/NAME,
// /dev/disk/by-*/... links, /dev/dm-N, /dev/sdX, partitions (sampled as
// their disk), loop devices, regular files or directories (sampled as the
// device of their filesystem, found from st_dev via /sys/dev/block), a file
// that does not exist yet (its nearest existing parent's filesystem), and
// bare kernel or dm names (sdf, dm-4, mpatha).
func (h Host) Resolve(arg string) (Resolved, error) {
	r := Resolved{Arg: arg}
	name, file, err := h.blockName(arg)
	if err != nil {
		return r, fmt.Errorf("resolve %s: %w", arg, err)
	}
	r.File = file
	r.Role = RoleLUN
	if file != "" {
		r.Role = RoleFS
	}
	if disk := h.partitionDisk(name); disk != "" {
		r.Partition, name = name, disk
	}
	r.Name = name
	r.MajMin = h.attr("/sys/class/block/" + name + "/dev")
	r.Kind = h.kind(name)
	r.Members = []Member{{Name: name, MajMin: r.MajMin, Role: r.Role}}
	seen := map[string]bool{name: true}
	h.addBelow(&r.Members, seen, name, RolePath)
	if r.Kind == "loop" {
		r.Backing = h.attr("/sys/block/" + name + "/loop/backing_file")
		// A backing file that cannot be traced (deleted, or absent from a
		// fixture tree) only costs the fs rows, not the target.
		if fsdev, err := h.backingDevice(r.Backing); err == nil {
			if disk := h.partitionDisk(fsdev); disk != "" {
				fsdev = disk
			}
			if !seen[fsdev] {
				seen[fsdev] = true
				r.Members = append(r.Members, Member{Name: fsdev, MajMin: h.attr("/sys/class/block/" + fsdev + "/dev"), Role: RoleFS})
				h.addBelow(&r.Members, seen, fsdev, RoleFS)
			}
		}
	}
	return r, nil
}

// addBelow appends the slaves of name, recursively (LVM on multipath is two
// levels), with partitions replaced by their disks.
func (h Host) addBelow(ms *[]Member, seen map[string]bool, name string, role Role) {
	for _, s := range h.slaves(name) {
		if disk := h.partitionDisk(s); disk != "" {
			s = disk
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		*ms = append(*ms, Member{Name: s, MajMin: h.attr("/sys/class/block/" + s + "/dev"), Role: role})
		h.addBelow(ms, seen, s, role)
	}
}

// slaves lists /sys/class/block/NAME/slaves in natural order.
func (h Host) slaves(name string) []string {
	s := h.list("/sys/class/block/" + name + "/slaves")
	sort.Slice(s, func(i, j int) bool { return natLess(s[i], s[j]) })
	return s
}

// blockName finds the kernel name of the block device behind arg; file is
// set when arg is a file or directory, whose filesystem device is returned.
func (h Host) blockName(arg string) (name, file string, err error) {
	if arg == "" {
		return "", "", errors.New("empty device name")
	}
	if !strings.Contains(arg, "/") {
		if h.exists("/sys/class/block/" + arg) {
			return arg, "", nil
		}
		if dm := h.dmByName(arg); dm != "" {
			return dm, "", nil
		}
	}
	p, err := h.abs(arg)
	if err != nil {
		return "", "", err
	}
	fp := h.evalLinks(p)
	var st unix.Stat_t
	err = unix.Stat(h.p(fp), &st)
	switch {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK:
		name, err = h.nameOf(unix.Major(st.Rdev), unix.Minor(st.Rdev))
		return name, "", err
	case err == nil && (st.Mode&unix.S_IFMT == unix.S_IFREG || st.Mode&unix.S_IFMT == unix.S_IFDIR) && !strings.HasPrefix(fp, "/dev/"):
		name, err = h.fsDevice(st.Dev)
		return name, fp, err
	case strings.HasPrefix(fp, "/dev/"):
		// Fixture trees hold /dev symlinks but no device nodes: the link
		// target's name is the kernel name.
		if base := path.Base(fp); h.exists("/sys/class/block/" + base) {
			return base, "", nil
		}
		if err == nil {
			return "", "", fmt.Errorf("%s is not a block device", fp)
		}
		return "", "", fmt.Errorf("no block device %s", fp)
	case errors.Is(err, unix.ENOENT):
		// A file target that does not exist yet will live on the
		// filesystem of its nearest existing parent.
		for dir := path.Dir(fp); ; dir = path.Dir(dir) {
			if unix.Stat(h.p(dir), &st) == nil {
				name, err = h.fsDevice(st.Dev)
				return name, fp, err
			}
			if dir == "/" {
				break
			}
		}
		return "", "", fmt.Errorf("no such file or device %s", fp)
	case err != nil:
		return "", "", err
	}
	return "", "", fmt.Errorf("%s is neither a block device nor a file", fp)
}

// abs makes a relative argument absolute: against the working directory
// on the live system, against Root in a fixture tree.
func (h Host) abs(p string) (string, error) {
	switch {
	case path.IsAbs(p):
		return p, nil
	case h.live():
		return filepath.Abs(p)
	}
	return "/" + p, nil
}

// nameOf maps a device number to its kernel name via /sys/dev/block.
func (h Host) nameOf(major, minor uint32) (string, error) {
	l, err := os.Readlink(h.p(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)))
	if err != nil {
		return "", fmt.Errorf("block device %d:%d: %w", major, minor, err)
	}
	return path.Base(l), nil
}

// backingDevice is the block device holding the filesystem of the file at p.
func (h Host) backingDevice(p string) (string, error) {
	if p == "" {
		return "", errors.New("no backing file")
	}
	var st unix.Stat_t
	if err := unix.Stat(h.p(p), &st); err != nil {
		return "", err
	}
	return h.fsDevice(st.Dev)
}

// fsDevice maps a filesystem's st_dev to a block device. Filesystems such as
// btrfs report an anonymous device number; for those the mount's source in
// /proc/self/mountinfo names the device instead.
func (h Host) fsDevice(dev uint64) (string, error) {
	major, minor := unix.Major(dev), unix.Minor(dev)
	if name, err := h.nameOf(major, minor); err == nil {
		return name, nil
	}
	f, err := os.Open(h.p("/proc/self/mountinfo"))
	if err != nil {
		return "", fmt.Errorf("filesystem on %d:%d has no block device", major, minor)
	}
	defer f.Close()
	want := fmt.Sprintf("%d:%d", major, minor)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:45 / /mnt rw - btrfs /dev/sdb1 rw  (proc(5))
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[2] != want {
			continue
		}
		for i, f := range fields {
			if f == "-" && i+2 < len(fields) {
				fstype, src := fields[i+1], fields[i+2]
				if strings.HasPrefix(src, "/dev/") {
					if name, _, err := h.blockName(src); err == nil {
						return name, nil
					}
				}
				return "", fmt.Errorf("filesystem %s from %q has no block device", fstype, src)
			}
		}
	}
	return "", fmt.Errorf("filesystem on %d:%d has no block device", major, minor)
}

// partitionDisk returns the disk of a partition, "" if name is no partition.
func (h Host) partitionDisk(name string) string {
	if !h.exists("/sys/class/block/" + name + "/partition") {
		return ""
	}
	rp, err := h.realpath("/sys/class/block/" + name)
	if err != nil {
		return ""
	}
	return path.Base(path.Dir(rp))
}

// dmByName finds the dm-N whose device-mapper name is name.
func (h Host) dmByName(name string) string {
	for _, d := range h.list("/sys/block") {
		if strings.HasPrefix(d, "dm-") && h.attr("/sys/block/"+d+"/dm/name") == name {
			return d
		}
	}
	return ""
}

// kind classifies a block device for people: the driver family, and for
// device-mapper the target type its uuid prefix announces.
func (h Host) kind(name string) string {
	switch {
	case strings.HasPrefix(name, "dm-"):
		uuid := h.attr("/sys/class/block/" + name + "/dm/uuid")
		switch {
		case strings.HasPrefix(uuid, "mpath-"):
			return "multipath"
		case strings.HasPrefix(uuid, "LVM-"):
			return "lvm"
		case strings.HasPrefix(uuid, "CRYPT-"):
			return "crypt"
		case strings.HasPrefix(uuid, "part"):
			return "dm-partition"
		}
		return "dm"
	case strings.HasPrefix(name, "sd"):
		if h.sessionOf(name) != "" {
			return "iscsi"
		}
		return "scsi"
	case strings.HasPrefix(name, "vd"):
		return "virtio"
	case strings.HasPrefix(name, "nvme"):
		return "nvme"
	case strings.HasPrefix(name, "xvd"):
		return "xen"
	case strings.HasPrefix(name, "mmcblk"):
		return "mmc"
	}
	for _, k := range []string{"loop", "zram", "md", "nbd", "rbd", "sr"} {
		if strings.HasPrefix(name, k) {
			return k
		}
	}
	return "block"
}

// sessionOf returns the iSCSI session a SCSI disk hangs under, read from
// its device path: /sys/devices/platform/host10/session3/target10:0:0/10:0:0:12/block/sdf.
func (h Host) sessionOf(name string) string {
	rp, err := h.realpath("/sys/class/block/" + name)
	if err != nil {
		return ""
	}
	for _, c := range strings.Split(rp, "/") {
		if n, ok := strings.CutPrefix(c, "session"); ok && n != "" && digitPrefix(n) == len(n) {
			return c
		}
	}
	return ""
}

// sizeBytes reads a block device's size (sysfs counts 512-byte sectors
// whatever the logical block size).
func (h Host) sizeBytes(name string) uint64 {
	n, _ := strconv.ParseUint(h.attr("/sys/class/block/"+name+"/size"), 10, 64)
	return n * 512
}
