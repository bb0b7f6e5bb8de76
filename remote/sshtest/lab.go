// Package sshtest runs real OpenSSH servers for tests: each "host" is a
// network namespace with an sshd (Debian's openssh-server) listening on an
// address from 198.19.17.0/24 (in RFC 2544's benchmarking range
// 198.18.0.0/15), joined by veth pairs to a bridge in a client namespace
// where the tests run ssh. Keys, sshd configs, the ssh client config (-F)
// and its known_hosts are generated per lab in a temp dir.
//
// Every host has its own HOME (XDG_CACHE_HOME is HOME/.cache) and its own
// bin directory first on PATH, both set by sshd's SetEnv, so a test can show
// each host a different lunbench, or none, without touching the machine's.
//
// Names carry the prefix lb17s and the test process's PID; Cleanup kills the
// sshd processes by PID and deletes the namespaces by name.
package sshtest

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Prefix names everything a lab creates.
const Prefix = "lb17s"

// Port is the port every lab sshd listens on: not 22, so that tests show
// user@host:port reaching ssh's -p.
const Port = 2217

// Lab is a client namespace and the hosts its bridge reaches.
type Lab struct {
	t testing.TB
	// Dir holds the keys, configs and every host's tree.
	Dir string
	// ClientNS is the namespace the ssh client must run in (SSHCommand).
	ClientNS string
	// Config is the ssh client config to pass with -F: the lab's user key,
	// known_hosts with every host's key, strict host key checking.
	Config string
	// UserKey is the private key the hosts accept.
	UserKey string
	Hosts   []*Host
}

// Host is one namespace running sshd.
type Host struct {
	Name string // h1, h2, ...
	NS   string // its network namespace
	Addr string // its address, 198.19.17.(10+i)
	Dest string // root@Addr:Port, as a scenario's hosts: entry writes it
	// Bin is the first directory on the host's PATH; empty at first.
	Bin string
	// Home is the host's HOME; its XDG_CACHE_HOME is Home/.cache.
	Home string
	// PID is the listening sshd's.
	PID int

	cmd *exec.Cmd
	log *syncBuffer
}

// Require skips the test, with the reason, unless it runs as root with ip,
// sshd, ssh and ssh-keygen.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and sshd")
	}
	for _, b := range []string{"ip", "/usr/sbin/sshd", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("needs %s (Debian packages iproute2, openssh-server, openssh-client): %v", b, err)
		}
	}
}

// New makes a lab of n hosts (at most 200). It is torn down when the test
// ends.
func New(t testing.TB, n int) *Lab {
	Require(t)
	if n < 1 || n > 200 {
		t.Fatalf("sshtest: %d hosts; want 1 to 200", n)
	}
	// sshd insists on its privilege separation directory, compiled in as
	// /run/sshd; openssh-server's service makes it at boot. It is empty,
	// root's and shared by every sshd, so it is made if missing and left.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	l := &Lab{t: t, Dir: t.TempDir()}
	base := uniqueBase(t)
	l.ClientNS = base + "c"
	l.netns(l.ClientNS)
	run(t, "ip", "-n", l.ClientNS, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", l.ClientNS, "addr", "add", "198.19.17.1/24", "dev", "br0")
	run(t, "ip", "-n", l.ClientNS, "link", "set", "br0", "up")

	l.UserKey = filepath.Join(l.Dir, "id_ed25519")
	keygen(t, l.UserKey)
	var known bytes.Buffer
	for i := 1; i <= n; i++ {
		h := l.addHost(base, i)
		pub, err := os.ReadFile(filepath.Join(l.Dir, h.Name, "host_ed25519.pub"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&known, "[%s]:%d %s", h.Addr, Port, pub)
	}
	writeFile(t, filepath.Join(l.Dir, "known_hosts"), known.String())
	l.Config = l.ClientConfig(l.UserKey, filepath.Join(l.Dir, "known_hosts"))
	for _, h := range l.Hosts {
		h.waitListening(t)
	}
	return l
}

// uniqueBase names a lab from the PID and the test's name, with a suffix
// when a namespace of that name exists already.
func uniqueBase(t testing.TB) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	base := fmt.Sprintf("%s%d_%d", Prefix, os.Getpid(), h.Sum32()%10000)
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		if _, err := os.Stat(filepath.Join("/run/netns", name+"c")); os.IsNotExist(err) {
			return name
		}
	}
}

// netns makes a namespace with loopback up, deleted by name at cleanup.
func (l *Lab) netns(name string) {
	run(l.t, "ip", "netns", "add", name)
	l.t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	run(l.t, "ip", "-n", name, "link", "set", "lo", "up")
}

// ClientConfig writes an ssh client config offering key and trusting the
// host keys in knownHosts, and returns its path. Tests make wrong ones to
// see ssh refuse.
func (l *Lab) ClientConfig(key, knownHosts string) string {
	f, err := os.CreateTemp(l.Dir, "ssh_config")
	if err != nil {
		l.t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, `Host *
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	CheckHostIP no
`, key, knownHosts)
	return f.Name()
}

// NewKey generates another user key, one no host accepts.
func (l *Lab) NewKey(name string) string {
	p := filepath.Join(l.Dir, name)
	keygen(l.t, p)
	return p
}

// SSHCommand is the ssh program as the transport should run it: inside the
// client namespace.
func (l *Lab) SSHCommand() []string {
	return []string{"ip", "netns", "exec", l.ClientNS, "ssh"}
}

// Command runs name inside the client namespace (a coordinator, say).
func (l *Lab) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.ClientNS, name}, args...)...)
}

// addHost makes host i: its namespace, its veth to the bridge, its tree,
// its host key and its sshd.
func (l *Lab) addHost(base string, i int) *Host {
	t := l.t
	h := &Host{Name: "h" + strconv.Itoa(i), NS: fmt.Sprintf("%sh%d", base, i), Addr: fmt.Sprintf("198.19.17.%d", 10+i)}
	h.Dest = fmt.Sprintf("root@%s:%d", h.Addr, Port)
	dir := filepath.Join(l.Dir, h.Name)
	h.Bin, h.Home = filepath.Join(dir, "bin"), filepath.Join(dir, "home")
	for _, d := range []string{h.Bin, h.Home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l.netns(h.NS)
	peer := "v" + strconv.Itoa(i)
	run(t, "ip", "-n", l.ClientNS, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
	run(t, "ip", "-n", l.ClientNS, "link", "set", peer, "master", "br0", "up")
	run(t, "ip", "-n", h.NS, "addr", "add", h.Addr+"/24", "dev", "eth0")
	run(t, "ip", "-n", h.NS, "link", "set", "eth0", "up")

	keygen(t, filepath.Join(dir, "host_ed25519"))
	authorized := filepath.Join(l.Dir, "authorized_keys")
	if _, err := os.Stat(authorized); err != nil {
		pub, err := os.ReadFile(l.UserKey + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, authorized, string(pub))
	}
	path := h.Bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// StrictModes off: the test's temp dir lies under /tmp, which is
	// world-writable, and sshd would refuse keys below it.
	conf := fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
AuthorizedKeysFile %s
PidFile %s
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups 100
SetEnv PATH=%s HOME=%s XDG_CACHE_HOME=%s
`, h.Addr, Port, filepath.Join(dir, "host_ed25519"), authorized, filepath.Join(dir, "sshd.pid"),
		path, h.Home, filepath.Join(h.Home, ".cache"))
	writeFile(t, filepath.Join(dir, "sshd_config"), conf)

	h.log = &syncBuffer{}
	h.cmd = exec.Command("ip", "netns", "exec", h.NS, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	h.cmd.WaitDelay = 2 * time.Second // a connection process may hold the log pipe
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("sshtest: start sshd for %s: %v", h.Name, err)
	}
	h.PID = h.cmd.Process.Pid // ip netns exec execs sshd: same process
	t.Cleanup(func() { h.stop(t) })
	l.Hosts = append(l.Hosts, h)
	return h
}

// waitListening waits for sshd's "Server listening" line.
func (h *Host) waitListening(t testing.TB) {
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(h.log.String(), "Server listening on") {
		if time.Now().After(deadline) || h.cmd.ProcessState != nil {
			t.Fatalf("sshtest: sshd for %s did not start:\n%s", h.Name, h.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the host's sshd processes by PID: the connections' first,
// then the listener.
func (h *Host) stop(t testing.TB) {
	h.KillSessions()
	h.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
	if t.Failed() {
		t.Logf("sshd log of %s:\n%s", h.Name, h.log.String())
	}
}

// Log is what the host's sshd logged so far.
func (h *Host) Log() string { return h.log.String() }

// Sessions lists the sshd processes serving this host's connections (the
// listener's descendants named sshd), not the programs they run.
func (h *Host) Sessions() []int {
	var out []int
	for _, pid := range Descendants(h.PID) {
		if comm(pid) == "sshd" {
			out = append(out, pid)
		}
	}
	return out
}

// KillSessions SIGKILLs the host's connection processes, as a crashed
// server or a reset connection would end them, and returns how many.
func (h *Host) KillSessions() int {
	pids := h.Sessions()
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(pids)
}

// HideFromClient makes the host unreachable from the client namespace (a
// blackhole route to its address there) while the other hosts still reach
// it: a host behind a jump host.
func (l *Lab) HideFromClient(h *Host) {
	run(l.t, "ip", "-n", l.ClientNS, "route", "add", "blackhole", h.Addr+"/32")
}

// LinkDown takes the host's interface down: its packets stop without a
// reset, as when a cable is pulled.
func (h *Host) LinkDown(t testing.TB) {
	run(t, "ip", "-n", h.NS, "link", "set", "eth0", "down")
}
