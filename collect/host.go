// Package collect watches what lies under a benchmark target: it samples
// /proc/diskstats into iostat -x figures, reads the SCSI, device-mapper and
// iSCSI topology from sysfs, and polls path and session states during a run.
//
// Every read goes through a Host, whose Root may point at a fixture tree, so
// the whole package is tested against copies of real sysfs layouts.
package collect

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"lunbench/workload"
)

// Host is the machine being looked at. Every /sys, /proc and /dev read goes
// through Root ("" or "/" for the live system), so tests can point it at a
// fixture tree.
type Host struct {
	Root string
	// Multipathd runs `multipathd ARGS...` and returns its standard output.
	// Nil means: on the live system run the real binary if it is installed;
	// under any other Root never run it. Tests set it to replay canned output.
	Multipathd func(ctx context.Context, args ...string) ([]byte, error)
	// DMSetup runs `dmsetup ARGS...` likewise; it is asked for the path
	// groups and states when multipathd cannot be.
	DMSetup func(ctx context.Context, args ...string) ([]byte, error)
}

// live reports whether h looks at the running system rather than a fixture.
func (h Host) live() bool { return h.Root == "" || h.Root == "/" }

// p maps a host-absolute path ("/sys/block") to where it is read.
func (h Host) p(abs string) string {
	if h.live() {
		return abs
	}
	return filepath.Join(h.Root, abs)
}

// read returns a sysfs attribute with its trailing newline and padding
// removed (SCSI vendor and model strings are space-padded). An attribute
// is at most a page, so one read(2) gets it all; plain syscalls instead of
// os.ReadFile halve the cost, which matters to a watcher polling dozens of
// attributes four times a second.
func (h Host) read(abs string) (string, error) {
	p := h.p(abs)
	var fd int
	var err error
	for {
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var buf [4096]byte
	n := 0
	for {
		n, err = unix.Read(fd, buf[:])
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return "", &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// attr is read for optional attributes: missing or unreadable ones (a
// FAILED session refuses some reads with ENOTCONN) come back empty.
func (h Host) attr(abs string) string {
	s, _ := h.read(abs)
	return s
}

func (h Host) exists(abs string) bool {
	_, err := os.Lstat(h.p(abs))
	return err == nil
}

// realpath resolves every symlink in a sysfs path and returns it relative to
// the host ("/sys/devices/..."). sysfs links are all relative, so following
// them with the OS inside a fixture tree stays inside it.
func (h Host) realpath(abs string) (string, error) {
	rp, err := filepath.EvalSymlinks(h.p(abs))
	if err != nil {
		return "", err
	}
	if h.live() {
		return rp, nil
	}
	root, err := filepath.EvalSymlinks(h.Root)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, rp)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", errors.New("link leaves the root: " + abs)
	}
	return "/" + filepath.ToSlash(rel), nil
}

// list returns the entry names of a directory, nil if it does not exist.
func (h Host) list(abs string) []string {
	ents, err := os.ReadDir(h.p(abs))
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// evalLinks follows symlinks in p inside Root, keeping components that do
// not exist (see workload.SysRoot.FollowLinks).
func (h Host) evalLinks(p string) string {
	out, _ := workload.SysRoot{Root: h.Root}.FollowLinks(p, true)
	return out
}

// natLess orders kernel names the way people expect: dm-2 before dm-10,
// session4 before session12.
func natLess(a, b string) bool {
	for a != "" && b != "" {
		ad, bd := digitPrefix(a), digitPrefix(b)
		if ad > 0 && bd > 0 {
			an, _ := strconv.ParseUint(a[:ad], 10, 64)
			bn, _ := strconv.ParseUint(b[:bd], 10, 64)
			if an != bn {
				return an < bn
			}
			a, b = a[ad:], b[bd:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
