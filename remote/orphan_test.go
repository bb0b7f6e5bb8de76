package remote

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// coordEnv makes this test binary a coordinator of two local agents that
// writes the agents' PIDs to the file it names, for TestCoordinatorKilled.
const coordEnv = "LUNBENCH_REMOTE_TEST_COORD"

// coordinatorMain runs in the child: a 30 s run over two local agents.
func coordinatorMain(pidFile string) {
	d, _ := os.MkdirTemp(filepath.Dir(pidFile), "data-")
	sc, err := parseText(`name: orphan
hosts: [{name: h1}, {name: h2}]
targets:
  - {name: a, path: ` + filepath.Join(d, "a.dat") + `, size: 4MiB, host: h1}
  - {name: b, path: ` + filepath.Join(d, "b.dat") + `, size: 4MiB, host: h2}
phases:
  - {name: p, rw: randread, bs: 4k, qd: 1, rate_iops: 100, duration: 30s}
`)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rec := &recording{s: map[string]*procSession{}}
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			a, b := rec.session("h1"), rec.session("h2")
			if a != nil && b != nil {
				os.WriteFile(pidFile+".tmp", []byte(fmt.Sprintf("%d %d\n", a.PID(), b.PID())), 0o644)
				os.Rename(pidFile+".tmp", pidFile)
				return
			}
		}
	}()
	Run(context.Background(), Options{Scenario: sc, Dir: filepath.Join(d, "res"), Transport: rec.transport, Version: report.Version, NoRender: true})
	os.Exit(0)
}

// TestCoordinatorKilled: a coordinator killed with SIGKILL mid-run (no
// chance to say bye) leaves no agent process: each sees its stdin close
// and exits.
func TestCoordinatorKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "agents")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), coordEnv+"="+pidFile)
	cmd.Stderr = testLog{t, "coordinator"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var pids []int
	deadline := time.Now().Add(20 * time.Second)
	for len(pids) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if b, err := os.ReadFile(pidFile); err == nil {
			for _, f := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(f)
				pids = append(pids, n)
			}
		}
	}
	if len(pids) != 2 {
		t.Fatalf("no agent PIDs from the coordinator")
	}
	time.Sleep(1500 * time.Millisecond) // mid-run
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("agent %d ended before the coordinator was killed", p)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	killed := time.Now()
	for _, p := range pids {
		for alive(p) && time.Since(killed) < 5*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(p) {
			t.Errorf("agent %d still running 5 s after its coordinator was killed", p)
			syscallKill(p)
		}
	}
	t.Logf("both agents gone %v after the coordinator was killed", time.Since(killed))
}

// alive reports whether pid runs (a zombie waiting for init counts as
// gone: it runs nothing).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
