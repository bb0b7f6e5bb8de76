package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"lunbench/scenarios"
)

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios ('scenarios show NAME' prints one)",
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
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario's YAML source",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return scenarios.Builtins(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			src, err := builtinSource(args[0])
			if err != nil {
				return err
			}
			_, err = stdout.Write(src)
			return err
		},
	})
	return cmd
}

// builtinSource is a built-in scenario's text, or an exit-2 error that
// lists the built-ins.
func builtinSource(name string) ([]byte, error) {
	src, ok := scenarios.BuiltinSource(name)
	if !ok {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("no built-in scenario %q; built-ins are: %s", name, strings.Join(scenarios.Builtins(), ", "))}
	}
	return src, nil
}

func newInitCmd(stdout io.Writer) *cobra.Command {
	var force bool
	var from string
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Write a commented starter scenario (or a copy of a built-in, --from) to NAME.yaml",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path, src, err := initScenario(args[0], from)
			if err != nil {
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o644)
			switch {
			case errors.Is(err, fs.ErrExist):
				return &exitError{code: exitUsage, err: fmt.Errorf("%s already exists (use --force to overwrite)", path)}
			case errors.Is(err, fs.ErrNotExist):
				return &exitError{code: exitUsage, err: fmt.Errorf("cannot write %s: directory %s does not exist", path, filepath.Dir(path))}
			case err != nil:
				return &exitError{code: exitRuntime, err: err}
			}
			defer f.Close()
			if _, err := f.Write(src); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			if err := f.Close(); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(stdout, "wrote %s; edit it, then: lunbench run %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.Flags().StringVar(&from, "from", "", "copy this built-in scenario (see 'lunbench scenarios') instead of the starter")
	return cmd
}

// initScenario picks the file `init ARG` writes and its content: the
// starter named after ARG, or the built-in from with its name changed.
func initScenario(arg, from string) (string, []byte, error) {
	path := strings.TrimSuffix(arg, ".yaml") + ".yaml"
	name := strings.TrimSuffix(filepath.Base(arg), ".yaml")
	if !scenarios.ValidName(name) {
		return "", nil, &exitError{code: exitUsage, err: fmt.Errorf("%q is not a valid scenario name: use letters, digits, '.', '_' and '-', up to 64, starting with a letter or digit", name)}
	}
	if from == "" {
		return path, scenarios.Starter(name), nil
	}
	src, err := builtinSource(from)
	if err != nil {
		return "", nil, err
	}
	return path, scenarios.Rename(src, name), nil
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
