package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"lunbench/report"
)

// compareOptions are compare's flags and arguments.
type compareOptions struct {
	dirs      []string
	threshold string
	out       string
	json      bool
}

func newCompareCmd(stdout, stderr io.Writer) *cobra.Command {
	var o compareOptions
	cmd := &cobra.Command{
		Use:   "compare RUNDIR_A RUNDIR_B [RUNDIR...]",
		Short: "Compare runs against the first one: deltas, regressions, overlay charts",
		Long: `compare reads results directories, takes the first as the baseline (A) and
matches the others' (B, C, ...) phases, targets and ops to it by name. It
prints, per phase × target × op, throughput, IOPS, p50/p99/p99.9 latency,
errors and the longest stall of each run with its change against A, and marks
REGRESSION where a run is worse than A by more than --threshold (lower
throughput or IOPS, higher latency, errors or stall; errors or a stall where A
had none regress whatever the threshold). Phases only some runs have are
listed as not compared.

It writes into --out (default: compare-<UTC time> next to RUNDIR_A) the table
(compare.txt), the same as JSON (compare.json), compare.md and a
self-contained compare.html with the charts, and per phase two overlay
charts of all runs: throughput_<phase>.png (MiB/s per interval from the
phase's start) and latency_<phase>.png (latency by percentile).

Exit codes: 0 no regression, 1 a regression, 2 wrong arguments or a directory
that is not a results directory, 3 the output could not be written.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			o.dirs = args
			return runCompare(o, stdout, stderr, time.Now())
		},
	}
	cmd.Flags().StringVar(&o.threshold, "threshold", "10%", "a run worse than the baseline by more than this is a regression")
	cmd.Flags().StringVar(&o.out, "out", "", "directory for compare.txt, compare.json, compare.md, compare.html and the charts (default: compare-<UTC time> next to RUNDIR_A)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON instead of the table")
	return cmd
}

// runCompare compares the runs, writes the outputs and returns an
// exitError carrying the exit code (nil: no regression).
func runCompare(o compareOptions, stdout, stderr io.Writer, now time.Time) error {
	th, err := report.ParseThreshold(o.threshold)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--threshold: %w", err)}
	}
	c, err := report.Compare(o.dirs, th)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	out := o.out
	if out == "" {
		out = report.DefaultCompareDir(o.dirs[0], now)
	}
	if err := c.WriteCharts(out, report.Options{}); err != nil {
		return &exitError{code: exitRuntime, err: fmt.Errorf("%w (choose another place with --out)", err)}
	}
	var table, js bytes.Buffer
	if err := c.WriteTable(&table); err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	if err := c.WriteJSON(&js); err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	page, err := c.HTML()
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	docs := map[string][]byte{"compare.txt": table.Bytes(), "compare.json": js.Bytes(), "compare.md": []byte(c.Markdown()), "compare.html": page}
	for name, b := range docs {
		if err := report.WriteAtomic(filepath.Join(out, name), b); err != nil {
			return &exitError{code: exitRuntime, err: fmt.Errorf("compare output %s: %w", out, err)}
		}
	}
	if o.json {
		if _, err := stdout.Write(js.Bytes()); err != nil {
			return &exitError{code: exitRuntime, err: err}
		}
		fmt.Fprintf(stderr, "compare: written to %s\n", out)
	} else {
		if _, err := stdout.Write(table.Bytes()); err != nil {
			return &exitError{code: exitRuntime, err: err}
		}
		fmt.Fprintf(stdout, "Written to %s: compare.txt, compare.json, compare.md, compare.html and %d charts.\n", out, len(c.Charts))
	}
	if c.Regressions > 0 {
		return &exitError{code: exitFail}
	}
	return nil
}
