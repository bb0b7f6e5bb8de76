package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
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
			b, err := os.ReadFile(filepath.Join(dir, "lunbench.pid"))
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s is not a running run (no lunbench.pid): %w", dir, err)}
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s/lunbench.pid: not a process id", dir)}
			}
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

// newestRunning returns the newest results directory under root that holds
// a pid file.
func newestRunning(root string) (string, error) {
	m, _ := filepath.Glob(filepath.Join(root, "*", "lunbench.pid"))
	if len(m) == 0 {
		return "", fmt.Errorf("no running lunbench run under %s/ (name its results directory)", root)
	}
	sort.Strings(m) // directory names start with the UTC start time
	return filepath.Dir(m[len(m)-1]), nil
}
