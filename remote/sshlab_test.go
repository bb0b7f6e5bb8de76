package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"lunbench/remote/sshtest"
)

// labSSH is a transport that reaches the lab's hosts: ssh runs in the
// lab's client namespace with the lab's config, and offers a stand-in
// lunbench (stubLunbench) of version "lunbench 1.2.3 (offered)".
func labSSH(t *testing.T, l *sshtest.Lab) *SSH {
	offer := filepath.Join(t.TempDir(), "lunbench")
	stubLunbench(t, offer, "lunbench 1.2.3 (offered)")
	return &SSH{Command: l.SSHCommand(), ConfigFile: l.Config, Binary: offer}
}

func labStart(t *testing.T, s *SSH, h *sshtest.Host, args ...string) (*SSHSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ss, err := s.Start(ctx, Host{Name: h.Name, SSH: h.Dest}, args)
	if err != nil {
		return nil, err
	}
	return ss.(*SSHSession), nil
}

// TestSSHLabCopy: over real sshd, a host whose lunbench is another version
// and a host with none both get this one copied into their cache, and
// nothing else on them changes; the next start reuses the copy.
func TestSSHLabCopy(t *testing.T) {
	l := sshtest.New(t, 2)
	s := labSSH(t, l)
	h1, h2 := l.Hosts[0], l.Hosts[1]
	stubLunbench(t, filepath.Join(h1.Bin, "lunbench"), "lunbench 0.9.0 (installed)")
	installed, _ := os.ReadFile(filepath.Join(h1.Bin, "lunbench"))
	offered, _ := os.ReadFile(s.Binary)
	for _, h := range []*sshtest.Host{h1, h2} {
		before := tree(t, filepath.Dir(h.Home))
		args := []string{"--id", h.Name, "two words", "it's"}
		ss, err := labStart(t, s, h, args...)
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		cached := filepath.Join(h.Home, ".cache", "lunbench", s.self.dir, "lunbench")
		if ss.How != "copied" || ss.Path != cached || ss.Copied != int64(len(offered)) {
			t.Errorf("%s: how %q path %q copied %d; want copied to %s, %d bytes", h.Name, ss.How, ss.Path, ss.Copied, cached, len(offered))
		}
		echo(t, ss, args)
		got, err := os.ReadFile(cached)
		if err != nil || sha256.Sum256(got) != sha256.Sum256(offered) {
			t.Errorf("%s: the cached copy differs from the binary offered (%v)", h.Name, err)
		}
		added := diffTree(before, tree(t, filepath.Dir(h.Home)))
		want := []string{"home/.cache", "home/.cache/lunbench", "home/.cache/lunbench/" + s.self.dir, "home/.cache/lunbench/" + s.self.dir + "/lunbench"}
		if !slices.Equal(added, want) {
			t.Errorf("%s changed by %q; want only the cache %q", h.Name, added, want)
		}

		ss, err = labStart(t, s, h, "again")
		if err != nil {
			t.Fatal(err)
		}
		if ss.How != "cached" || ss.Copied != 0 {
			t.Errorf("%s, second start: how %q copied %d; want the cached copy", h.Name, ss.How, ss.Copied)
		}
		echo(t, ss, []string{"again"})
		// One connection per start, the copy included: two in all.
		if n := strings.Count(h.Log(), "Accepted publickey"); n != 2 {
			t.Errorf("%s: %d logins for two starts; want one each", h.Name, n)
		}
	}
	if now, _ := os.ReadFile(filepath.Join(h1.Bin, "lunbench")); string(now) != string(installed) {
		t.Error("the host's own lunbench was changed")
	}
}

// TestSSHLabErrors: each way of not getting in is named, with ssh's words.
func TestSSHLabErrors(t *testing.T) {
	l := sshtest.New(t, 1)
	h := l.Hosts[0]
	tests := []struct {
		name  string
		setup func(s *SSH) string // returns the destination
		kind  error
		quote string
	}{
		{
			// A key the host does not accept.
			name: "auth",
			setup: func(s *SSH) string {
				s.ConfigFile = l.ClientConfig(l.NewKey("stranger"), l.Dir+"/known_hosts")
				return h.Dest
			},
			kind: ErrAuthRefused, quote: "Permission denied (publickey)",
		},
		{
			// A host whose key is not in known_hosts: BatchMode refuses to ask.
			name:  "host key",
			setup: func(s *SSH) string { s.ConfigFile = l.ClientConfig(l.UserKey, "/dev/null"); return h.Dest },
			kind:  ErrHostKey, quote: "host key is known for",
		},
		{
			// Nothing listens on that port.
			name:  "refused",
			setup: func(s *SSH) string { return "root@" + h.Addr + ":1" },
			kind:  ErrUnreachable, quote: "Connection refused",
		},
		{
			// An address nobody has: the connect timeout ends it.
			name:  "no host",
			setup: func(s *SSH) string { s.ConnectTimeout = time.Second; return "root@198.19.17.250:2217" },
			kind:  ErrUnreachable, quote: "connect to host 198.19.17.250",
		},
		{
			// A host of another architecture with no lunbench of this version.
			name: "arch",
			setup: func(s *SSH) string {
				os.WriteFile(filepath.Join(h.Bin, "uname"), []byte("#!/bin/sh\ncase $1 in -s) echo Linux;; -m) echo aarch64;; esac\n"), 0o755)
				t.Cleanup(func() { os.Remove(filepath.Join(h.Bin, "uname")) })
				return h.Dest
			},
			kind: ErrArch, quote: "aarch64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := labSSH(t, l)
			dest := tt.setup(s)
			start := time.Now()
			ss, err := labStart(t, s, &sshtest.Host{Name: h.Name, Dest: dest})
			if err == nil {
				ss.Kill()
				ss.Wait()
				t.Fatal("started; want an error")
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.quote) {
				t.Errorf("error %q; want %v quoting %q", err, tt.kind, tt.quote)
			}
			t.Logf("%s after %v: %v", tt.name, time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// TestSSHLabProxyJump: a host the coordinator cannot reach directly is
// reached through a jump host given as an ssh option, as admins do with
// ProxyJump in ~/.ssh/config.
func TestSSHLabProxyJump(t *testing.T) {
	l := sshtest.New(t, 2)
	jump, inner := l.Hosts[0], l.Hosts[1]
	l.HideFromClient(inner)
	s := labSSH(t, l)
	s.ConnectTimeout = 2 * time.Second
	if ss, err := labStart(t, s, inner); !errors.Is(err, ErrUnreachable) {
		if err == nil {
			ss.Kill()
			ss.Wait()
		}
		t.Fatalf("direct: %v; want %v (the host is hidden)", err, ErrUnreachable)
	}
	s = labSSH(t, l)
	s.Options = []string{"ProxyJump=" + jump.Dest}
	ss, err := labStart(t, s, inner, "jumped")
	if err != nil {
		t.Fatalf("through %s: %v", jump.Name, err)
	}
	echo(t, ss, []string{"jumped"})
	if !strings.Contains(inner.Log(), "Accepted publickey for root from "+jump.Addr) {
		t.Errorf("%s was not reached from %s:\n%s", inner.Name, jump.Name, inner.Log())
	}
}

// TestSSHLabLostConnection: a session whose server side dies, or whose
// network goes silent, ends with ErrConnectionLost: Stdout reads EOF and
// Wait returns, within the keepalive budget; the remote agent is gone.
func TestSSHLabLostConnection(t *testing.T) {
	l := sshtest.New(t, 2)
	s := labSSH(t, l)
	s.AliveInterval, s.AliveCount = time.Second, 2
	tests := []struct {
		name   string
		host   *sshtest.Host
		cut    func(h *sshtest.Host)
		budget time.Duration // how long the transport may take to notice
	}{
		// The server's connection processes die: the client gets a reset
		// or FIN at once; 5 s is slack for a loaded machine.
		{"sshd killed", l.Hosts[0], func(h *sshtest.Host) {
			if h.KillSessions() == 0 {
				t.Error("no connection process to kill")
			}
		}, 5 * time.Second},
		// The link goes down: only the keepalives notice, after
		// AliveInterval*AliveCount, plus one interval of phase and slack.
		{"link down", l.Hosts[1], func(h *sshtest.Host) { h.LinkDown(t) }, s.AliveInterval*time.Duration(s.AliveCount+1) + 5*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := fmt.Sprintf("lb17s-lost-%d-%s", os.Getpid(), tt.host.Name)
			ss, err := labStart(t, s, tt.host, token)
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Kill()
			rd := bufio.NewReader(ss.Stdout())
			rd.ReadString('\n') // "args 1"
			rd.ReadString('\n') // the token
			cut := time.Now()
			tt.cut(tt.host)
			eof := make(chan time.Duration, 1)
			go func() { io.Copy(io.Discard, rd); eof <- time.Since(cut) }()
			waited := make(chan error, 1)
			go func() { waited <- ss.Wait() }()
			select {
			case err = <-waited:
			case <-time.After(tt.budget + 10*time.Second):
				t.Fatalf("Wait still blocked %v after the cut", time.Since(cut))
			}
			took := time.Since(cut)
			if !errors.Is(err, ErrConnectionLost) {
				t.Errorf("Wait: %v; want %v", err, ErrConnectionLost)
			}
			if took > tt.budget {
				t.Errorf("noticed after %v; budget %v", took, tt.budget)
			}
			if e := <-eof; e > tt.budget {
				t.Errorf("Stdout EOF after %v; budget %v", e, tt.budget)
			}
			t.Logf("%s: Wait returned after %v: %v", tt.name, took.Round(time.Millisecond), err)
			if tt.name == "sshd killed" {
				waitGone(t, token, 5*time.Second)
			}
		})
	}
}

// TestSSHLabAgentKilled: an agent killed on its host ends the session:
// Stdout reads EOF and Wait says so, at once; ssh is gone too.
func TestSSHLabAgentKilled(t *testing.T) {
	l := sshtest.New(t, 1)
	s := labSSH(t, l)
	token := fmt.Sprintf("lb17s-victim-%d", os.Getpid())
	ss, err := labStart(t, s, l.Hosts[0], token)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Kill()
	rd := bufio.NewReader(ss.Stdout())
	rd.ReadString('\n') // "args 1"
	rd.ReadString('\n') // the token
	var agent []int
	for _, pid := range sshtest.Procs(token) {
		if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cl), "lunbench\x00agent\x00"+token) {
			agent = append(agent, pid)
		}
	}
	if len(agent) != 1 {
		t.Fatalf("agents with %s: %v; want one", token, agent)
	}
	kill := time.Now()
	syscall.Kill(agent[0], syscall.SIGKILL)
	io.Copy(io.Discard, rd)
	err = ss.Wait()
	took := time.Since(kill)
	t.Logf("Wait after %v: %v", took.Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "agent killed by signal 9") {
		t.Errorf("Wait: %v; want an error naming the agent", err)
	}
	if took > 5*time.Second {
		t.Errorf("noticed after %v", took)
	}
	waitGone(t, token, 5*time.Second)
}

// waitGone waits until no process holds token on its command line.
func waitGone(t *testing.T, token string, budget time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		left := sshtest.Procs(token)
		if len(left) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > budget {
			var desc []string
			for _, pid := range left {
				cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				desc = append(desc, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(cl), "\x00", " ")))
			}
			t.Fatalf("after %v these remain:\n%s", budget, strings.Join(desc, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// helperEnv carries a coordinator's settings to TestSSHLabHelperProcess.
const helperEnv = "LB17S_SSH_HELPER"

type helperConf struct {
	Command []string
	Config  string
	Binary  string
	Dest    string
	Args    []string
}

// TestSSHLabHelperProcess is the coordinator of TestSSHLabCoordinatorKilled,
// run as a child of the test: it starts an agent, says "ready" and waits to
// be killed. It does nothing in a normal test run.
func TestSSHLabHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("the coordinator of TestSSHLabCoordinatorKilled; runs only as its child")
	}
	var c helperConf
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	s := &SSH{Command: c.Command, ConfigFile: c.Config, Binary: c.Binary}
	ss, err := s.Start(context.Background(), Host{Name: "h", SSH: c.Dest}, c.Args)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, ss.Stdout())
	os.Exit(0)
}

// TestSSHLabCoordinatorKilled: a coordinator killed with SIGKILL mid-run
// leaves no agent, and no ssh, behind: with the stand-in agent, and with the
// real `lunbench agent` copied there.
func TestSSHLabCoordinatorKilled(t *testing.T) {
	l := sshtest.New(t, 1)
	h := l.Hosts[0]
	real := buildLunbench(t)
	for _, agent := range []struct {
		name, binary string
		args         []string
	}{
		{"stand-in", labSSH(t, l).Binary, []string{"lb17s-orphan"}},
		{"lunbench agent", real, nil}, // it takes no arguments
	} {
		t.Run(agent.name, func(t *testing.T) {
			// Every process of this run names the lab's directory on its
			// command line: ssh in its -F, the agent in its cached path.
			conf, _ := json.Marshal(helperConf{Command: l.SSHCommand(), Config: l.Config, Binary: agent.binary, Dest: h.Dest, Args: agent.args})
			coord := exec.Command(os.Args[0], "-test.run=^TestSSHLabHelperProcess$", "-test.count=1")
			coord.Env = append(os.Environ(), helperEnv+"="+string(conf))
			out, err := coord.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := coord.Start(); err != nil {
				t.Fatal(err)
			}
			defer coord.Process.Kill()
			line, _ := bufio.NewReader(out).ReadString('\n')
			if line != "ready\n" {
				coord.Process.Kill()
				coord.Wait()
				t.Fatalf("coordinator: %q", line)
			}
			ours := func() []int { return slices.DeleteFunc(sshtest.Procs(l.Dir), func(p int) bool { return p == h.PID }) }
			// The bootstrap said "start" a moment before it starts the agent.
			agents := 0
			for end := time.Now().Add(5 * time.Second); agents == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				for _, pid := range ours() {
					cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
					if strings.Contains(string(cl), "lunbench\x00agent\x00") && strings.Contains(string(cl), h.Home) {
						agents++
					}
				}
			}
			if agents != 1 {
				t.Fatalf("found %d agents running from %s's cache; want 1", agents, h.Name)
			}
			coord.Process.Signal(syscall.SIGKILL)
			coord.Wait()
			start := time.Now()
			for len(ours()) > 0 {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("10 s after the coordinator died these remain: %v", describe(ours()))
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("agent and ssh gone %v after the coordinator was killed", time.Since(start).Round(time.Millisecond))
		})
	}
}

// describe writes each process's command line.
func describe(pids []int) string {
	var desc []string
	for _, pid := range pids {
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		desc = append(desc, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(cl), "\x00", " ")))
	}
	return strings.Join(desc, "\n")
}

// buildLunbench builds the real lunbench into a temp dir.
func buildLunbench(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, "lunbench/cmd/lunbench").CombinedOutput(); err != nil {
		t.Fatalf("build lunbench: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkSSHStart measures what Start costs over the real-sshd lab with
// the real lunbench: connecting, authenticating and checking the version
// when the host has this lunbench (installed), has a cached copy (cached),
// or needs the binary sent (copy; its size is copied-B/op).
func BenchmarkSSHStart(b *testing.B) {
	l := sshtest.New(b, 1)
	h := l.Hosts[0]
	bin := buildLunbench(b)
	cache := filepath.Join(h.Home, ".cache")
	for _, bc := range []struct {
		name  string
		setup func()
		opts  []string
	}{
		{"installed", func() {
			os.RemoveAll(cache)
			os.Link(bin, filepath.Join(h.Bin, "lunbench"))
		}, nil},
		{"cached", func() { os.Remove(filepath.Join(h.Bin, "lunbench")) }, nil},
		{"copy", func() { os.Remove(filepath.Join(h.Bin, "lunbench")); os.RemoveAll(cache) }, nil},
		// ssh's own zlib over the copy: for slow links (README).
		{"copy-compressed", func() { os.RemoveAll(cache) }, []string{"Compression=yes"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := &SSH{Command: l.SSHCommand(), ConfigFile: l.Config, Binary: bin, Options: bc.opts}
			var copied int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				bc.setup()
				b.StartTimer()
				ss, err := s.Start(context.Background(), Host{Name: h.Name, SSH: h.Dest}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				sess := ss.(*SSHSession)
				if want := map[string]string{"installed": "installed", "cached": "cached", "copy": "copied", "copy-compressed": "copied"}[bc.name]; sess.How != want && !(bc.name == "cached" && i == 0) {
					b.Fatalf("how %q, want %q", sess.How, want)
				}
				copied += sess.Copied
				sess.Stdin().Close()
				sess.Wait()
				b.StartTimer()
			}
			b.ReportMetric(float64(copied)/float64(b.N), "copied-B/op")
		})
	}
}
