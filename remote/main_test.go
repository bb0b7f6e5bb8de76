package remote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lunbench/report"
	"lunbench/scenarios"
)

// agentEnv makes this test binary a lunbench agent: the Local transport
// starts it as a child, which speaks the protocol on stdin and stdout
// exactly as `lunbench agent` does (cmd/lunbench/agent.go is two lines
// around RunAgent). LB17_SKEW gives it a wrong clock.
const (
	agentEnv = "LUNBENCH_REMOTE_TEST_AGENT"
	skewEnv  = "LUNBENCH_REMOTE_TEST_SKEW"
)

func TestMain(m *testing.M) {
	if os.Getenv(agentEnv) == "1" {
		skew, _ := time.ParseDuration(os.Getenv(skewEnv))
		err := RunAgent(context.Background(), AgentOptions{In: os.Stdin, Out: os.Stdout, Version: report.Version, Skew: skew})
		if err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	if f := os.Getenv(coordEnv); f != "" {
		coordinatorMain(f)
	}
	os.Exit(m.Run())
}

// localAgents starts every host's agent as a child process of this test
// binary; skews gives some hosts a wrong clock.
func localAgents(t *testing.T, skews map[string]time.Duration) func(Host) Transport {
	return func(h Host) Transport {
		env := []string{agentEnv + "=1"}
		if d, ok := skews[h.Name]; ok {
			env = append(env, skewEnv+"="+d.String())
		}
		return &Local{Path: os.Args[0], Env: env, Stderr: testLog{t, h.Name}}
	}
}

// testLog passes an agent's stderr to the test log.
type testLog struct {
	t    *testing.T
	name string
}

func (l testLog) Write(b []byte) (int, error) {
	l.t.Logf("agent %s: %s", l.name, strings.TrimSpace(string(b)))
	return len(b), nil
}

// diskDir is a temporary directory that takes O_DIRECT (not tmpfs).
func diskDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil && (fs.Type == unix.TMPFS_MAGIC || fs.Type == unix.RAMFS_MAGIC) {
		d, err := os.MkdirTemp("/var/tmp", "lb17c-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	return dir
}

// parse loads a scenario from text, failing the test on any problem.
func parse(t *testing.T, src string) *scenarios.Scenario {
	t.Helper()
	sc, err := parseText(src)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return sc
}

func parseText(src string) (*scenarios.Scenario, error) {
	return scenarios.Parse("t.yaml", []byte(src), nil)
}

// run runs sc over local agents into a new results directory; render
// draws the charts and reports too (seconds; minutes under -race).
func run(t *testing.T, ctx context.Context, sc *scenarios.Scenario, skews map[string]time.Duration, render bool) (*Outcome, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "results")
	out, err := Run(ctx, Options{Scenario: sc, Dir: dir, Transport: localAgents(t, skews), Version: report.Version,
		Status: func(s string) { t.Log("status:", s) }, NoRender: !render})
	if err != nil {
		t.Fatal(err)
	}
	return out, dir
}

// syscallKill0 reports whether process pid still exists (nil: it does).
func syscallKill0(pid int) error { return unix.Kill(pid, 0) }

// syscallKill kills a process left behind by a failed test.
func syscallKill(pid int) { unix.Kill(pid, unix.SIGKILL) }
