package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"lunbench/report"
)

// newReportCmd rebuilds the charts, report.md, report.html and junit.xml
// of a results directory from what it recorded.
func newReportCmd(stdout io.Writer) *cobra.Command {
	var opt report.Options
	cmd := &cobra.Command{
		Use:   "report RUNDIR",
		Short: "Rebuild charts, report.md/html and junit.xml from a results directory",
		Long: `report reads a results directory (run.json, intervals.csv, events.jsonl,
diskstats.csv, hist/*.hlog, scenario.yaml) and writes into it again:
throughput.png, iops.png, latency.png, latency_percentiles.png, paths.png and
device.png (where there is data for them), report.md, a self-contained
report.html and junit.xml.

Exit codes: 0 written, 2 the directory is missing or not a results directory,
3 a file could not be written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := report.CheckChartSize(opt.Width, opt.Height); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			err := report.Render(args[0], opt)
			var in *report.InputError
			switch {
			case errors.As(err, &in):
				return &exitError{code: exitUsage, err: err}
			case err != nil:
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(stdout, "report written to %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().IntVar(&opt.Width, "width", 1600, fmt.Sprintf("chart width in pixels (%d to %d)", report.MinChartPixels, report.MaxChartPixels))
	cmd.Flags().IntVar(&opt.Height, "height", 900, fmt.Sprintf("chart height in pixels (%d to %d)", report.MinChartPixels, report.MaxChartPixels))
	return cmd
}
