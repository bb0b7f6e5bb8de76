// Command bench runs lunbench and fio side by side on the same devices and
// prints one table: for each case, the median ratio of lunbench's IOPS to
// fio's over rotated rounds (A B, then B A), its range, the CPU-seconds each
// tool spent per million I/Os, and the OS threads each one ran.
//
// Both tools run in a session of their own (setsid), so that autogroup
// scheduling gives each one group, and fio runs its jobs as threads
// (--thread) in one process, as lunbench does. fio writes a fresh random
// buffer for every I/O, as lunbench does, so zram compresses (and fails
// to compress) the same way for both; a check before the table shows it.
//
// usage: go run ./scenarios/lab/bench path/to/lunbench
//
// Environment: BENCH_SECS (measured seconds per run, default 8),
// BENCH_ROUNDS (default 5), BENCH_QUICK=1 (3 s runs, 2 rounds: for
// development, not for quoting), BENCH_CASES (a regular expression over
// case names), BENCH_SIZE_MIB (per target, default 1024), BENCH_PREFIX
// (of the scratch directory, default lunbench-bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the bench's settings, from the environment.
type config struct {
	lb     string
	secs   time.Duration
	ramp   time.Duration
	rounds int
	size   int64
	cases  *regexp.Regexp
	prefix string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if ctx.Err() != nil {
		code = 130
	}
	os.Exit(code)
}

// run is the bench: 0 when every case ran, 2 for bad settings, 3 when a
// case failed to run.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, env)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	var sel []benchCase
	for _, c := range cases {
		if err := c.check(); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		if cfg.cases.MatchString(c.Name) {
			sel = append(sel, c)
		}
	}
	if len(sel) == 0 {
		fmt.Fprintf(stderr, "bench: no case matches BENCH_CASES=%s\n", cfg.cases)
		return 2
	}
	if _, err := exec.LookPath("fio"); err != nil {
		fmt.Fprintln(stderr, "bench: fio is not installed (apt-get install fio)")
		return 2
	}
	work, err := os.MkdirTemp("/var/tmp", cfg.prefix+".")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 3
	}
	defer os.RemoveAll(work)
	d := newDevices(work)
	defer func() {
		if err := d.close(); err != nil {
			fmt.Fprintln(stderr, "bench: cleanup:", err)
		}
	}()
	fmt.Fprintf(stdout, "lunbench against fio: %s measured + %s ramp per run, %d rotated rounds; %d CPUs; kernel %s; load %s\n",
		cfg.secs, cfg.ramp, cfg.rounds, runtime.NumCPU(), kernel(), loadavg())
	if lines, err := compressCheck(ctx, cfg.lb, d); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 3
	} else {
		fmt.Fprintln(stdout, "write payloads (4 KiB writes over 64 MiB, read back):")
		for _, l := range lines {
			fmt.Fprintln(stdout, "  "+l)
		}
	}
	rows := make([]row, 0, len(sel))
	failed := false
	for _, c := range sel {
		r, err := runCase(ctx, cfg, d, c, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", c.Name, err)
			failed = true
			if ctx.Err() != nil {
				break
			}
		}
		rows = append(rows, r)
	}
	for kind, note := range d.notes {
		if kind != "check" {
			fmt.Fprintf(stdout, "%s targets: %s\n", kind, note)
		}
	}
	printTable(stdout, rows)
	fmt.Fprintf(stdout, "load at the end: %s\n", loadavg())
	if failed {
		return 3
	}
	return 0
}

func parseConfig(args []string, env func(string) string) (config, error) {
	if len(args) != 1 {
		return config{}, errors.New("usage: bench path/to/lunbench")
	}
	lb, err := filepath.Abs(args[0])
	if err != nil {
		return config{}, err
	}
	cfg := config{lb: lb, secs: 8 * time.Second, rounds: 5, size: 1 << 30, prefix: "lunbench-bench"}
	if env("BENCH_QUICK") == "1" {
		cfg.secs, cfg.rounds = 3*time.Second, 2
	}
	for _, v := range []struct {
		key string
		set func(int)
		min int
	}{
		{"BENCH_SECS", func(n int) { cfg.secs = time.Duration(n) * time.Second }, 2},
		{"BENCH_ROUNDS", func(n int) { cfg.rounds = n }, 1},
		{"BENCH_SIZE_MIB", func(n int) { cfg.size = int64(n) << 20 }, 64},
	} {
		s := env(v.key)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.min {
			return config{}, fmt.Errorf("%s=%q: want a whole number of at least %d", v.key, s, v.min)
		}
		v.set(n)
	}
	cfg.cases = regexp.MustCompile("")
	if s := env("BENCH_CASES"); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return config{}, fmt.Errorf("BENCH_CASES: %w", err)
		}
		cfg.cases = re
	}
	if s := env("BENCH_PREFIX"); s != "" {
		cfg.prefix = s
	}
	return cfg, nil
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
