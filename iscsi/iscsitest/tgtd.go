// Package iscsitest starts real iSCSI targets for tests: Debian's tgtd in a
// network namespace of its own, reachable at addresses from 198.18.0.0/15
// (RFC 2544's benchmarking range) on the namespace's loopback. Tests reach
// them through NSDialer, which opens the TCP socket inside the namespace,
// or run a command there with Lab.Command. Everything is named with the
// prefix lbprb and the test process's PID, and removed by name or PID in
// t.Cleanup.
package iscsitest

import (
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Prefix names everything these helpers create.
const Prefix = "lbprb"

// Lab is one network namespace holding tgtd daemons.
type Lab struct {
	t     testing.TB
	NS    string
	net   int // index of this lab's /28 in 198.18.0.0/15
	next  int
	tgtds int
}

// Require skips the test, with the reason, unless it runs as root with tgtd,
// tgtadm and ip.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: tgtd and network namespaces")
	}
	for _, b := range []string{"tgtd", "tgtadm", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("needs %s (Debian packages tgt and iproute2): %v", b, err)
		}
	}
}

// NewLab makes a network namespace with loopback up; it is deleted when
// the test ends.
func NewLab(t testing.TB) *Lab {
	Require(t)
	// Names and addresses come from the PID and the test's name (a test
	// makes at most a few labs): parallel test processes and the tests of
	// one process never share a namespace.
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	n := int(h.Sum32() % 100000)
	l := &Lab{t: t, NS: fmt.Sprintf("%s%d_%d", Prefix, os.Getpid(), n)}
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join("/run/netns", l.NS)); os.IsNotExist(err) {
			break
		}
		l.NS = fmt.Sprintf("%s%d_%d_%d", Prefix, os.Getpid(), n, i)
	}
	l.net = int(h.Sum32()) % 8192
	run(t, "ip", "netns", "add", l.NS)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", l.NS).Run() })
	run(t, "ip", "-n", l.NS, "link", "set", "lo", "up")
	return l
}

// Addr returns a fresh address of this lab, added to the namespace's loopback.
func (l *Lab) Addr() string {
	l.t.Helper()
	l.next++
	if l.next > 14 {
		l.t.Fatal("iscsitest: more than 14 addresses in one lab")
	}
	host := l.net*16 + l.next
	ip := fmt.Sprintf("198.%d.%d.%d", 18+host>>16, (host>>8)&0xff, host&0xff)
	run(l.t, "ip", "-n", l.NS, "addr", "add", ip+"/32", "dev", "lo")
	return ip
}

// Command returns a command that runs inside the namespace.
func (l *Lab) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.NS, name}, args...)...)
}

// Dialer opens TCP connections from inside the namespace.
func (l *Lab) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return NSDialer(l.NS)
}

// NSDialer returns a dial function whose sockets are created in the named
// network namespace. The dialling goroutine stays locked to its thread and
// exits, so the Go runtime discards that thread rather than reuse it in
// the wrong namespace.
func NSDialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type res struct {
			c   net.Conn
			err error
		}
		ch := make(chan res, 1)
		go func() {
			runtime.LockOSThread()
			f, err := os.Open(filepath.Join("/run/netns", ns))
			if err != nil {
				ch <- res{nil, err}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				ch <- res{nil, fmt.Errorf("setns %s: %w", ns, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			ch <- res{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// Tgtd is one tgtd daemon listening on Portal (addr:3260).
type Tgtd struct {
	lab    *Lab
	Portal string
	Ctl    int
	Cmd    *exec.Cmd
	dir    string
	tid    int
}

// StartTgtd starts tgtd in the lab on a fresh address. Its control port is
// unique to this process (tgtd listens on /var/run/tgtd/socket.PORT).
func (l *Lab) StartTgtd() *Tgtd {
	t := l.t
	t.Helper()
	ip := l.Addr()
	var ctl int
	for i := 0; ; i++ {
		l.tgtds++
		ctl = 20000 + (os.Getpid()*7+l.net*13+l.tgtds+i)%12000
		if _, err := os.Stat(fmt.Sprintf("/var/run/tgtd/socket.%d", ctl)); os.IsNotExist(err) {
			break
		}
		if i > 100 {
			t.Fatal("iscsitest: no free tgtd control port")
		}
	}
	d := &Tgtd{lab: l, Portal: ip + ":3260", Ctl: ctl, dir: t.TempDir()}
	d.Cmd = l.Command(context.Background(), "tgtd", "-f", "-C", strconv.Itoa(ctl), "--iscsi", "portal="+d.Portal)
	logf, err := os.Create(filepath.Join(d.dir, "tgtd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.Cmd.Stdout, d.Cmd.Stderr = logf, logf
	if err := d.Cmd.Start(); err != nil {
		t.Fatalf("start tgtd: %v", err)
	}
	t.Cleanup(func() {
		d.Cmd.Process.Signal(syscall.SIGCONT)
		d.Cmd.Process.Kill()
		d.Cmd.Wait()
		logf.Close()
		os.Remove(fmt.Sprintf("/var/run/tgtd/socket.%d", ctl))
		os.Remove(fmt.Sprintf("/var/run/tgtd/socket.%d.lock", ctl))
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := exec.Command("tgtadm", "-C", strconv.Itoa(ctl), "--lld", "iscsi", "--op", "show", "--mode", "sys").Run(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(d.dir, "tgtd.log"))
			t.Fatalf("tgtd on control port %d did not come up in 10 s: %s", ctl, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// Adm runs tgtadm against this daemon.
func (d *Tgtd) Adm(args ...string) {
	d.lab.t.Helper()
	run(d.lab.t, "tgtadm", append([]string{"-C", strconv.Itoa(d.Ctl), "--lld", "iscsi"}, args...)...)
}

// LU describes a logical unit to export.
type LU struct {
	Size     int64  // bytes of the sparse backing file
	SCSIID   string // tgtd's scsi_id (the VPD 0x83 vendor designator)
	SCSISN   string // tgtd's scsi_sn (VPD 0x80)
	Vendor   string // vendor_id
	Product  string // product_id
	Revision string
}

// Target describes one target.
type Target struct {
	IQN string
	LUs []LU
	// Initiators, when set, are the only initiator names allowed;
	// otherwise every initiator is.
	Initiators []string
	// User/Secret add an incoming CHAP account; OutUser/OutSecret an
	// outgoing one (mutual CHAP).
	User, Secret       string
	OutUser, OutSecret string
	// Digests makes the target offer CRC32C header and data digests
	// (tgtd offers None alone by default).
	Digests bool
}

// AddTarget creates a target with its LUs, ACL and CHAP accounts.
func (d *Tgtd) AddTarget(tg Target) {
	t := d.lab.t
	t.Helper()
	d.tid++
	tid := strconv.Itoa(d.tid)
	d.Adm("--op", "new", "--mode", "target", "--tid", tid, "-T", tg.IQN)
	for i, lu := range tg.LUs {
		f := filepath.Join(d.dir, fmt.Sprintf("%s-t%s-lun%d.img", Prefix, tid, i+1))
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, lu.Size); err != nil {
			t.Fatal(err)
		}
		lun := strconv.Itoa(i + 1)
		d.Adm("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "-b", f)
		var params []string
		for _, kv := range [][2]string{{"scsi_id", lu.SCSIID}, {"scsi_sn", lu.SCSISN}, {"vendor_id", lu.Vendor}, {"product_id", lu.Product}, {"product_rev", lu.Revision}} {
			if kv[1] != "" {
				params = append(params, kv[0]+"="+kv[1])
			}
		}
		if len(params) > 0 {
			d.Adm("--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--params", strings.Join(params, ","))
		}
	}
	if tg.Digests {
		for _, k := range []string{"HeaderDigest", "DataDigest"} {
			d.Adm("--op", "update", "--mode", "target", "--tid", tid, "-n", k, "-v", "CRC32C,None")
		}
	}
	if len(tg.Initiators) == 0 {
		d.Adm("--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL")
	}
	for _, in := range tg.Initiators {
		d.Adm("--op", "bind", "--mode", "target", "--tid", tid, "--initiator-name", in)
	}
	if tg.User != "" {
		d.account(tid, tg.User, tg.Secret, false)
	}
	if tg.OutUser != "" {
		d.account(tid, tg.OutUser, tg.OutSecret, true)
	}
}

func (d *Tgtd) account(tid, user, secret string, outgoing bool) {
	d.Adm("--op", "new", "--mode", "account", "--user", user, "--password", secret)
	args := []string{"--op", "bind", "--mode", "account", "--tid", tid, "--user", user}
	if outgoing {
		args = append(args, "--outgoing")
	}
	d.Adm(args...)
}

// Stop freezes tgtd with SIGSTOP: the kernel still accepts TCP connections
// on its listening socket, but nothing answers. Cleanup resumes and kills it.
func (d *Tgtd) Stop() {
	d.lab.t.Helper()
	if err := d.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		d.lab.t.Fatal(err)
	}
}

// Log returns what tgtd wrote so far, for failure messages.
func (d *Tgtd) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "tgtd.log"))
	return string(b)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
