// Package remote runs one scenario from several initiator hosts at once: a
// coordinator starts `lunbench agent` on each host, speaks a small versioned
// protocol to it over the agent's stdin and stdout, puts every host's events
// on one timeline and merges their results.
//
// The transport that starts an agent is separate from the protocol: SSH (the
// system's ssh binary, so ~/.ssh/config, agents, ProxyJump and known_hosts
// work as admins expect) for real hosts, and Local (a child process) for the
// local host and for tests.
package remote

import (
	"context"
	"io"
)

// Host is one initiator host named in a scenario's hosts: list.
type Host struct {
	// Name is the scenario's name for the host; targets refer to it.
	Name string
	// SSH is the destination, user@host[:port]; empty for the local host.
	SSH string
}

// Session is one running agent: its stdin carries the coordinator's
// messages, its stdout the agent's. Closing Stdin tells the agent to exit;
// an agent whose stdin closes exits at once, so a dead coordinator leaves
// no agent behind.
type Session interface {
	// Stdin is the agent's standard input.
	Stdin() io.WriteCloser
	// Stdout is the agent's standard output.
	Stdout() io.Reader
	// Wait waits for the agent (and its transport process) to exit.
	Wait() error
	// Kill ends the transport process (and so the agent) at once.
	Kill() error
}

// Transport starts an agent on a host.
type Transport interface {
	// Start starts `lunbench agent` with args on h. The binary it runs is
	// the same version and architecture as the caller's: a transport that
	// finds another version on the host puts its own copy there first (in a
	// cache directory of its own, never over anything else).
	Start(ctx context.Context, h Host, args []string) (Session, error)
}
