package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/spf13/cobra"

	"lunbench/report"
)

func newMarkCmd(stdout io.Writer) *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "mark [RUNDIR]",
		Short: "Mark a manual fault (cable pull, controller power-off) in a running run",
		Long: `mark tells a running 'lunbench run' that a manual fault happens now: the run
records a drill_mark event at this moment, exactly as the m key of the
dashboard does. With no argument it marks the newest running run under the
results root.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			} else {
				var err error
				if dir, err = newestRunning(root); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			ps, err := report.ReadPidFile(dir, "/proc")
			switch {
			case err != nil:
				return &exitError{code: exitUsage, err: err}
			case !ps.Found:
				return &exitError{code: exitUsage, err: fmt.Errorf("%s is not a running run (no %s)", dir, report.PidFileName)}
			case !ps.Alive:
				// Signalling the PID would hit whatever process has it now.
				return &exitError{code: exitUsage, err: fmt.Errorf("%s is not running: its %s names process %d, which is gone (a killed run); nothing marked", dir, report.PidFileName, ps.Pid)}
			}
			pid := ps.Pid
			if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
				return &exitError{code: exitRuntime, err: fmt.Errorf("signal lunbench (pid %d) of %s: %w", pid, dir, err)}
			}
			fmt.Fprintf(stdout, "marked a manual fault in %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "results", "results", "results root to look for running runs in")
	return cmd
}

// newestRunning returns the newest results directory under root whose pid
// file names a live run; stale ones (killed runs) are passed over.
func newestRunning(root string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(root, "*", report.PidFileName))
	sort.Strings(m) // directory names start with the UTC start time
	for i := len(m) - 1; i >= 0; i-- {
		dir := filepath.Dir(m[i])
		if ps, err := report.ReadPidFile(dir, "/proc"); err == nil && ps.Alive {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no running lunbench run under %s/ (name its results directory)", root)
}
