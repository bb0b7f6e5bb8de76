package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ncw/directio"
	"github.com/spf13/cobra"

	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// verifyOptions are the flags of `lunbench verify`.
type verifyOptions struct {
	dir    string
	target string // only this target's map
	device string // read this device instead of the one the map names
	json   bool
	qd     int
	now    func() time.Time
}

// verifyReport is what `lunbench verify` writes to RUNDIR/verify-<time>.json
// (and prints with --json).
type verifyReport struct {
	Time      time.Time        `json:"time"`
	Dir       string           `json:"dir"`
	Targets   []verifyTarget   `json:"targets"`
	Summaries []verify.Summary `json:"summaries"`
	Problems  uint64           `json:"problems"`
	Verdict   string           `json:"verdict"` // PASS or FAIL
}

// verifyTarget says which map and device a summary comes from.
type verifyTarget struct {
	Target string `json:"target"`
	Map    string `json:"map"`
	Device string `json:"device"`
	RunID  string `json:"run_id"`
	Base   int64  `json:"base"`
	Length int64  `json:"length"`
	Unit   int64  `json:"unit"`
}

func newVerifyCmd(stdout io.Writer, sig <-chan os.Signal) *cobra.Command {
	o := verifyOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "verify RUNDIR",
		Short: "Re-check the data a run wrote, after a crash, reboot or failover",
		Long: `verify reads the generation maps a run with verify: true left in
RUNDIR/verify/<target>.genmap, reads back from each target's device every block
the run wrote, and classifies it: ok, lost (an older generation than
acknowledged), misdirected (data written for another offset), torn (sectors
from different writes), corrupt (bad checksum or garbage) or unwritten.
Blocks whose last write was in flight may hold the old or the new data, and
because the map on disk may lag the device by up to a second after a crash,
newer data than the map records is accepted too. A run that is still going
(its lunbench.pid names a live lunbench) is refused: it verifies itself.

It prints the counts per target and every finding, and writes
RUNDIR/verify-<UTC time>.json. Exit codes: 0 no problem, 1 problems found,
2 bad arguments or results directory (no maps, a damaged map, a device of
the wrong size), 3 a device could not be opened or read, 130 interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.dir = args[0]
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				for {
					select {
					case s := <-sig:
						if s == syscall.SIGUSR1 {
							continue // lunbench mark is for runs
						}
						cancel()
						return
					case <-ctx.Done():
						return
					}
				}
			}()
			return runVerify(ctx, o, stdout)
		},
	}
	cmd.Flags().StringVar(&o.target, "target", "", "verify only this target")
	cmd.Flags().StringVar(&o.device, "device", "", "read this device instead of the one the map names (it was renamed, e.g. after a reboot)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	cmd.Flags().IntVar(&o.qd, "qd", 4, "parallel reads per target")
	return cmd
}

// verifyJob is one map to check and the device it is checked on.
type verifyJob struct {
	m   *verify.Map
	dev *os.File
}

// runVerify checks every selected map of o.dir against its device.
func runVerify(ctx context.Context, o verifyOptions, stdout io.Writer) error {
	jobs, err := openVerifyJobs(o)
	defer func() {
		for _, j := range jobs {
			j.m.Close()
			j.dev.Close()
		}
	}()
	if err != nil {
		return err
	}
	rep := verifyReport{Time: o.now().UTC(), Dir: o.dir}
	for _, j := range jobs {
		h := j.m.Header()
		rep.Targets = append(rep.Targets, verifyTarget{Target: h.Target, Map: j.m.Path(), Device: j.dev.Name(),
			RunID: fmt.Sprintf("%016x", h.RunID), Base: h.Base, Length: h.Length, Unit: h.Unit})
		s, err := verify.Run(ctx, j.dev, j.m, verify.RunOptions{QD: o.qd, Check: verify.CheckOptions{AcceptNewer: true}, When: "lunbench verify"})
		if errors.Is(err, context.Canceled) {
			return &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted while verifying %s: nothing written", h.Target)}
		}
		if err != nil {
			return &exitError{code: exitRuntime, err: err}
		}
		rep.Summaries = append(rep.Summaries, s)
		rep.Problems += s.Problems()
	}
	rep.Verdict = "PASS"
	if rep.Problems > 0 {
		rep.Verdict = "FAIL"
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	out := filepath.Join(o.dir, "verify-"+rep.Time.Format("2006-01-02T15-04-05Z")+".json")
	if err := report.WriteAtomic(out, append(b, '\n')); err != nil {
		return &exitError{code: exitRuntime, err: fmt.Errorf("write %s: %w", out, err)}
	}
	if o.json {
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printVerify(stdout, rep)
		fmt.Fprintf(stdout, "written to %s\n", out)
	}
	if rep.Problems > 0 {
		return &exitError{code: exitFail}
	}
	return nil
}

// openVerifyJobs opens the selected maps and their devices, and checks each
// device is the size the run saw, before anything is read: a long pass
// should not fail on the last target for a reason known at the start.
func openVerifyJobs(o verifyOptions) ([]verifyJob, error) {
	usage := func(format string, a ...any) error {
		return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
	}
	if st, err := os.Stat(o.dir); err != nil {
		return nil, usage("no results directory %s: %w", o.dir, errors.Unwrap(err))
	} else if !st.IsDir() {
		return nil, usage("%s is not a results directory", o.dir)
	}
	if pid, ok := liveRun(o.dir); ok {
		return nil, usage("%s: the run is still going (lunbench pid %d): it verifies its own writes; run lunbench verify after it ends or crashed", o.dir, pid)
	}
	paths, _ := filepath.Glob(filepath.Join(o.dir, verify.MapDir, "*.genmap"))
	if len(paths) == 0 {
		return nil, usage("%s: no generation maps in %s/: the run had no phase with verify: true", o.dir, verify.MapDir)
	}
	slices.Sort(paths)
	if o.target != "" {
		p := verify.MapPath(o.dir, o.target)
		if !slices.Contains(paths, p) {
			var have []string
			for _, q := range paths {
				have = append(have, strings.TrimSuffix(filepath.Base(q), ".genmap"))
			}
			return nil, usage("%s: no generation map for target %q (maps for: %s)", o.dir, o.target, strings.Join(have, ", "))
		}
		paths = []string{p}
	}
	if o.device != "" && len(paths) > 1 {
		return nil, usage("--device names one device, and %s has %d targets: choose one with --target", o.dir, len(paths))
	}
	var jobs []verifyJob
	for _, p := range paths {
		m, err := verify.OpenMap(p)
		if err != nil {
			return jobs, usage("%w", err)
		}
		h := m.Header()
		dev := o.device
		if dev == "" {
			dev = h.Device
		}
		f, err := directio.OpenFile(dev, os.O_RDONLY, 0)
		if err != nil {
			m.Close()
			return jobs, &exitError{code: exitRuntime, err: fmt.Errorf("target %s: open device: %w (renamed after a reboot? name it with --device)", h.Target, err)}
		}
		jobs = append(jobs, verifyJob{m, f})
		size, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return jobs, &exitError{code: exitRuntime, err: fmt.Errorf("target %s: size of %s: %w", h.Target, dev, err)}
		}
		if end := h.Base + h.Units()*h.Unit; size < end {
			return jobs, usage("target %s: %s is %d bytes (%s), too small for the range the run wrote, which ends at byte %d: not the same device? name the right one with --device",
				h.Target, dev, size, scenarios.FormatSize(size), end)
		}
		if h.DeviceSize > 0 && size != h.DeviceSize {
			return jobs, usage("target %s: %s is %d bytes (%s), the run wrote a device of %d bytes (%s): not the same device? name the right one with --device",
				h.Target, dev, size, scenarios.FormatSize(size), h.DeviceSize, scenarios.FormatSize(h.DeviceSize))
		}
	}
	return jobs, nil
}

// printVerify prints the counts per target and every finding.
func printVerify(w io.Writer, rep verifyReport) {
	for i, s := range rep.Summaries {
		t := rep.Targets[i]
		d := s.End.Sub(s.Start)
		fmt.Fprintf(w, "%s (%s): %d blocks of %s checked in %s (%s)\n", s.Target, t.Device, s.Blocks,
			scenarios.FormatSize(t.Unit), d.Round(time.Millisecond), report.MiBps(float64(s.Blocks)*float64(t.Unit)/max(d.Seconds(), 1e-9)))
		var parts []string
		for c := verify.OK; c < verify.NumClasses; c++ {
			parts = append(parts, fmt.Sprintf("%s %d", c, s.Counts[c.String()]))
		}
		fmt.Fprintf(w, "  %s; in doubt (write in flight, old or new data accepted) %d\n", strings.Join(parts, ", "), s.InDoubt)
		if s.Unchecked > 0 {
			fmt.Fprintf(w, "  not checked: %d blocks last written by a phase without verify (their content is unknown)\n", s.Unchecked)
		}
		for _, f := range s.Findings {
			fmt.Fprintf(w, "  offset %d  %-11s  %s\n", f.Offset, f.Class, f.Detail)
		}
		if n := s.Problems(); n > uint64(len(s.Findings)) {
			fmt.Fprintf(w, "  ... and %d more problem blocks (the first %d are listed)\n", n-uint64(len(s.Findings)), len(s.Findings))
		}
	}
	if rep.Problems > 0 {
		fmt.Fprintf(w, "verify: FAIL: %d problem blocks\n", rep.Problems)
	} else {
		fmt.Fprintln(w, "verify: PASS: every written block holds what was acknowledged")
	}
}

// liveRun returns the pid of a lunbench still running into dir. A run
// removes its lunbench.pid when it ends, but a crash leaves it, and after a
// reboot the pid may belong to another program: only a live process whose
// command line names lunbench counts.
func liveRun(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "lunbench.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "lunbench") {
		return 0, false
	}
	return pid, true
}
