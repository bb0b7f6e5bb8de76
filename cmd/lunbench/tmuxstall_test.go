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

// start runs shell in an 80×24 session "t", the smallest size the
// dashboard is made for.
func (s *tmuxServer) start(shell string) {
	s.t.Helper()
	if o, err := s.run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", shell); err != nil {
		s.t.Fatalf("tmux: %v %s", err, o)
	}
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

// buildBinary builds lunbench into dir for tests that drive the real
// binary in a terminal.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "lunbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// quit presses q and waits for the shell in the pane to write the exit
// code, which must be want.
func (s *tmuxServer) quit(exitFile, want string) {
	s.t.Helper()
	s.run("send-keys", "-t", "t", "q")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(b) > 0 {
			if code := strings.TrimSpace(string(b)); code != want {
				s.t.Fatalf("exit %s after q, want %s", code, want)
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("q did not end it:\n%s", s.capture())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stallCounter reads the banner's running count; -1 when there is none.
func stallCounter(target string) func(string) float64 {
	banner := regexp.MustCompile(`I/O STALLED (\d+\.\d) s on ` + regexp.QuoteMeta(target))
	return func(s string) float64 {
		m := banner.FindStringSubmatch(s)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
}

// watchStall pauses the box for 2 s and returns the stall length the
// event log then shows for target, having checked the banner counted up
// and the length is between lo and 2.5 s.
func (s *tmuxServer) watchStall(b *labBox, target string, lo float64) float64 {
	s.t.Helper()
	b.run(s.t, "pause")
	paused := time.Now()
	count := stallCounter(target)
	first := s.waitFor(5*time.Second, "the I/O STALLED banner", func(sc string) bool { return count(sc) >= 0 })
	// The count runs: a later frame shows a longer stall.
	later := s.waitFor(5*time.Second, "the stall count going up", func(sc string) bool { return count(sc) > count(first) })
	s.t.Logf("80x24 during the stall:\n%s", later)
	time.Sleep(time.Until(paused.Add(2 * time.Second)))
	b.run(s.t, "resume")
	ended := regexp.MustCompile(`stall_end\s+` + regexp.QuoteMeta(target) + `\s+stalled (\d+\.\d{3}) s`)
	after := s.waitFor(10*time.Second, "the stall's length in the event log", func(sc string) bool { return ended.MatchString(sc) })
	s.t.Logf("80x24 after the stall:\n%s", after)
	shown, _ := strconv.ParseFloat(ended.FindStringSubmatch(after)[1], 64)
	if shown < lo || shown > 2.5 {
		s.t.Errorf("event log shows a %.3f s stall for a 2 s pause", shown)
	}
	return shown
}

// TestDashboardStallBannerInTmux runs the real binary in a real terminal
// against the stall box: freezing the box shows the I/O STALLED banner
// with a count that goes up, releasing it puts the stall's exact length in
// the event log, q ends the run with 130 and the results hold the stall.
func TestDashboardStallBannerInTmux(t *testing.T) {
	b := newLabBox(t, 64)
	loop := b.dev
	tm := newTmux(t, "watch-stall")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
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
	tm.start(shell)
	iops := regexp.MustCompile(`box(?: \([^)]*\))?\s+read\s+([\d,]+)`)
	tm.waitFor(20*time.Second, "the phase with non-zero IOPS", func(s string) bool {
		m := iops.FindStringSubmatch(s)
		return m != nil && m[1] != "0" && strings.Contains(s, "rr-box")
	})
	shown := tm.watchStall(b, "box", 1.9)
	tm.quit(exitFile, "130")
	run, err := report.ReadRun(res)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "interrupted" || len(run.Stalls) != 1 || fmt.Sprintf("%.3f", run.Stalls[0].Dur.Seconds()) != fmt.Sprintf("%.3f", shown) {
		t.Fatalf("run.json: status %q stalls %+v; the log showed %.3f s", run.Status, run.Stalls, shown)
	}
}

// TestWatchStallInTmux is the same freeze seen by `lunbench watch` on the
// box while another lunbench loads it: the banner from diskstats alone,
// the stall's length to within a sample, q → exit 0, and a recording that
// `lunbench report` reads.
func TestWatchStallInTmux(t *testing.T) {
	b := newLabBox(t, 64)
	loop := b.dev
	tm := newTmux(t, "watch-watch")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	sc := writeScenario(t, dir, `
name: load
targets: [{name: box, path: `+loop+`}]
phases:
  - {name: rr, rw: randread, bs: 4k, qd: 4, duration: 60s}
`)
	load := exec.Command(bin, "run", sc, "--no-tui", "--out", filepath.Join(dir, "load"))
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.run(t, "resume") // never leave the load frozen
		load.Process.Signal(os.Interrupt)
		load.Wait()
	})
	rec := filepath.Join(dir, "rec")
	exitFile := filepath.Join(dir, "exit")
	shell := fmt.Sprintf("%s watch %s --record %s; echo $? > %s; sleep 60", bin, loop, rec, exitFile)
	tm.start(shell)
	rps := regexp.MustCompile(regexp.QuoteMeta(filepath.Base(loop)) + ` +\S+ +([\d,]+)`) // one row
	tm.waitFor(20*time.Second, "the box's r/s", func(s string) bool {
		m := rps.FindStringSubmatch(s)
		return m != nil && m[1] != "0"
	})
	// Sampled every 250 ms: the length is known to a sample either way.
	tm.watchStall(b, loop, 1.7)
	tm.quit(exitFile, "0")
	run, err := report.ReadRun(rec)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "finished" || len(run.Stalls) != 1 {
		t.Fatalf("run.json: status %q stalls %+v", run.Status, run.Stalls)
	}
	if err := report.Render(rec, report.Options{}); err != nil {
		t.Fatalf("report of the recording: %v", err)
	}
}
