package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"lunbench/collect"
	"lunbench/collect/preflight"
	"lunbench/iscsi/probe"
	"lunbench/report"
	"lunbench/report/live"
	"lunbench/scenarios"
	"lunbench/workload"
)

// runOptions are the flags of `lunbench run`.
type runOptions struct {
	scenario string
	out      string // exact results directory
	root     string // results root, a directory per run below it
	noTUI    bool
	destroy  string
	seed     uint64
	metrics  string // --metrics ADDR, "" off
	// sshConfig and sshOptions reach ssh as -F and -o for the hosts of a
	// scenario with hosts:.
	sshConfig  string
	sshOptions []string
	now        func() time.Time
	lookup     func(string) (string, bool)
	stdin      io.Reader // the scenario when it is "-"
}

func newRunCmd(stdout, stderr io.Writer, sig <-chan os.Signal) *cobra.Command {
	o := runOptions{now: time.Now, lookup: os.LookupEnv}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run a scenario file, - for stdin, or a built-in scenario (see 'lunbench scenarios')",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return scenarios.Builtins(), cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario, o.stdin = args[0], cmd.InOrStdin()
			code, err := runScenario(o, stdout, stderr, sig)
			if code == exitPass && err == nil {
				return nil
			}
			return &exitError{code: code, err: err}
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "write results to exactly this directory")
	f.StringVar(&o.root, "results", "results", "results root: each run writes <root>/<UTC time>_<scenario>/")
	f.BoolVar(&o.noTUI, "no-tui", false, "line output instead of the dashboard (also when stdout is not a terminal)")
	f.StringVar(&o.destroy, "destroy-data", "", "allow writing to this exact device even though it carries a filesystem or partition signature")
	f.Uint64Var(&o.seed, "seed", 0, "override the scenario's seed (0 keeps it)")
	f.StringVar(&o.metrics, "metrics", "", metricsFlagHelp)
	f.StringVar(&o.sshConfig, "ssh-config", "", "ssh client config for the scenario's hosts: (ssh -F; default ~/.ssh/config)")
	f.StringArrayVar(&o.sshOptions, "ssh-option", nil, "an ssh option KEY=VALUE for the scenario's hosts: (ssh -o; repeatable)")
	return cmd
}

// runScenario is `lunbench run`: it returns the exit code and the error to
// show (nil when the verdict says it all).
func runScenario(o runOptions, stdout, stderr io.Writer, sig <-chan os.Signal) (int, error) {
	root := o.root
	lookup := func(k string) (string, bool) {
		if v, ok := o.lookup(k); ok {
			return v, true
		}
		if k == "LUNBENCH_QUICKSTART_FILE" {
			p, err := quickstartFile(root)
			if err != nil {
				return "", false
			}
			return p, true
		}
		return "", false
	}
	var sc *scenarios.Scenario
	var err error
	if o.scenario == "-" {
		sc, err = scenarios.LoadReader("stdin", o.stdin, lookup)
	} else {
		sc, err = scenarios.Resolve(o.scenario, lookup)
	}
	if err != nil {
		var ve *scenarios.ValidationError
		if errors.As(err, &ve) {
			return exitUsage, fmt.Errorf("scenario is not valid:\n%w", err)
		}
		return exitUsage, err
	}
	if o.seed != 0 {
		sc.Seed = o.seed
	}
	if sc.MultiHost() {
		// Targets live on other hosts: their agents check them.
		return runHosts(o, sc, stdout, stderr, sig)
	}
	// Two targets on one device, or a mistyped /dev name about to become
	// a file in RAM: refused before a results directory exists.
	if err := workload.Precheck(sc, workload.SysRoot{}); err != nil {
		return exitUsage, err
	}
	// Metrics first: a wrong address is an argument error, before any
	// results directory exists.
	exp, stopMetrics, code, err := startMetrics(o.metrics, targetPaths(sc), stdout)
	if err != nil {
		return code, err
	}
	defer stopMetrics()
	start := o.now()
	dirPath := o.out
	if dirPath == "" {
		dirPath = filepath.Join(root, report.DirName(start, sc.Name))
	}
	if o.out != "" {
		if err := report.CheckOutDir(o.out); err != nil {
			return exitUsage, err
		}
	}
	// Targets are probed and checked before the results directory exists,
	// so a scenario that cannot run leaves nothing behind.
	warns := &heldWarnings{w: stderr}
	runner, err := workload.NewRunner(sc, workload.Options{Destroy: o.destroy, Now: o.now, Results: dirPath, Warn: warns.warn}, nil)
	if err != nil {
		var ce *workload.ConfigError
		if errors.As(err, &ce) {
			return exitUsage, fmt.Errorf("scenario is not valid:\n%w", err)
		}
		return exitRuntime, err
	}
	defer runner.Close() // Run closes it too; this covers the early returns
	dir, err := report.CreateDir(dirPath)
	if err != nil {
		return exitRuntime, err
	}
	defer dir.Close()
	// A results file that can no longer be written (a full disk) stops the
	// run as a signal would; it then ends as a runtime failure.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writeErr := make(chan error, 1)
	dir.OnError = func(err error) {
		select {
		case writeErr <- err:
		default:
		}
		cancel()
	}
	if err := dir.WriteScenario(sc); err != nil {
		return exitRuntime, fmt.Errorf("write scenario.yaml: %w", err)
	}
	build := report.ThisBuild()
	run := &report.RunJSON{
		Lunbench: report.Version, Build: &build, Scenario: sc.Name, Source: sc.Source, Status: "running",
		Host: report.ThisHost(), Start: start, Seed: sc.Seed, IntervalSec: sc.Interval.Seconds(),
	}
	// The same checks as `lunbench check`, recorded with the run so a
	// failed drill can be read against the host's set-up.
	pre := preflight.Run("/", expectations(sc), start)
	if b, err := json.Marshal(pre); err == nil {
		run.Extra = map[string]json.RawMessage{"preflight": b}
	}
	// The failover budget's inputs, read before any fault: a failed
	// session no longer shows its connection's timers.
	failovers := preflight.ReadFailovers(preflight.NewHost("/"), sc.Targets)
	if n := pre.Count(preflight.Error); n > 0 {
		fmt.Fprintf(stderr, "lunbench: preflight found %d error(s) in the host's iSCSI/multipath set-up; see 'lunbench check'\n", n)
	}
	probes, code, err := recordProbes(sc, lookup, run, stdout, stderr)
	if err != nil {
		return code, err
	}
	if err := dir.WriteRun(run); err != nil {
		return exitRuntime, fmt.Errorf("write run.json: %w", err)
	}
	fmt.Fprintf(stdout, "lunbench %s: scenario %s (%s), results in %s\n", report.Version, sc.Name, sc.Source, dirPath)

	mark := runner.Mark
	sinks := []workload.Sink{dir}
	var events workload.EventSink = dir
	var dash *live.Dashboard
	var screen tcell.Screen
	if !o.noTUI && isTerminal(stdout) {
		if screen, err = tcell.NewScreen(); err != nil {
			fmt.Fprintf(stderr, "lunbench: no dashboard (%v); line output instead\n", err)
			screen = nil
		}
	}
	if screen != nil {
		warns.hold()
		defer warns.release()
		dash = live.New(screen, live.Options{
			Scenario: sc.Name, RunLength: runLength(sc), NoColor: os.Getenv("NO_COLOR") != "", Targets: targetPaths(sc),
			OnMark: func() { mark("operator marked a manual fault (m)") },
		})
		sinks = append(sinks, dash)
		sinks = append(sinks, liveVerdictSinks(sc, dash)...) // watch branch: rules broken mid-run go red (liveverdict.go)
		defer restoreOnPanic(screen)                         // watch branch: terminal back on a panic (watch.go)
		events = live.TeeEvents(dir, dash)
	} else {
		sinks = append(sinks, &report.Progress{W: stdout})
		if v := newLiveVerdict(sc, lineVerdict(stdout)); v != nil {
			sinks = append(sinks, v)
		}
	}
	if exp != nil {
		// Fed from the aggregator's snapshots and the events, like the
		// dashboard: the workers never see it.
		sinks = append(sinks, exp)
		events = live.TeeEvents(events, exp)
		if v := newLiveVerdict(sc, exp.SetVerdict); v != nil {
			sinks = append(sinks, v)
		}
	}
	watches := newLoginWatches(sc, probes, lookup, events)
	if watches != nil {
		events = watches
	}
	runner.Attach(events, sinks...)
	// The pid file lets `lunbench mark` find this run from another shell.
	if err := report.WritePidFile(dirPath); err != nil {
		fmt.Fprintf(stderr, "lunbench: warning: %v ('lunbench mark' cannot find this run)\n", err)
	}
	defer os.Remove(filepath.Join(dirPath, report.PidFileName))
	go func() {
		for {
			select {
			case s := <-sig:
				if s == syscall.SIGUSR1 {
					// A manual fault (a pulled cable, a powered-off
					// controller) marked from another shell.
					mark("operator marked a manual fault (SIGUSR1 / lunbench mark)")
					continue
				}
				if dash == nil {
					fmt.Fprintf(stderr, "\nlunbench: %v: stopping, draining in-flight I/O and writing results\n", s)
				}
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var onDisk func([]collect.DiskStat)
	if dash != nil {
		onDisk = dash.AddDiskStats
	}
	if exp != nil {
		onDisk = teeDisk(onDisk, exp.AddDiskStats)
	}
	// Collectors first: their warnings go to stderr, which would garble
	// the dashboard once it owns the terminal.
	col := startCollectors(sc, dir, collect.Host{}, events, onDisk, stderr)
	dashDone := make(chan error, 1)
	dashCtx, stopDash := context.WithCancel(context.Background())
	defer stopDash()
	if dash != nil {
		// q in the dashboard stops the run as a signal would.
		go func() { dashDone <- dash.Run(dashCtx, cancel) }()
	} else {
		dashDone <- nil
	}
	res, runErr := runner.Run(ctx)
	select {
	case err := <-writeErr:
		if runErr == nil {
			runErr = fmt.Errorf("results: %w; run stopped", err)
		}
	default:
	}
	col.stop()
	if watches != nil {
		if b, err := json.Marshal(watches.finish()); err == nil {
			if run.Extra == nil {
				run.Extra = map[string]json.RawMessage{}
			}
			run.Extra[probe.LoginWatchKey] = b
		}
	}
	// The dashboard stays up, saying what is being written, until the
	// report is done (seconds for a long run); warnings meanwhile wait in
	// a buffer, since they would garble it.
	warn := stderr
	var held bytes.Buffer
	status := func(string) {}
	if dash != nil {
		warn, status = &held, dash.SetStatus
	}
	endDash := sync.OnceFunc(func() {
		stopDash()
		if err := <-dashDone; err != nil {
			fmt.Fprintf(stderr, "lunbench: dashboard: %v\n", err)
		}
		stderr.Write(held.Bytes())
		warns.release()
	})
	defer endDash()
	status("I/O stopped; writing results: run.json, histograms…")
	run.End = res.End
	run.Targets = res.Targets
	run.Phases = res.Phases
	run.Stalls = res.Stalls
	run.Drills = res.Drills
	run.Verify = res.Verify
	run.Steady = res.Steady
	run.RunID = res.RunID
	if err := report.AddPathMoves(dirPath, run); err != nil {
		fmt.Fprintf(warn, "lunbench: warning: path moves: %v\n", err)
	}
	report.AddBudgets(run, sc, failovers)
	extra := report.ExtraFor(run)
	// intervals.csv is flushed at every snapshot, so it is whole here.
	if rows, err := report.ReadIntervals(dirPath); err == nil {
		extra.Measured = report.CVMeasure(rows)
	}
	run.Criteria = report.Evaluate(sc, res, extra)
	run.Verdict = report.VerdictOf(run.Criteria, res)
	if exp != nil {
		exp.SetVerdict(string(run.Verdict), run.Verdict == report.Fail)
	}
	run.Status = "finished"
	switch {
	case runErr != nil:
		run.Status, run.Verdict, run.Error = "failed", report.Error, runErr.Error()
	case res.Interrupted:
		run.Status = "interrupted"
	}
	runJSONErr := dir.WriteRun(run)
	if runJSONErr != nil {
		// Go on to the summary: the terminal is the one record left.
		fmt.Fprintf(warn, "lunbench: write run.json: %v\n", runJSONErr)
	}
	// One histogram per phase × target × op, so a long run's report does
	// not decode a histogram per interval.
	if err := dir.WritePhaseHists(res.Phases); err != nil {
		fmt.Fprintf(warn, "lunbench: warning: phase histograms: %v\n", err)
	}
	closeErr := dir.Close()
	if closeErr == nil && runJSONErr == nil {
		status("I/O stopped; drawing the charts and writing report.md, report.html…")
		// Charts, report.md/html and junit.xml come from the directory
		// alone, exactly as `lunbench report` rebuilds them later.
		if err := report.Render(dirPath, report.Options{}); err != nil {
			fmt.Fprintf(warn, "lunbench: warning: report: %v (rebuild with: lunbench report %s)\n", err, dirPath)
		}
	}
	endDash()
	fmt.Fprintln(stdout)
	report.PrintSummaryWidth(stdout, run, terminalWidth(stdout))
	fmt.Fprintf(stdout, "results: %s\n", dirPath)
	switch {
	case runErr != nil:
		return exitRuntime, runErr
	case closeErr != nil:
		return exitRuntime, fmt.Errorf("results: %w", closeErr)
	case runJSONErr != nil:
		return exitRuntime, fmt.Errorf("write run.json: %w", runJSONErr)
	case res.Interrupted:
		return exitInterrupted, nil
	case run.Verdict == report.Fail:
		return exitFail, nil
	}
	return exitPass, nil
}

// quickstartFile picks where the quickstart's sparse file lives: under the
// results root when its filesystem takes O_DIRECT (ext4, xfs), else in the
// first temp directory that does and is not in RAM (tmpfs takes O_DIRECT
// since Linux 6.6, but a quickstart there would measure memory).
func quickstartFile(root string) (string, error) {
	cands := []string{filepath.Join(root, ".quickstart"), "/var/tmp/lunbench-quickstart", filepath.Join(os.TempDir(), "lunbench-quickstart")}
	for _, d := range cands {
		if err := os.MkdirAll(d, 0o755); err != nil {
			continue
		}
		if supportsDirectIO(d) && workload.RAMFilesystem(d) == "" {
			return filepath.Join(d, "quickstart.dat"), nil
		}
	}
	return "", fmt.Errorf("no directory among %v supports O_DIRECT", cands)
}

func supportsDirectIO(dir string) bool {
	p := filepath.Join(dir, ".directio-probe")
	fd, err := unix.Open(p, unix.O_CREAT|unix.O_RDWR|unix.O_DIRECT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	unix.Close(fd)
	os.Remove(p)
	return true
}

// isTerminal reports whether w is a terminal (the dashboard's condition).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// targetPaths maps the scenario's target names to their paths, for the
// dashboard's tables.
func targetPaths(sc *scenarios.Scenario) map[string]string {
	m := make(map[string]string, len(sc.Targets))
	for _, t := range sc.Targets {
		m[t.Name] = t.Path
	}
	return m
}

// terminalWidth is w's width in columns when it is a terminal, else 0 (no
// limit: a pipe or file keeps every column).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
		return cols
	}
	return 0
}

// runLength is the planned length of the whole run, or 0 when a phase is
// bounded by bytes only.
func runLength(sc *scenarios.Scenario) time.Duration {
	var total time.Duration
	for _, p := range sc.Phases {
		if p.Duration == 0 {
			return 0
		}
		total += p.Ramp + p.Duration
	}
	return total
}
