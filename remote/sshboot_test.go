package remote

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stubLunbench is a stand-in lunbench for the bootstrap: it prints VERSION
// for --version, and as an agent prints its arguments, one a line, then
// echoes its stdin back until EOF. It stays a shell process whose command
// line holds its arguments, so tests can find it by a unique one.
func stubLunbench(t *testing.T, path, version string) {
	t.Helper()
	script := "#!/bin/sh\ncase \"$1\" in\n--version) echo '" + version + "';;\n" +
		"agent) shift; echo \"args $#\"; for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n" +
		"\twhile IFS= read -r l; do printf '%s\\n' \"$l\"; done;;\n" +
		"*) echo \"stub lunbench: $*\" >&2; exit 2;;\nesac\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// bootRig is a fake remote host for the bootstrap script, run by a local
// shell instead of over ssh: its own HOME, and a PATH whose first directory
// can hold a lunbench, a uname and the sh under test.
type bootRig struct {
	home, bin string
	ssh       *SSH
	env       []string
}

func newBootRig(t *testing.T, shell string) *bootRig {
	dir := t.TempDir()
	r := &bootRig{home: filepath.Join(dir, "home"), bin: filepath.Join(dir, "bin")}
	for _, d := range []string{r.home, r.bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if shell != "" {
		if err := os.Symlink(shell, filepath.Join(r.bin, "sh")); err != nil {
			t.Fatal(err)
		}
	}
	offer := filepath.Join(dir, "offer", "lunbench")
	stubLunbench(t, offer, "lunbench 1.2.3 (offered)")
	r.ssh = &SSH{Binary: offer}
	r.env = []string{"HOME=" + r.home, "PATH=" + r.bin + ":/usr/bin:/bin"}
	return r
}

// start runs the bootstrap as the remote login shell would.
func (r *bootRig) start(t *testing.T, args ...string) (*SSHSession, error) {
	t.Helper()
	r.ssh.once.Do(r.ssh.describeBinary)
	if r.ssh.self.err != nil {
		t.Fatal(r.ssh.self.err)
	}
	b := r.ssh.self
	cmd := exec.Command("/bin/sh", "-c", remoteCommand(b.dir, b.version, b.sum, b.size, args))
	cmd.Env = r.env
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return r.ssh.start(ctx, Host{Name: "rig"}, cmd)
}

// echo checks the session is the stub agent: its arguments, then its stdin
// echoed back; closing stdin ends it with status 0.
func echo(t *testing.T, s *SSHSession, args []string) {
	t.Helper()
	rd := bufio.NewReader(s.Stdout())
	line := func() string {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("agent output: %v", err)
		}
		return strings.TrimSuffix(l, "\n")
	}
	if got := line(); got != "args "+strconv.Itoa(len(args)) {
		t.Fatalf("agent said %q, want args %d", got, len(args))
	}
	for _, a := range args {
		if got := line(); got != a {
			t.Errorf("agent got argument %q, want %q", got, a)
		}
	}
	if _, err := io.WriteString(s.Stdin(), "ping 1\n"); err != nil {
		t.Fatal(err)
	}
	if got := line(); got != "ping 1" {
		t.Errorf("agent echoed %q, want the first bytes the coordinator wrote", got)
	}
	s.Stdin().Close()
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Errorf("after stdin closed: %q, %v", rest, err)
	}
	if err := s.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

// shells are the POSIX shells the bootstrap must work under: dash (Debian's
// sh), bash, and busybox (small appliances and initramfs).
func shells(t *testing.T) map[string]string {
	out := map[string]string{}
	for name, path := range map[string]string{"dash": "/bin/dash", "bash": "/bin/bash", "busybox": "/bin/busybox"} {
		if _, err := os.Stat(path); err == nil {
			out[name] = path
		}
	}
	if len(out) == 0 {
		t.Skip("no dash, bash or busybox")
	}
	return out
}

// TestBootstrapCopiesThenReuses: a host whose lunbench is another version
// gets this one copied into the cache, and nothing else changes; the next
// start runs the cached copy without sending it again.
func TestBootstrapCopiesThenReuses(t *testing.T) {
	for name, shell := range shells(t) {
		t.Run(name, func(t *testing.T) {
			r := newBootRig(t, shell)
			stubLunbench(t, filepath.Join(r.bin, "lunbench"), "lunbench 0.9.0 (installed)")
			before := tree(t, filepath.Dir(r.home))
			args := []string{"--phase", "two words", "it's", "$HOME", "a\\b", ""}
			s, err := r.start(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			cached := filepath.Join(r.home, ".cache", "lunbench", r.ssh.self.dir, "lunbench")
			if s.How != "copied" || s.Path != cached || s.Copied != r.ssh.self.size {
				t.Errorf("first start: how %q path %q copied %d; want copied %s, %d bytes", s.How, s.Path, s.Copied, cached, r.ssh.self.size)
			}
			echo(t, s, args)
			after := tree(t, filepath.Dir(r.home))
			added := diffTree(before, after)
			want := []string{"home/.cache", "home/.cache/lunbench", "home/.cache/lunbench/" + r.ssh.self.dir, "home/.cache/lunbench/" + r.ssh.self.dir + "/lunbench"}
			if !slices.Equal(added, want) {
				t.Errorf("the host changed by %q; want only the cache: %q", added, want)
			}
			if fi, err := os.Stat(cached); err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("cached copy: %v, %v", fi, err)
			}

			s, err = r.start(t, "again")
			if err != nil {
				t.Fatal(err)
			}
			if s.How != "cached" || s.Copied != 0 {
				t.Errorf("second start: how %q, copied %d; want the cached copy", s.How, s.Copied)
			}
			echo(t, s, []string{"again"})
		})
	}
}

// TestBootstrapInstalled: a lunbench of this version on PATH runs as it
// is; nothing is copied.
func TestBootstrapInstalled(t *testing.T) {
	r := newBootRig(t, "")
	stubLunbench(t, filepath.Join(r.bin, "lunbench"), "lunbench 1.2.3 (offered)")
	s, err := r.start(t, "x")
	if err != nil {
		t.Fatal(err)
	}
	if s.How != "installed" || s.Path != filepath.Join(r.bin, "lunbench") || s.Copied != 0 {
		t.Errorf("how %q path %q copied %d; want the installed one", s.How, s.Path, s.Copied)
	}
	echo(t, s, []string{"x"})
	if _, err := os.Stat(filepath.Join(r.home, ".cache")); !os.IsNotExist(err) {
		t.Errorf("a cache was made though lunbench was installed: %v", err)
	}
}

// TestBootstrapFailures: each failure is named, and leaves no temp file.
func TestBootstrapFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, r *bootRig)
		kind  error
		msg   string
	}{
		{
			// Another architecture, and no lunbench of this version there.
			name: "arch",
			setup: func(t *testing.T, r *bootRig) {
				os.WriteFile(filepath.Join(r.bin, "uname"), []byte("#!/bin/sh\ncase $1 in -s) echo Linux;; -m) echo aarch64;; esac\n"), 0o755)
			},
			kind: ErrArch, msg: "architecture is aarch64 (GOARCH arm64)",
		},
		{
			// Another system altogether.
			name: "os",
			setup: func(t *testing.T, r *bootRig) {
				os.WriteFile(filepath.Join(r.bin, "uname"), []byte("#!/bin/sh\ncase $1 in -s) echo SunOS;; -m) echo i86pc;; esac\n"), 0o755)
			},
			kind: ErrArch, msg: "system is SunOS",
		},
		{
			// No HOME and no XDG_CACHE_HOME: nowhere to keep the copy.
			name:  "no home",
			setup: func(t *testing.T, r *bootRig) { r.env = r.env[1:] },
			kind:  ErrBootstrap, msg: "nowhere to keep lunbench",
		},
		{
			// The bytes that arrive are not the ones sent.
			name: "checksum",
			setup: func(t *testing.T, r *bootRig) {
				r.ssh.once.Do(r.ssh.describeBinary)
				r.ssh.self.sum = strings.Repeat("0", 64)
			},
			kind: ErrBootstrap, msg: "SHA-256 is",
		},
		{
			// A cache directory that cannot be made.
			name: "cache not writable",
			setup: func(t *testing.T, r *bootRig) {
				os.WriteFile(filepath.Join(r.home, ".cache"), nil, 0o644) // a file where the directory goes
			},
			kind: ErrBootstrap, msg: "cannot create",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newBootRig(t, "")
			tt.setup(t, r)
			s, err := r.start(t)
			if err == nil {
				s.Kill()
				s.Wait()
				t.Fatal("started; want an error")
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q; want %v with %q", err, tt.kind, tt.msg)
			}
			for _, p := range tree(t, r.home) {
				if strings.Contains(p, ".tmp") {
					t.Errorf("left behind: %s", p)
				}
			}
		})
	}
}

// TestBootstrapNoise: a login script that talks on stdout does not confuse
// the handshake.
func TestBootstrapNoise(t *testing.T) {
	r := newBootRig(t, "")
	stubLunbench(t, filepath.Join(r.bin, "lunbench"), "lunbench 1.2.3 (offered)")
	r.ssh.once.Do(r.ssh.describeBinary)
	b := r.ssh.self
	cmd := exec.Command("/bin/sh", "-c", "echo welcome to the array; "+remoteCommand(b.dir, b.version, b.sum, b.size, []string{"n"}))
	cmd.Env = r.env
	s, err := r.ssh.start(context.Background(), Host{Name: "rig"}, cmd)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, s, []string{"n"})
}

// TestStartTimeout: a host that never answers is given up when ctx ends,
// and its process is gone.
func TestStartTimeout(t *testing.T) {
	ssh := &SSH{Binary: "/bin/sh", Version: "lunbench test"}
	ssh.once.Do(ssh.describeBinary)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	cmd := exec.Command("sleep", "60")
	_, err := ssh.start(ctx, Host{Name: "mute"}, cmd)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v; want the deadline", err)
	}
	if cmd.ProcessState == nil {
		t.Error("the process was not waited for")
	}
}

// tree lists the paths under dir, relative to it.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// diffTree returns what after has and before had not.
func diffTree(before, after []string) []string {
	var out []string
	for _, p := range after {
		if !slices.Contains(before, p) {
			out = append(out, p)
		}
	}
	return out
}
