package workload

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"lunbench/scenarios"
)

// Precheck finds what is wrong with a scenario's targets before anything
// is created, opened or written, so that the caller can refuse before it
// makes a results directory: two targets that are one file or device
// (through symlinks, /dev/disk/by-*, or a loop device and its backing
// file), and a missing file that would be created under /dev or on a
// RAM-backed filesystem without allow_ram_backed. Its errors are
// *ConfigError: the scenario is wrong, not the machine.
func Precheck(sc *scenarios.Scenario, sys SysRoot) error {
	if err := checkDistinct(sc.Targets, sys); err != nil {
		return err
	}
	for _, t := range sc.Targets {
		if err := checkCreate(t, sys); err != nil {
			return err
		}
	}
	return nil
}

// at prefixes a message with the target's place in the scenario file.
func at(t scenarios.Target, msg string) string {
	if t.Pos.Line > 0 {
		return t.Pos.String() + ": " + msg
	}
	return msg
}

// checkCreate refuses to create a missing file target under /dev (a
// mistyped device name: the file would land on devtmpfs, in RAM) or on
// tmpfs or ramfs, unless the target says allow_ram_backed: true.
func checkCreate(t scenarios.Target, sys SysRoot) error {
	if t.Size <= 0 || t.AllowRAMBacked || t.Path == "" {
		return nil
	}
	if _, err := os.Lstat(sys.target(t.Path)); err == nil {
		return nil // exists: nothing is created
	}
	abs, err := filepath.Abs(t.Path)
	if err != nil {
		return nil
	}
	where := resolveParent(abs, sys)
	if under(where, "/dev") || under(abs, "/dev") {
		return &ConfigError{Msg: at(t, fmt.Sprintf("target %q: %s does not exist, and lunbench never creates a file under /dev "+
			"(it would live in RAM on devtmpfs and the run would measure memory, not the LUN); %s "+
			"Set allow_ram_backed: true on the target only if a RAM-backed file is really what you want",
			t.Name, t.Path, suggestDevice(abs, sys)))}
	}
	if fs, mnt := ramFS(filepath.Dir(where), sys); fs != "" {
		return &ConfigError{Msg: at(t, fmt.Sprintf("target %q: %s does not exist, and lunbench will not create it on %s (%s, RAM-backed): "+
			"the run would measure memory, not storage; put it on a disk filesystem, or set allow_ram_backed: true on the target if that is what you want",
			t.Name, t.Path, mnt, fs))}
	}
	return nil
}

// under reports whether p is dir or below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// resolveParent resolves the symlinks in the deepest existing directory
// above the absolute path p and joins the rest back on.
func resolveParent(p string, sys SysRoot) string {
	dir, rest := path.Dir(p), path.Base(p)
	for {
		if res, err := sys.resolve(dir); err == nil {
			return path.Join(res, rest)
		}
		if dir == "/" {
			return p
		}
		dir, rest = path.Dir(dir), path.Join(path.Base(dir), rest)
	}
}

// ramFS names the RAM-backed filesystem holding p (or its deepest existing
// parent) and where it is mounted: ("tmpfs", "/tmp"), ("devtmpfs",
// "/dev"); ("", "") when it is not RAM-backed. statfs's f_type decides
// (devtmpfs reports tmpfs's or ramfs's magic); the mount table names it.
func ramFS(p string, sys SysRoot) (fstype, mountpoint string) {
	if !sys.live() {
		return "", ""
	}
	var sfs unix.Statfs_t
	for unix.Statfs(p, &sfs) != nil {
		if p == "/" || p == "." {
			return "", ""
		}
		p = filepath.Dir(p)
	}
	switch int64(sfs.Type) {
	case unix.TMPFS_MAGIC:
		fstype = "tmpfs"
	case unix.RAMFS_MAGIC:
		fstype = "ramfs"
	default:
		return "", ""
	}
	mountpoint = p
	var st unix.Stat_t
	if unix.Stat(p, &st) != nil {
		return fstype, mountpoint
	}
	devnum := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	best := ""
	for _, m := range readMountinfo(sys) {
		if m.devnum == devnum && under(p, m.mountpoint) && len(m.mountpoint) >= len(best) {
			best, fstype = m.mountpoint, m.fstype
		}
	}
	if best != "" {
		mountpoint = best
	}
	return fstype, mountpoint
}

// RAMFilesystem says whether the file or directory p (or its deepest
// existing parent) is on a RAM-backed filesystem: "tmpfs at /tmp", or "".
func RAMFilesystem(p string) string {
	if fs, mnt := ramFS(p, SysRoot{}); fs != "" {
		return fs + " at " + mnt
	}
	return ""
}

// isRAMDisk reports whether a kernel name is a RAM-backed block device's:
// zramN or brd's ramN.
func isRAMDisk(name string) bool {
	for _, prefix := range []string{"zram", "ram"} {
		if n, ok := strings.CutPrefix(name, prefix); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return false
}

// RAMBacked says why a probed target lives in memory, for a warning in the
// summary and the report: "tmpfs at /tmp", "zram0 (a RAM disk)"; "" for
// storage.
func RAMBacked(d Device, sys SysRoot) string {
	if d.Kind == KindFile {
		if fs, mnt := ramFS(d.openPath(), sys); fs != "" {
			return fs + " at " + mnt
		}
	}
	if isRAMDisk(d.KernelName) {
		if d.Kind == KindFile {
			return "a filesystem on " + d.KernelName + " (a RAM disk)"
		}
		return d.KernelName + " (a RAM disk)"
	}
	return ""
}

// suggestDevice proposes the block device a mistyped /dev path most likely
// meant, by edit distance between base names, among the block devices in
// /dev, /dev/mapper and /dev/disk/by-*.
func suggestDevice(p string, sys SysRoot) string {
	base := path.Base(p)
	dirs := []string{"/dev", "/dev/mapper"}
	if byDirs, err := os.ReadDir(sys.path("/dev/disk")); err == nil {
		for _, e := range byDirs {
			dirs = append(dirs, "/dev/disk/"+e.Name())
		}
	}
	best, bestDist := "", len(base)/3+2
	for _, dir := range dirs {
		ents, _ := os.ReadDir(sys.path(dir))
		for _, e := range ents {
			cand := dir + "/" + e.Name()
			if d := scenarios.EditDistance(base, e.Name()); d < bestDist && isBlockNode(cand, sys) {
				best, bestDist = cand, d
			}
		}
	}
	if best == "" {
		return "no block device has a similar name (lsblk lists them)."
	}
	return "did you mean " + best + "?"
}

// isBlockNode reports whether p is (or links to) a block device. In a
// fixture, which has no device nodes, that is a /dev entry sysfs knows.
func isBlockNode(p string, sys SysRoot) bool {
	if sys.live() {
		var st unix.Stat_t
		return unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK
	}
	res, err := sys.FollowLinks(p, false)
	return err == nil && fileExists(sys.path("/sys/class/block/"+path.Base(res)))
}

// identity is one name for the thing a target reaches: "blk 7:3",
// "ino 254:1:1835061", "path /var/tmp/x.img" (not there yet).
type identity struct {
	key  string
	desc string // for messages: "/dev/loop3", "/var/tmp/x.img"
}

// identities lists what writing the target reaches: the file or device
// itself, then, for a loop device, its backing file or device, and so on
// down the stack.
func identities(p string, sys SysRoot) []identity {
	res, err := sys.resolve(p)
	if err != nil {
		abs, _ := filepath.Abs(p)
		r := resolveParent(abs, sys)
		return []identity{{"path " + r, r}}
	}
	var out []identity
	loops := attachedLoops(sys)
	for depth := 0; depth < maxStack; depth++ {
		var st unix.Stat_t
		if unix.Stat(sys.target(res), &st) != nil {
			break
		}
		var next string
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			out = append(out, identity{fmt.Sprintf("ino %d:%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino), res})
		case unix.S_IFBLK:
			maj, mi := unix.Major(st.Rdev), unix.Minor(st.Rdev)
			out = append(out, identity{fmt.Sprintf("blk %d:%d", maj, mi), res})
			if l, ok := loopAt(sys, loops, maj, mi); ok {
				next = strings.TrimSuffix(l.backing, " (deleted)")
				if l.ok && l.rdev == 0 {
					// The backing inode itself, whatever its name now.
					out = append(out, identity{fmt.Sprintf("ino %d:%d:%d", unix.Major(l.dev), unix.Minor(l.dev), l.ino), next})
				}
			}
		default:
			if name := path.Base(res); !sys.live() && fileExists(sys.path("/sys/class/block/"+name)) {
				out = append(out, identity{"blk " + sys.attr("/sys/class/block/"+name+"/dev"), res})
			}
		}
		if next == "" {
			break
		}
		res = next
	}
	if len(out) == 0 {
		out = append(out, identity{"path " + res, res})
	}
	return out
}

// loopAt finds the attached loop device numbered major:minor.
func loopAt(sys SysRoot, loops []loopDev, major, minor uint32) (loopDev, bool) {
	l, err := os.Readlink(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)))
	if err != nil {
		return loopDev{}, false
	}
	for _, lp := range loops {
		if lp.name == path.Base(l) {
			return lp, true
		}
	}
	return loopDev{}, false
}

// checkDistinct refuses two targets that reach the same file or device.
func checkDistinct(targets []scenarios.Target, sys SysRoot) error {
	ids := make([][]identity, len(targets))
	for i, t := range targets {
		ids[i] = identities(t.Path, sys)
	}
	for j := range targets {
		for i := 0; i < j; i++ {
			if how := sameThing(ids[i], ids[j]); how != "" {
				a, b := targets[i], targets[j]
				return &ConfigError{Msg: at(b, fmt.Sprintf("targets %q (%s) and %q (%s) are the same %s; "+
					"two targets on one file or device would write over each other's data and double-count its I/O: keep one",
					a.Name, a.Path, b.Name, b.Path, how))}
			}
		}
	}
	return nil
}

// sameThing says how two targets' identities meet, or "".
func sameThing(a, b []identity) string {
	for i, x := range a {
		for j, y := range b {
			if x.key != y.key {
				continue
			}
			switch {
			case i == 0 && j == 0:
				return "file or device: both resolve to " + x.desc
			case i == 0:
				return "data: " + b[0].desc + " is a loop device over " + describeChain(b[1:j+1])
			case j == 0:
				return "data: " + a[0].desc + " is a loop device over " + describeChain(a[1:i+1])
			default:
				return "data: both are loop devices over " + x.desc
			}
		}
	}
	return ""
}

// describeChain names the layers under a loop device: "/dev/loop3 over
// /var/tmp/a.img".
func describeChain(ids []identity) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.desc
	}
	return strings.Join(names, " over ")
}
