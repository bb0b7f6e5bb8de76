package workload

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// loopDev is an attached loop device and what backs it.
type loopDev struct {
	name    string // loop3
	backing string // backing_file as sysfs shows it, maybe "... (deleted)"
	// dev and ino are LOOP_GET_STATUS64's lo_device and lo_inode: the
	// backing inode, whatever it is called now; rdev is lo_rdevice, the
	// device number when the backing file is itself a block device. ok is
	// false when the ioctl could not be made (a fixture, no /dev node).
	dev, ino, rdev uint64
	ok             bool
}

// attachedLoops lists the loop devices that have a backing file: those
// with /sys/block/loopN/loop/backing_file (Documentation/ABI/testing/
// sysfs-block-loop). On the running system each is asked for its backing
// inode with LOOP_GET_STATUS64, because a name can be renamed, linked or
// deleted while the loop device keeps the inode.
func attachedLoops(sys SysRoot) []loopDev {
	ents, _ := os.ReadDir(sys.path("/sys/block"))
	var out []loopDev
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		b := sys.attr("/sys/block/" + e.Name() + "/loop/backing_file")
		if b == "" {
			continue
		}
		l := loopDev{name: e.Name(), backing: b}
		if sys.live() {
			l.dev, l.ino, l.rdev, l.ok = loopStatus("/dev/" + e.Name())
		}
		out = append(out, l)
	}
	return out
}

// loopStatus reads a loop device's backing inode with LOOP_GET_STATUS64.
// Opening a loop device read-only changes nothing on it.
func loopStatus(node string) (dev, ino, rdev uint64, ok bool) {
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0, 0, 0, false
	}
	defer unix.Close(fd)
	info, err := unix.IoctlLoopGetStatus64(fd)
	if err != nil {
		return 0, 0, 0, false
	}
	return info.Device, info.Inode, info.Rdevice, true
}

// sameDevNum compares two dev_t values by major and minor, whatever their
// encoding.
func sameDevNum(a, b uint64) bool {
	return unix.Major(a) == unix.Major(b) && unix.Minor(a) == unix.Minor(b)
}

// backs reports whether loop l is backed by the inode st describes: by the
// inode numbers the kernel holds (lo_device, lo_inode), by the device
// number for a block device (lo_rdevice), or by the backing file's name
// as it stands now.
func (l loopDev) backs(st *unix.Stat_t, sys SysRoot) bool {
	blk := st.Mode&unix.S_IFMT == unix.S_IFBLK
	if l.ok {
		if sameDevNum(l.dev, st.Dev) && l.ino == st.Ino {
			return true
		}
		if blk && l.rdev != 0 && sameDevNum(l.rdev, st.Rdev) {
			return true
		}
	}
	var bst unix.Stat_t
	if unix.Stat(sys.target(strings.TrimSuffix(l.backing, " (deleted)")), &bst) != nil {
		return false
	}
	if blk {
		return bst.Mode&unix.S_IFMT == unix.S_IFBLK && sameDevNum(bst.Rdev, st.Rdev)
	}
	// The name as well: on overlayfs the loop device holds the file of the
	// layer below, whose numbers differ from those stat shows through the
	// overlay. A file renamed since is still caught by the numbers above.
	return bst.Dev == st.Dev && bst.Ino == st.Ino
}

// loopsOver returns the loop devices backed by the file or device st
// describes.
func loopsOver(st *unix.Stat_t, sys SysRoot) []loopDev {
	var out []loopDev
	for _, l := range attachedLoops(sys) {
		if l.backs(st, sys) {
			out = append(out, l)
		}
	}
	return out
}

// maxStack bounds the upward walk through devices built on devices; real
// stacks are a handful deep.
const maxStack = 16

// loopUse describes a loop device built on a target and what is built on
// it in turn: "/dev/loop6 (mounted at /mnt/up)".
func loopUse(l loopDev, sys SysRoot, depth int) (desc string, used bool) {
	maj, mi, ok := parseDevNum(sys.attr("/sys/class/block/" + l.name + "/dev"))
	if !ok || depth >= maxStack {
		return "/dev/" + l.name, false
	}
	u := blockUsage(sys, l.name, maj, mi, "", depth+1)
	if d := u.describe(); d != "" {
		return "/dev/" + l.name + " (" + d + ")", true
	}
	return "/dev/" + l.name + " (attached; nothing mounted on it)", false
}

// lowerUse lists what else uses the devices and files that the block
// device name is built on, all the way down: its slaves/ (the disks under
// dm and md) and, for a loop device, its backing file or device. Writing
// name writes them, so a lower device that is mounted, swap or under
// another loop device (or, below a loop device, held by anything), and a
// backing file that another process has locked or another loop device
// uses, make name unsafe too. Each entry is "loop3 (mounted at /srv)".
func lowerUse(sys SysRoot, name string, depth int) []string {
	if name == "" || depth >= maxStack {
		return nil
	}
	var out []string
	// below looks at one lower device. Under dm and md (slaves), other
	// holders are normal, like two logical volumes on one PV, and do not
	// share the blocks written; under a loop device, which claims nothing,
	// any other user of the device is written over.
	below := func(low string, slave bool) {
		maj, mi, ok := parseDevNum(sys.attr("/sys/class/block/" + low + "/dev"))
		if !ok {
			return
		}
		u := blockUsage(sys, low, maj, mi, name, depth+1)
		if slave {
			u.holders = nil
		}
		if d := u.describe(); d != "" {
			out = append(out, low+" ("+d+")")
		}
		out = append(out, lowerUse(sys, low, depth+1)...)
	}
	ents, _ := os.ReadDir(sys.path("/sys/class/block/" + name + "/slaves"))
	for _, e := range ents {
		below(e.Name(), true)
	}
	backing := strings.TrimSuffix(sys.attr("/sys/block/"+name+"/loop/backing_file"), " (deleted)")
	if backing == "" {
		return out
	}
	var st unix.Stat_t
	if unix.Stat(sys.target(backing), &st) != nil {
		return out
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		if l, err := os.Readlink(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)))); err == nil {
			below(path.Base(l), false)
		}
	case unix.S_IFREG:
		var others []string
		for _, l := range loopsOver(&st, sys) {
			if l.name != name {
				desc, _ := loopUse(l, sys, depth+1)
				others = append(others, desc)
			}
		}
		if len(others) > 0 {
			out = append(out, backing+" (also backs loop device "+strings.Join(others, ", ")+")")
		}
		if lock := lockedBy(sys.target(backing), &st, sys); lock != "" {
			out = append(out, backing+" (another process holds "+lock+" on it)")
		}
	}
	return out
}

// guardFile refuses to write a regular file that another part of the
// system is using: one that backs a loop device (writing it rewrites the
// device, under whatever is mounted on it), or one that another process
// holds locked, as QEMU locks its disk images. A file that cannot be
// stat'ed is left to the open to report.
func guardFile(d Device, sys SysRoot) error {
	var st unix.Stat_t
	if unix.Stat(d.openPath(), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if loops := loopsOver(&st, sys); len(loops) > 0 {
		var descs, nodes []string
		for _, l := range loops {
			desc, _ := loopUse(l, sys, 0)
			descs = append(descs, desc)
			nodes = append(nodes, "/dev/"+l.name)
		}
		return &UnsafeTargetError{Device: d.Path, Found: "held",
			Reason: fmt.Sprintf("it backs loop device %s: writing the file rewrites the device and whatever lives on it; unmount it and detach it first (losetup -d %s)",
				strings.Join(descs, ", "), strings.Join(nodes, " "))}
	}
	if lock := lockedBy(d.openPath(), &st, sys); lock != "" {
		return &UnsafeTargetError{Device: d.Path, Found: "locked",
			Reason: fmt.Sprintf("another process holds %s on it (QEMU and other hypervisors lock the disk images they use); stop that process first", lock)}
	}
	return nil
}

// lockedBy says which lock another process holds on the file p, or "".
//
// It asks the kernel by trying, on a descriptor of its own, for what a
// writer would need, rather than by parsing /proc/locks alone (whose
// device numbers overlay and btrfs report differently from stat):
//   - flock(LOCK_EX|LOCK_NB), released at once, finds flock(2) locks, the
//     kind flock(1) and many tools take;
//   - F_OFD_GETLK for a write lock over the whole file finds any
//     conflicting OFD lock (QEMU's image locking: shared locks on single
//     bytes) or classic POSIX lock, and takes none itself.
//
// /proc/locks is then read only to name the holder's PID where it has one.
func lockedBy(p string, st *unix.Stat_t, sys SysRoot) string {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err == unix.EWOULDBLOCK {
		return "a flock() lock" + lockHolders("FLOCK", st, sys)
	} else if err == nil {
		unix.Flock(fd, unix.LOCK_UN)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk); err != nil || lk.Type == unix.F_UNLCK {
		return ""
	}
	kind := map[int16]string{unix.F_RDLCK: "a shared", unix.F_WRLCK: "an exclusive"}[lk.Type]
	if lk.Pid > 0 {
		return fmt.Sprintf("%s POSIX lock (fcntl) from byte %d (pid %d%s)", kind, lk.Start, lk.Pid, procComm(sys, int(lk.Pid)))
	}
	return fmt.Sprintf("%s OFD lock (fcntl F_OFD_SETLK) from byte %d", kind, lk.Start)
}

// lockHolders names the processes /proc/locks lists with a lock of the
// given class ("FLOCK") on the inode: " (pid 4242 flock)".
func lockHolders(class string, st *unix.Stat_t, sys SysRoot) string {
	f, err := os.Open(sys.path("/proc/locks"))
	if err != nil {
		return ""
	}
	defer f.Close()
	// "1: FLOCK  ADVISORY  WRITE 4242 fe:01:1835061 0 EOF" (proc(5)): the
	// device is MAJOR:MINOR in hex, the inode in decimal.
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	var pids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 6 || fl[1] != class || fl[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fl[4]); err == nil && pid > 0 {
			pids = append(pids, "pid "+fl[4]+procComm(sys, pid))
		}
	}
	if len(pids) == 0 {
		return ""
	}
	return " (" + strings.Join(pids, ", ") + ")"
}

// procComm is " name" for a PID, from /proc/PID/comm, or "".
func procComm(sys SysRoot, pid int) string {
	if c := sys.attr(fmt.Sprintf("/proc/%d/comm", pid)); c != "" {
		return " " + c
	}
	return ""
}
