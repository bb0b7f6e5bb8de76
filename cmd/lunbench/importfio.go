package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"lunbench/scenarios"
	"lunbench/scenarios/fioimport"
)

func newImportFioCmd(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "import-fio JOBFILE",
		Short: "Translate a fio job file into a scenario (stdout); what it cannot translate goes to stderr",
		Long: `import-fio translates a fio job file's jobs into phases of a lunbench scenario,
written to stdout: lunbench import-fio job.fio > scenario.yaml

Each option it cannot translate, or translates with a change, is listed on
stderr as JOBFILE:LINE: what and why. Exit 0 translated, 2 unreadable, no
job, or a result the scenario loader refuses (printed with its problems).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			defer f.Close()
			out, notes, err := fioimport.Translate(args[0], f)
			for _, n := range notes {
				fmt.Fprintf(stderr, "%s:%d: %s\n", args[0], n.Line, n.Msg)
			}
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			stdout.Write(out)
			// The result must load; ${LUN} stands for a device named later.
			lookup := func(k string) (string, bool) { return "/dev/LUN", k == "LUN" }
			if _, err := scenarios.Parse("translated scenario", out, lookup); err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("the translation of %s does not load; fix it by hand:\n%w", args[0], err)}
			}
			return nil
		},
	}
}
