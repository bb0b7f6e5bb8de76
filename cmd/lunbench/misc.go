package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"lunbench/scenarios"
)

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, name := range scenarios.Builtins() {
				// Read only the description: a built-in may need variables
				// (LUN=...) before it validates, and listing should not.
				src, _ := scenarios.BuiltinSource(name)
				var head struct {
					Description string `yaml:"description"`
				}
				yaml.Unmarshal(src, &head)
				desc := strings.SplitN(strings.TrimSpace(head.Description), "\n", 2)[0]
				fmt.Fprintf(stdout, "%-16s %s\n", name, desc)
			}
			return nil
		},
	}
}

func newInitCmd(stdout io.Writer) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Write a commented starter scenario to NAME.yaml",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := strings.TrimSuffix(args[0], ".yaml")
			path := name + ".yaml"
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o644)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%w (use --force to overwrite)", err)}
			}
			defer f.Close()
			if _, err := f.Write(scenarios.Starter(name)); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(stdout, "wrote %s; edit it, then: lunbench run %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func newSchemaCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print a JSON Schema of the scenario format, for editors",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := stdout.Write(scenarios.Schema())
			return err
		},
	}
}
