package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"lunbench/collect"
)

func newPathsCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	var root string
	cmd := &cobra.Command{
		Use:   "paths [DEVICE...]",
		Short: "Show LUN -> multipath map -> paths -> iSCSI sessions -> portals",
		Long: `paths shows how each device reaches its storage: the multipath map, its path
devices with their SCSI state, and for iSCSI paths the session and the portal.
With no argument it shows every multipath map and iSCSI session on the host.
Nothing here needs root.`,
		RunE: func(_ *cobra.Command, args []string) error {
			for _, a := range args {
				// A mistyped device must not be shown as the filesystem
				// the path would be on.
				if _, err := os.Stat(filepath.Join(root, a)); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("paths: %s: %w", a, bareError(err))}
				}
			}
			color := false
			if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" {
				color = true
			}
			if err := collect.Paths(stdout, args, collect.Host{Root: root}, asJSON, color); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a tree")
	cmd.Flags().StringVar(&root, "root", "/", "read /sys, /proc and /dev under this directory (for fixture trees)")
	cmd.Flags().MarkHidden("root")
	return cmd
}

// bareError drops the path a *fs.PathError repeats.
func bareError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
