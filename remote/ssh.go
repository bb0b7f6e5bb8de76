package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"lunbench/report"
)

// SSH starts agents through the system's ssh binary, one connection per
// host, so ~/.ssh/config, ssh-agent, ProxyJump and known_hosts apply. The
// remote command is a small POSIX sh bootstrap (bootScript) that runs the
// host's lunbench when it is this version, or else receives this binary over
// the same connection into a cache directory and runs that. The zero value
// is ready to use; set fields before the first Start.
type SSH struct {
	// Command is the ssh program and any words before its options; empty
	// means "ssh" from PATH. Tests wrap it: ip netns exec NS ssh.
	Command []string
	// ConfigFile, when set, is passed as -F (instead of ~/.ssh/config).
	ConfigFile string
	// Options are extra -o values ("Key=Value"). They come before the
	// transport's own, so they win over its defaults below.
	Options []string
	// ConnectTimeout bounds the TCP connect and the banner exchange;
	// 10 s when zero.
	ConnectTimeout time.Duration
	// AliveInterval is ServerAliveInterval: a connection that does not
	// answer AliveCount probes in a row is dropped, so a host that
	// vanishes without a TCP reset ends its session within about
	// AliveInterval*AliveCount. 5 s and 3 when zero.
	AliveInterval time.Duration
	AliveCount    int
	// Binary is the lunbench copied to hosts that lack this version; empty
	// means this executable. Version is its `--version` line; empty means
	// this build's, or, with Binary set, what Binary --version prints.
	Binary, Version string
	// Stderr, when set, receives the remote agent's and ssh's stderr as it
	// comes; the last lines are also kept for error messages.
	Stderr io.Writer
	// Status, when set, hears one line per started agent: which lunbench
	// it runs and whether it was copied ("h1: copied lunbench (9.1 MiB) to
	// /root/.cache/lunbench/... in 0.4s").
	Status func(string)

	once sync.Once
	self binaryInfo
}

// binaryInfo is what the bootstrap needs to know of the binary it offers.
type binaryInfo struct {
	path, version, sum, dir string
	size                    int64
	err                     error
}

var _ Transport = (*SSH)(nil)

// SSHSession is a running agent started by SSH, with what its bootstrap did.
type SSHSession struct {
	// Host is the host the agent runs on.
	Host Host
	// How the bootstrap found lunbench: "installed" (on the host's PATH),
	// "cached" (a copy an earlier run left) or "copied" (sent now).
	How string
	// Path is the remote lunbench the agent runs.
	Path string
	// Copied is how many bytes were sent (0 unless How is "copied").
	Copied int64
	// Ready is how long Start took: connection, authentication, the
	// version check and any copy.
	Ready time.Duration

	cmd    *exec.Cmd
	stdin  *os.File
	stdout *bufio.Reader // the bootstrap's lines, then the agent's output
	reader *eofCloser    // stdout for the caller
	out    *os.File
	stderr *tail
}

var _ Session = (*SSHSession)(nil)

// Start connects to h, brings this lunbench to it if needed and starts
// `lunbench agent args` there. ctx bounds the connection and the bootstrap
// only; once Start returns, the session lasts until its stdin is closed or
// it is killed.
func (s *SSH) Start(ctx context.Context, h Host, args []string) (Session, error) {
	d, err := ParseDest(h.SSH)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	s.once.Do(s.describeBinary)
	if s.self.err != nil {
		return nil, s.self.err
	}
	argv := s.argv(d, remoteCommand(s.self.dir, s.self.version, s.self.sum, s.self.size, args))
	ss, err := s.start(ctx, h, exec.Command(argv[0], argv[1:]...))
	if err != nil {
		return nil, err
	}
	if s.Status != nil {
		s.Status(ss.describe())
	}
	return ss, nil
}

// describe says what the bootstrap did, for the Status line.
func (ss *SSHSession) describe() string {
	ready := ss.Ready.Round(100 * time.Millisecond)
	switch ss.How {
	case "copied":
		return fmt.Sprintf("%s: copied lunbench (%.1f MiB) to %s in %v", ss.Host.Name, float64(ss.Copied)/(1<<20), ss.Path, ready)
	case "cached":
		return fmt.Sprintf("%s: runs the copy of lunbench cached at %s (connected in %v)", ss.Host.Name, ss.Path, ready)
	}
	return fmt.Sprintf("%s: runs its own %s (connected in %v)", ss.Host.Name, ss.Path, ready)
}

// argv is the whole ssh command line for destination d.
func (s *SSH) argv(d Dest, remote string) []string {
	cmd := append([]string(nil), s.Command...)
	if len(cmd) == 0 {
		cmd = []string{"ssh"}
	}
	// BatchMode first: ssh keeps the first value it gets for an option, and
	// a password or host-key prompt would hang a run with nobody to answer.
	cmd = append(cmd, "-T", "-o", "BatchMode=yes")
	if s.ConfigFile != "" {
		cmd = append(cmd, "-F", s.ConfigFile)
	}
	for _, o := range s.Options {
		cmd = append(cmd, "-o", o)
	}
	ct, ai, ac := s.ConnectTimeout, s.AliveInterval, s.AliveCount
	if ct <= 0 {
		ct = 10 * time.Second
	}
	if ai <= 0 {
		ai = 5 * time.Second
	}
	if ac <= 0 {
		ac = 3
	}
	cmd = append(cmd,
		"-o", "ConnectTimeout="+seconds(ct),
		"-o", "ServerAliveInterval="+seconds(ai),
		"-o", "ServerAliveCountMax="+strconv.Itoa(ac))
	if d.User != "" {
		cmd = append(cmd, "-l", d.User)
	}
	if d.Port != 0 {
		cmd = append(cmd, "-p", strconv.Itoa(d.Port))
	}
	return append(cmd, "--", d.Host, remote)
}

// seconds writes d in whole seconds, at least 1, as ssh's options take them.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// describeBinary reads the binary this transport offers: its version line,
// size and SHA-256.
func (s *SSH) describeBinary() {
	b := &s.self
	b.path, b.version = s.Binary, s.Version
	if b.path == "" {
		exe, err := os.Executable()
		if err != nil {
			b.err = fmt.Errorf("ssh transport: find this lunbench to copy: %w", err)
			return
		}
		b.path = exe
		if b.version == "" {
			b.version = "lunbench " + report.ThisBuild().String()
		}
	}
	if b.version == "" {
		out, err := exec.Command(b.path, "--version").Output()
		if err != nil {
			b.err = fmt.Errorf("ssh transport: %s --version: %w", b.path, err)
			return
		}
		b.version, _, _ = strings.Cut(string(out), "\n")
	}
	if strings.TrimSpace(b.version) == "" {
		b.err = fmt.Errorf("ssh transport: %s has no version line", b.path)
		return
	}
	f, err := os.Open(b.path)
	if err != nil {
		b.err = fmt.Errorf("ssh transport: read the lunbench to copy: %w", err)
		return
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		b.err = fmt.Errorf("ssh transport: read %s: %w", b.path, err)
		return
	}
	b.size, b.sum = n, hex.EncodeToString(h.Sum(nil))
	// "lunbench 0.1.0 (module ...)": the cache directory takes "0.1.0".
	v := strings.Fields(b.version)
	b.dir = cacheDirName(v[min(1, len(v)-1)], runtime.GOOS, runtime.GOARCH, b.sum)
}
