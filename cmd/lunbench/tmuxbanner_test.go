package main

import (
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lunbench/report"
)

var bannerRuns = flag.Int("banner-runs", 2, "freezes measured by TestBannerTimingInTmux")

// TestBannerTimingInTmux times the dashboard's I/O STALLED banner in a
// real terminal against the moment the lab box froze: the test stops
// bindfs itself (SIGSTOP, the clock read around the kill) and polls the
// pane. The banner must show within the threshold + 250 ms (the goal),
// plus the poll's own delay; its count must be within 100 ms of the true
// age (now minus the freeze), plus the 0.05 s rounding of its one decimal
// and the capture's delay. The figures are logged for each freeze.
func TestBannerTimingInTmux(t *testing.T) {
	b := newLabBox(t, 64)
	tm := newTmux(t, "lbtru-banner")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	const threshold = 500 * time.Millisecond
	sc := writeScenario(t, dir, fmt.Sprintf(`
name: bannertiming
stall_threshold: %s
targets: [{name: box, path: %s}]
phases:
  - {name: rr-box, rw: randread, bs: 4k, qd: 4, duration: 120s}
`, threshold, b.dev))
	exitFile := filepath.Join(dir, "exit")
	tm.start(fmt.Sprintf("%s run %s --out %s; echo $? > %s; sleep 60", bin, sc, filepath.Join(dir, "res"), exitFile))
	iops := regexp.MustCompile(`box(?: \([^)]*\))?\s+read\s+([\d,]+)`) // the target, with its device's name
	tm.waitFor(20*time.Second, "the phase with non-zero IOPS", func(s string) bool {
		m := iops.FindStringSubmatch(s)
		return m != nil && m[1] != "0"
	})
	out, err := runOutput("sh", "-c", b.cmd("pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("bindfs pid %q: %v", out, err)
	}
	count := stallCounter("box")
	type capture struct {
		at, took time.Duration // since the freeze; how long the capture took
		shown    float64       // the banner's count, s
	}
	type freezeRun struct {
		at       time.Time // the freeze (the middle of the kill)
		first    int       // index of the first capture with the banner
		captures []capture
	}
	var freezes []freezeRun
	for run := 0; run < *bannerRuns; run++ {
		time.Sleep(1500 * time.Millisecond)
		t0 := time.Now()
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		f := freezeRun{at: t0.Add(t1.Sub(t0) / 2), first: -1}
		for time.Since(f.at) < 2500*time.Millisecond {
			c0 := time.Now()
			v := count(tm.capture())
			f.captures = append(f.captures, capture{at: c0.Sub(f.at), took: time.Since(c0), shown: v})
			if v >= 0 && f.first < 0 {
				f.first = len(f.captures) - 1
			}
		}
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		if f.first < 0 {
			t.Fatalf("freeze %d: no banner in 2.5 s:\n%s", run, tm.capture())
		}
		freezes = append(freezes, f)
		tm.waitFor(5*time.Second, "the banner gone after the resume", func(s string) bool { return count(s) < 0 })
	}
	tm.quit(exitFile, "130")
	run, err := report.ReadRun(filepath.Join(dir, "res"))
	if err != nil {
		t.Fatal(err)
	}
	// The truth: the banner's count is the stall's age, from the last
	// completion before the gap (run.json, exact); on a loaded machine
	// that may come a little before the freeze.
	const slack = 100 * time.Millisecond // the terminal and tmux's own delay
	var shows, errs []time.Duration
	for i, f := range freezes {
		// The stall the freeze made: the one going on 300 ms after it.
		var start time.Time
		for _, st := range run.Stalls {
			if mid := f.at.Add(300 * time.Millisecond); st.Start.Before(mid) && st.End.After(mid) {
				start = st.Start
			}
		}
		if start.IsZero() {
			t.Fatalf("freeze %d: no stall in run.json began near it: %+v", i, run.Stalls)
		}
		lead := f.at.Sub(start) // last completion → freeze
		first := f.captures[f.first]
		// The banner appeared after the previous capture began.
		poll := time.Duration(0)
		if f.first > 0 {
			poll = first.at - f.captures[f.first-1].at
		}
		shows = append(shows, first.at)
		if goal := threshold + 250*time.Millisecond; first.at-poll > goal+slack {
			t.Errorf("freeze %d: banner first seen %v after the freeze (previous look %v earlier), goal %v", i, first.at, poll, goal)
		}
		for _, c := range f.captures {
			if c.shown < 0 {
				continue
			}
			e := time.Duration(c.shown*float64(time.Second)) - (c.at + lead)
			errs = append(errs, e)
			// Shown to 0.1 s, redrawn every 50 ms while stalled, read
			// some time during the capture.
			if e < -(150*time.Millisecond+c.took+slack) || e > 50*time.Millisecond+c.took+slack {
				t.Errorf("freeze %d: at %v (capture took %v) the banner said %.1f s, the stall was %v old",
					i, c.at, c.took, c.shown, (c.at + lead).Round(time.Millisecond))
			}
		}
		t.Logf("freeze %d: last completion %v before the freeze; banner first seen %v after the freeze (%d captures, the previous %v earlier)",
			i, lead.Round(time.Millisecond), first.at.Round(time.Millisecond), len(f.captures), poll.Round(time.Millisecond))
	}
	slices.Sort(errs)
	slices.Sort(shows)
	t.Logf("%d freezes, threshold %v: banner seen after %v .. %v (median %v); count - true age over %d captures: min %v, median %v, max %v",
		len(freezes), threshold, shows[0].Round(time.Millisecond), shows[len(shows)-1].Round(time.Millisecond), shows[len(shows)/2].Round(time.Millisecond),
		len(errs), errs[0].Round(time.Millisecond), errs[len(errs)/2].Round(time.Millisecond), errs[len(errs)-1].Round(time.Millisecond))
}

// runOutput runs a command and returns its output.
func runOutput(name string, args ...string) (string, error) {
	b, err := exec.Command(name, args...).Output()
	return string(b), err
}
