package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// Local starts agents as child processes on this machine: for the hosts
// of a scenario that have no ssh: destination, and for tests.
type Local struct {
	// Path is the lunbench binary ("" is this one, os.Executable).
	Path string
	// Args come before "agent" and the agent's own arguments (a test
	// binary's -test.run, say); Env is added to the child's environment.
	Args []string
	Env  []string
	// Stderr receives the agents' standard error (nil: discarded).
	Stderr io.Writer
}

var _ Transport = (*Local)(nil)

// Start implements Transport.
func (l *Local) Start(ctx context.Context, h Host, args []string) (Session, error) {
	path := l.Path
	if path == "" {
		var err error
		if path, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("host %s: find lunbench's own binary: %w", h.Name, err)
		}
	}
	argv := append(append(append([]string{}, l.Args...), "agent"), args...)
	cmd := exec.Command(path, argv...)
	cmd.Env = append(os.Environ(), l.Env...)
	cmd.Stderr = l.Stderr
	// The agent exits when its stdin closes, which the kernel does when
	// the coordinator dies however it dies. (No Pdeathsig: Go may end the
	// thread that started the child, and the child would die with it.)
	// Its own process group keeps a Ctrl-C at the terminal for the
	// coordinator, which stops the agents in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("host %s: start agent: %w", h.Name, err)
	}
	// As with SSH, ctx bounds the start only: a coordinator that is
	// interrupted stops its agents through the protocol and still reads
	// their last messages.
	return &procSession{cmd: cmd, in: in, out: out}, nil
}

// procSession is an agent running as a child process.
type procSession struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out io.Reader
}

func (s *procSession) Stdin() io.WriteCloser { return s.in }
func (s *procSession) Stdout() io.Reader     { return s.out }

// Wait implements Session.
func (s *procSession) Wait() error { return s.cmd.Wait() }

// Kill implements Session.
func (s *procSession) Kill() error { return s.cmd.Process.Kill() }

// PID is the agent process's ID (tests kill it to lose a host).
func (s *procSession) PID() int { return s.cmd.Process.Pid }

// InProcess runs agents as goroutines of this process over pipes: the
// protocol exactly, without processes (tests, and the 64-host scale test).
type InProcess struct {
	// Options returns the agent options for a host (In and Out are set by
	// the transport).
	Options func(h Host) AgentOptions
}

var _ Transport = (*InProcess)(nil)

// Start implements Transport.
func (p *InProcess) Start(ctx context.Context, h Host, args []string) (Session, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var opt AgentOptions
	if p.Options != nil {
		opt = p.Options(h)
	}
	opt.In, opt.Out = inR, outW
	actx, cancel := context.WithCancel(context.Background())
	s := &pipeSession{in: inW, out: outR, done: make(chan struct{}), cancel: cancel}
	go func() {
		s.err = RunAgent(actx, opt)
		inR.Close()
		outW.Close()
		close(s.done)
	}()
	return s, nil
}

// pipeSession is an in-process agent.
type pipeSession struct {
	in     *io.PipeWriter
	out    *io.PipeReader
	done   chan struct{}
	cancel context.CancelFunc
	err    error
}

func (s *pipeSession) Stdin() io.WriteCloser { return s.in }
func (s *pipeSession) Stdout() io.Reader     { return s.out }

// Wait implements Session.
func (s *pipeSession) Wait() error { <-s.done; return s.err }

// Kill implements Session: the agent's channel breaks at once.
func (s *pipeSession) Kill() error {
	s.cancel()
	s.in.CloseWithError(io.ErrClosedPipe)
	s.out.CloseWithError(io.ErrClosedPipe)
	return nil
}
