package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// tmuxServer is a private tmux server (its own socket): nothing else's
// sessions are touched, and Cleanup kills only it.
type tmuxServer struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T, name string) *tmuxServer {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux (Debian package tmux)")
	}
	s := &tmuxServer{t: t, sock: fmt.Sprintf("lb-%s-%d", name, os.Getpid())}
	t.Cleanup(func() { s.run("kill-server") })
	return s
}

func (s *tmuxServer) run(args ...string) (string, error) {
	b, err := exec.Command("tmux", append([]string{"-L", s.sock}, args...)...).CombinedOutput()
	return string(b), err
}

// capture returns the pane's text.
func (s *tmuxServer) capture() string {
	out, _ := s.run("capture-pane", "-p", "-t", "t")
	return out
}

// waitFor polls the pane until ok accepts it, for up to d.
func (s *tmuxServer) waitFor(d time.Duration, what string, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		screen := s.capture()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the dashboard never showed %s:\n%s", what, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stallboxScript is the lab rig's script (scenarios/lab/stallbox.sh).
func stallboxScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scenarios", "lab", "stallbox.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDashboardStallBannerInTmux runs the real binary in a real terminal
// against the stall box: freezing the box shows the I/O STALLED banner
// with a count that goes up, releasing it puts the stall's exact length in
// the event log, q ends the run with 130 and the results hold the stall.
func TestDashboardStallBannerInTmux(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the stall box is a FUSE mount and a loop device")
	}
	for _, tool := range []string{"bindfs", "losetup", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages bindfs, util-linux, fuse3)", tool)
		}
	}
	tm := newTmux(t, "watch-stall")
	dir := t.TempDir()
	bin := filepath.Join(dir, "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	box, err := os.MkdirTemp("/var/tmp", "lunbench-tmuxstall-")
	if err != nil {
		t.Fatal(err)
	}
	script := stallboxScript(t)
	box = filepath.Join(box, "box") // up creates it
	t.Cleanup(func() {
		exec.Command(script, "down", box).Run()
		os.Remove(filepath.Dir(box))
	})
	out, err := exec.Command(script, "up", box, "64").CombinedOutput()
	if err != nil {
		t.Fatalf("stallbox up: %v\n%s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	sc := writeScenario(t, dir, `
name: tmuxstall
stall_threshold: 300ms
targets: [{name: box, path: `+loop+`}]
phases:
  - {name: rr-box, rw: randread, bs: 4k, qd: 4, duration: 60s}
`)
	res := filepath.Join(dir, "res")
	exitFile := filepath.Join(dir, "exit")
	shell := fmt.Sprintf("%s run %s --out %s; echo $? > %s; sleep 60", bin, sc, res, exitFile)
	if o, err := tm.run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", shell); err != nil {
		t.Fatalf("tmux: %v %s", err, o)
	}
	iops := regexp.MustCompile(`box\s+read\s+([\d,]+)`)
	tm.waitFor(20*time.Second, "the phase with non-zero IOPS", func(s string) bool {
		m := iops.FindStringSubmatch(s)
		return m != nil && m[1] != "0" && strings.Contains(s, "rr-box")
	})

	if o, err := exec.Command(script, "pause", box).CombinedOutput(); err != nil {
		t.Fatalf("pause: %v %s", err, o)
	}
	paused := time.Now()
	banner := regexp.MustCompile(`I/O STALLED (\d+\.\d) s on box`)
	count := func(s string) float64 {
		m := banner.FindStringSubmatch(s)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	first := tm.waitFor(5*time.Second, "the I/O STALLED banner", func(s string) bool { return count(s) >= 0 })
	// The count runs: a later frame shows a longer stall.
	later := tm.waitFor(5*time.Second, "the stall count going up", func(s string) bool { return count(s) > count(first) })
	t.Logf("80x24 during the stall:\n%s", later)
	time.Sleep(time.Until(paused.Add(2 * time.Second)))
	if o, err := exec.Command(script, "resume", box).CombinedOutput(); err != nil {
		t.Fatalf("resume: %v %s", err, o)
	}
	ended := regexp.MustCompile(`stall_end\s+box\s+stalled (\d+\.\d{3}) s`)
	after := tm.waitFor(10*time.Second, "the stall's length in the event log", func(s string) bool { return ended.MatchString(s) })
	t.Logf("80x24 after the stall:\n%s", after)
	shown, _ := strconv.ParseFloat(ended.FindStringSubmatch(after)[1], 64)
	if shown < 1.9 || shown > 2.5 {
		t.Errorf("event log shows a %.3f s stall for a 2 s pause", shown)
	}

	tm.run("send-keys", "-t", "t", "q")
	deadline := time.Now().Add(20 * time.Second)
	var code string
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(b) > 0 {
			code = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("q did not end the run:\n%s", tm.capture())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != "130" {
		t.Fatalf("exit %s after q, want 130", code)
	}
	run, err := report.ReadRun(res)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "interrupted" || len(run.Stalls) != 1 || run.Stalls[0].Dur.Seconds() != shown && fmt.Sprintf("%.3f", run.Stalls[0].Dur.Seconds()) != fmt.Sprintf("%.3f", shown) {
		t.Fatalf("run.json: status %q stalls %+v; the log showed %.3f s", run.Status, run.Stalls, shown)
	}
}
