package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
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

// TestRunOverSSH runs a two-host scenario end to end over real sshd: the
// built binary is the coordinator, in the lab's client namespace; each host
// is a namespace with its own sshd, HOME and PATH. h1 has another lunbench
// version on its PATH and h2 none, so both get the coordinator's binary
// copied into their cache; the second run reuses the copies.
func TestRunOverSSH(t *testing.T) {
	sshtest.Require(t)
	lab := sshtest.New(t, 2)
	dir := directDirNamed(t, "lb17s-run-")
	bin := filepath.Join(dir, "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	h1, h2 := lab.Hosts[0], lab.Hosts[1]
	old := "#!/bin/sh\necho 'lunbench 0.0.1 (an older one)'\n"
	if err := os.WriteFile(filepath.Join(h1.Bin, "lunbench"), []byte(old), 0o755); err != nil {
		t.Fatal(err)
	}
	sc := writeScenario(t, dir, fmt.Sprintf(`name: sshpair
hosts:
  - {name: h1, ssh: %s}
  - {name: h2, ssh: %s}
targets:
  - {name: a, path: %s, size: 16MiB, host: h1, allow_write: true}
  - {name: b, path: %s, size: 16MiB, host: h2, allow_write: true}
phases:
  - {name: fill, rw: write, bs: 64k, qd: 2, duration: 2s}
  - {name: mix, rw: randrw, bs: 4k, qd: 4, duration: 2s}
`, h1.Dest, h2.Dest, filepath.Join(dir, "a.dat"), filepath.Join(dir, "b.dat")))

	self, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	caches := map[string]string{}
	for i := 1; i <= 2; i++ {
		out := filepath.Join(dir, fmt.Sprintf("res%d", i))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var stdout, stderr bytes.Buffer
		cmd := lab.Command(ctx, bin, "run", sc, "--no-tui", "--out", out, "--ssh-config", lab.Config)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("run %d: %v\nstdout:\n%s\nstderr:\n%s", i, err, stdout.String(), stderr.String())
		}
		t.Logf("run %d: %v\n%s", i, time.Since(start).Round(time.Millisecond), stdout.String())
		for _, f := range []string{"run.json", "intervals.csv", "report.md", "hosts/h1/run.json", "hosts/h2/run.json", "hosts/h1/intervals.csv", "hosts/h2/intervals.csv"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("run %d: missing %s: %v", i, f, err)
			}
		}
		for _, h := range lab.Hosts {
			m, _ := filepath.Glob(filepath.Join(h.Home, ".cache", "lunbench", "*", "lunbench"))
			if len(m) != 1 {
				t.Fatalf("run %d: %s's cache holds %q; want one copy", i, h.Name, m)
			}
			got, _ := os.ReadFile(m[0])
			if sha256.Sum256(got) != sha256.Sum256(self) {
				t.Errorf("run %d: %s's copy differs from the coordinator's binary", i, h.Name)
			}
			fi, _ := os.Stat(m[0])
			stamp := fmt.Sprint(fi.ModTime().UnixNano())
			if i == 2 && caches[h.Name] != stamp {
				t.Errorf("%s's copy was written again on the second run", h.Name)
			}
			caches[h.Name] = stamp
		}
		if b, _ := os.ReadFile(filepath.Join(h1.Bin, "lunbench")); string(b) != old {
			t.Error("h1's own lunbench was changed")
		}
		for _, h := range lab.Hosts {
			want := map[int]string{1: h.Name + ": copied lunbench (", 2: h.Name + ": runs the copy of lunbench cached at " + h.Home}[i]
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("run %d: no line %q in the output", i, want)
			}
		}
		if !strings.Contains(stdout.String(), "h1") || !strings.Contains(stdout.String(), "h2") {
			t.Errorf("run %d: the summary names no hosts:\n%s", i, stdout.String())
		}
	}
	interruptOverSSH(t, lab, bin, dir)
}

// interruptOverSSH: a Ctrl-C at the terminal (SIGINT to the coordinator's
// whole process group) mid-phase stops the run over SSH in order: exit 130,
// every host's agent reports "interrupted" with its data, and no agent or
// ssh is left.
func interruptOverSSH(t *testing.T, lab *sshtest.Lab, bin, dir string) {
	sc := writeScenario(t, dir, fmt.Sprintf(`name: sshstop
hosts:
  - {name: h1, ssh: %s}
  - {name: h2, ssh: %s}
targets:
  - {name: a, path: %s, size: 16MiB, host: h1}
  - {name: b, path: %s, size: 16MiB, host: h2}
phases:
  - {name: long, rw: randread, bs: 4k, qd: 2, duration: 60s}
`, lab.Hosts[0].Dest, lab.Hosts[1].Dest, filepath.Join(dir, "a.dat"), filepath.Join(dir, "b.dat")))
	out := filepath.Join(dir, "res-int")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := lab.Command(ctx, bin, "run", sc, "--no-tui", "--out", out, "--ssh-config", lab.Config)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a terminal's foreground group of its own
	pr, pw := io.Pipe()
	var stdout bytes.Buffer
	// One writer for both: exec then calls it from one goroutine at a time.
	w := io.MultiWriter(pw, &stdout)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "[1/1 long] 00:01") {
				started <- true
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-started:
	case <-time.After(90 * time.Second):
		t.Fatalf("the phase did not start:\n%s", stdout.String())
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	err := cmd.Wait()
	pw.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v; want %d\n%s", err, exitInterrupted, stdout.String())
	}
	for _, h := range []string{"h1", "h2"} {
		b, err := os.ReadFile(filepath.Join(out, "hosts", h, "intervals.csv"))
		if err != nil || bytes.Count(b, []byte("\n")) < 2 {
			t.Errorf("%s: no intervals after the interrupt (%v)\n%s", h, err, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), "interrupted") {
		t.Errorf("the hosts table does not say interrupted:\n%s", stdout.String())
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left := sshtest.Procs(lab.Dir)
		left = slices.DeleteFunc(left, func(p int) bool { return p == lab.Hosts[0].PID || p == lab.Hosts[1].PID })
		if len(left) == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("processes of the run remain: %v", left)
		}
	}
	t.Logf("interrupted run:\n%s", stdout.String())
}

// TestSSHFlags: a malformed --ssh-option or a missing --ssh-config exits 2
// with a line that names the flag, before anything connects.
func TestSSHFlags(t *testing.T) {
	dir := t.TempDir()
	sc := writeScenario(t, dir, `name: flags
hosts: [{name: h1, ssh: root@198.19.17.11:2217}]
targets: [{name: a, path: `+filepath.Join(dir, "a.dat")+`, size: 1MiB, host: h1}]
phases: [{name: p, rw: read, bs: 4k, duration: 1s}]
`)
	tests := []struct {
		flags []string
		want  string
	}{
		// An option without '=' is not what ssh -o takes.
		{[]string{"--ssh-option", "BatchMode"}, `--ssh-option "BatchMode": expected KEY=VALUE`},
		// Nor one with a blank in its key.
		{[]string{"--ssh-option", "Server Alive=1"}, "expected KEY=VALUE"},
		// A config file that is not there.
		{[]string{"--ssh-config", filepath.Join(dir, "nope")}, "--ssh-config: stat " + filepath.Join(dir, "nope")},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		args := append([]string{"run", sc, "--no-tui", "--out", filepath.Join(dir, "res")}, tt.flags...)
		code := execute(args, nil, &stdout, &stderr, nil)
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.flags, code, stderr.String(), exitUsage, tt.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "res")); !os.IsNotExist(err) {
			t.Errorf("%q: a results directory was made", tt.flags)
		}
	}
}
