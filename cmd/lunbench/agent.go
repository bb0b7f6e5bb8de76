package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"lunbench/remote"
	"lunbench/report"
)

// newAgentCmd is `lunbench agent`: what a coordinator starts on each host
// of a run over several hosts. It speaks remote's protocol on stdin and
// stdout (remote/PROTOCOL.md) and exits when stdin closes.
func newAgentCmd(stdin io.Reader, stdout io.Writer) *cobra.Command {
	var skew time.Duration
	cmd := &cobra.Command{
		Use:    "agent",
		Short:  "Run as a host's agent for a coordinator (started by lunbench run over ssh; not for people)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			err := remote.RunAgent(context.Background(), remote.AgentOptions{In: stdin, Out: stdout,
				Version: report.Version, Skew: skew})
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&skew, "clock-offset", 0, "test only: pretend this host's clock is off by this much")
	cmd.Flags().MarkHidden("clock-offset")
	return cmd
}
