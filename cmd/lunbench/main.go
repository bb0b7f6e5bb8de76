// Command lunbench benchmarks iSCSI storage paths, runs failover drills
// against them and reports what the host saw. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"lunbench/report"
)

// Exit codes, as documented in the README.
const (
	exitPass        = 0
	exitFail        = 1
	exitUsage       = 2
	exitRuntime     = 3
	exitInterrupted = 130
)

// exitError carries an exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	os.Exit(execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sig))
}

// execute runs the command line and returns the process exit code.
func execute(args []string, stdin io.Reader, stdout, stderr io.Writer, sig <-chan os.Signal) int {
	root := newRoot(stdin, stdout, stderr, sig)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitPass
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "lunbench:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors: unknown command or flag, wrong argument count.
	fmt.Fprintln(stderr, "lunbench:", err)
	return exitUsage
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer, sig <-chan os.Signal) *cobra.Command {
	root := &cobra.Command{
		Use:   "lunbench",
		Short: "Benchmark iSCSI LUNs, drill their failover, and show what the host sees",
		Long: `lunbench drives O_DIRECT workloads from YAML scenarios against LUN block devices
(or a plain file), measures throughput, IOPS and latency percentiles over time,
and ends with a verdict a pipeline can act on.

Exit codes: 0 all criteria passed, 1 a criterion failed, 2 the scenario or the
arguments are wrong, 3 runtime failure, 130 interrupted (partial results written).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       report.ThisBuild().String(),
	}
	root.SetVersionTemplate("lunbench {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newRunCmd(stdout, stderr, sig),
		newScenariosCmd(stdout),
		newInitCmd(stdout),
		newSchemaCmd(stdout),
		newPathsCmd(stdout),
		newCheckCmd(stdout),
		newProbeCmd(stdout, sig),
		newReportCmd(stdout),
		newMarkCmd(stdout),
		newVerifyCmd(stdout, sig),
		newCompareCmd(stdout, stderr),
		newWatchCmd(stdout, stderr, sig),
		newImportFioCmd(stdout, stderr),
		newAgentCmd(stdin, stdout),
	)
	strictCompletion(root)
	return root
}

// strictCompletion makes `lunbench completion SHELL` refuse a shell it has
// no script for (tcsh, say) with exit 2; cobra's default prints its help
// and exits 0, which a setup script would take for success.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			var shells []string
			for _, sub := range c.Commands() {
				shells = append(shells, sub.Name())
			}
			return &exitError{code: exitUsage, err: fmt.Errorf("completion: no script for shell %q; shells: %s", args[0], strings.Join(shells, ", "))}
		}
	}
}
