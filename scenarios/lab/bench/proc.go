package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 on every architecture Go supports here.
const userHZ = 100

// sample is one reading of a process's /proc/PID/stat.
type sample struct {
	at      time.Time
	cpu     float64 // user + system seconds, all threads
	threads int
}

// parseStat reads utime, stime and num_threads from the text of
// /proc/PID/stat (proc(5)): fields 14, 15 and 20, counted after the
// command name, which is in parentheses and may itself hold spaces.
func parseStat(b []byte) (cpu float64, threads int, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("no command name in %q", b)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 18 {
		return 0, 0, fmt.Errorf("%d fields after the command name, want 18 or more", len(f))
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	th, err3 := strconv.Atoi(string(f[17]))
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("bad utime, stime or num_threads in %q", b)
	}
	return float64(ut+st) / userHZ, th, nil
}

// runSampled runs name with args in a session of its own (setsid), so that
// autogroup scheduling gives it one group as it gives the other tool, and
// reads its /proc/PID/stat every period until it exits. Its output goes to
// log.
func runSampled(ctx context.Context, period time.Duration, log *os.File, name string, args ...string) ([]sample, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stat := fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)
	tk := time.NewTicker(period)
	defer tk.Stop()
	var ss []sample
	for {
		select {
		case err := <-done:
			if err != nil {
				return ss, fmt.Errorf("%s: %w (output in %s)", name, err, log.Name())
			}
			return ss, nil
		case <-tk.C:
			b, err := os.ReadFile(stat)
			if err != nil {
				continue // exiting: Wait reports how
			}
			if cpu, th, err := parseStat(b); err == nil {
				ss = append(ss, sample{at: time.Now(), cpu: cpu, threads: th})
			}
		}
	}
}

// window fills r's CPU per million I/Os and thread count from the samples
// inside its measured window, less a margin at each end (the tools' window
// marks and the samples are each a period or so apart). On a host so
// loaded that fewer than two samples fall inside, it takes the samples
// just around the window instead, and says so in r.approx.
func window(r *result, ss []sample, margin time.Duration) error {
	lo, hi := r.start.Add(margin), r.end.Add(-margin)
	first, last := -1, -1
	for i, s := range ss {
		if s.at.Before(lo) || s.at.After(hi) {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		r.threads = max(r.threads, s.threads)
	}
	if first < 0 || last == first {
		r.approx = true
		first, last = 0, len(ss)-1
		for i, s := range ss {
			if !s.at.After(r.start) {
				first = i
			}
			if !s.at.Before(r.end) && last == len(ss)-1 {
				last = i
			}
		}
		for _, s := range ss[max(first, 0) : max(last, 0)+1] {
			r.threads = max(r.threads, s.threads)
		}
	}
	if last <= first || r.iops <= 0 {
		return fmt.Errorf("too few samples around the measured window %s..%s", r.start.Format(time.TimeOnly), r.end.Format(time.TimeOnly))
	}
	rate := (ss[last].cpu - ss[first].cpu) / ss[last].at.Sub(ss[first].at).Seconds()
	r.cpuPerMIO = rate / r.iops * 1e6
	return nil
}
