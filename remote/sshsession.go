package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// start runs cmd (ssh, or in unit tests the bootstrap under a local sh),
// walks the bootstrap through to its start line and returns the session.
func (s *SSH) start(ctx context.Context, h Host, cmd *exec.Cmd) (*SSHSession, error) {
	began := time.Now()
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	ss := &SSHSession{Host: h, cmd: cmd, stdin: inW, out: outR, stderr: &tail{max: 20}}
	if s.Stderr != nil {
		ss.stderr.copyW = s.Stderr
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, ss.stderr
	// Its own process group: a Ctrl-C at the terminal reaches the
	// coordinator, which then closes the agents' stdin in order, and not
	// ssh, which would drop the agents' last words.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A ControlPersist master may keep ssh's stderr open long after ssh
	// exits; do not wait for it.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("host %s: start ssh: %w", h.Name, err)
	}
	ss.stdout = bufio.NewReaderSize(outR, 64<<10)

	// The handshake runs in its own goroutine so that ctx can end it: a
	// host that accepts TCP and then says nothing would hang it otherwise.
	done := make(chan error, 1)
	go func() { done <- s.handshake(ss) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		ss.Kill()
		<-done
		err = fmt.Errorf("host %s: start agent: %w", h.Name, ctx.Err())
	}
	if err != nil {
		ss.Kill()
		werr := ss.Wait()
		var se *SSHError
		if !errors.As(err, &se) && werr != nil && errors.As(werr, &se) {
			err = werr // ssh's own reason (auth, host key) beats "EOF"
		}
		outR.Close()
		return nil, err
	}
	ss.reader = &eofCloser{r: ss.stdout, f: outR}
	ss.Ready = time.Since(began)
	return ss, nil
}

// handshake reads the bootstrap's lines until it execs the agent, sending
// the binary when asked for it and the host can run it.
func (s *SSH) handshake(ss *SSHSession) error {
	var noise []string
	for {
		line, err := ss.stdout.ReadString('\n')
		if err != nil {
			if len(noise) > 0 {
				return fmt.Errorf("host %s: the connection ended before lunbench started; the remote said: %s", ss.Host.Name, strings.Join(noise, " | "))
			}
			return fmt.Errorf("host %s: the connection ended before lunbench started: %w", ss.Host.Name, err)
		}
		line = strings.TrimRight(line, "\r\n")
		m, ok, err := parseBootLine(line)
		if err != nil {
			return &SSHError{Host: ss.Host, Kind: ErrBootstrap, Line: err.Error()}
		}
		if !ok {
			// A login script's chatter: keep a little of it for errors.
			if len(noise) < 5 {
				noise = append(noise, line)
			}
			continue
		}
		switch m.Kind {
		case "start":
			ss.How, ss.Path = m.How, m.Path
			if m.How == "copied" {
				ss.Copied = s.self.size
			}
			return nil
		case "error":
			return &SSHError{Host: ss.Host, Kind: ErrBootstrap, Line: m.Text}
		case "need":
			if err := canRun(runtime.GOOS, runtime.GOARCH, m.OS, m.Machine); err != nil {
				io.WriteString(ss.stdin, "abort\n")
				have := "it has no lunbench on PATH"
				if m.Have != "none" {
					have = fmt.Sprintf("its lunbench says %q", m.Have)
				}
				return &SSHError{Host: ss.Host, Kind: ErrArch, Line: fmt.Sprintf(
					"%v, and %s: install %q for %s there", err, have, s.self.version, m.Machine)}
			}
			if err := s.send(ss); err != nil {
				return fmt.Errorf("host %s: copy lunbench: %w", ss.Host.Name, err)
			}
		}
	}
}

// send streams the binary after the "copy" line.
func (s *SSH) send(ss *SSHSession) error {
	f, err := os.Open(s.self.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.WriteString(ss.stdin, "copy\n"); err != nil {
		return err
	}
	n, err := io.Copy(ss.stdin, f)
	if err == nil && n != s.self.size {
		err = fmt.Errorf("%s changed while being sent: %d bytes, not %d", s.self.path, n, s.self.size)
	}
	return err
}

// Stdin is the agent's standard input; closing it ends the agent.
func (ss *SSHSession) Stdin() io.WriteCloser { return ss.stdin }

// Stdout is the agent's standard output; it reads EOF once ssh exits, and
// then lets go of the pipe.
func (ss *SSHSession) Stdout() io.Reader { return ss.reader }

// eofCloser closes f when r reads EOF (or fails), and keeps returning that
// error.
type eofCloser struct {
	r   io.Reader
	f   *os.File
	err error
}

func (e *eofCloser) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
		e.f.Close()
	}
	return n, err
}

// Kill ends ssh at once: the connection drops, and with it the agent's
// stdin.
func (ss *SSHSession) Kill() error {
	err := ss.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Wait waits for ssh to exit. It returns nil when the agent exited 0, an
// *SSHError when ssh itself failed (status 255: the connection dropped,
// authentication, host key), and otherwise the agent's status with the last
// lines of its stderr.
func (ss *SSHSession) Wait() error {
	err := ss.cmd.Wait()
	ss.stdin.Close()
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) {
		if err != nil {
			return fmt.Errorf("host %s: ssh: %w", ss.Host.Name, err)
		}
		return nil
	}
	lines := ss.stderr.Lines()
	if ee.ExitCode() == 255 {
		kind, line := classify(lines)
		if kind == ErrSSH && ss.reader != nil {
			// After the agent started, only the connection can fail; ssh
			// names why at LogLevel INFO, and says nothing below it.
			kind = ErrConnectionLost
		}
		return &SSHError{Host: ss.Host, Kind: kind, Line: line}
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("host %s: ssh killed by %v", ss.Host.Name, ws.Signal())
	}
	msg := fmt.Sprintf("host %s: agent exited with status %d", ss.Host.Name, ee.ExitCode())
	if c := ee.ExitCode(); c > 128 && c < 128+65 {
		// The bootstrap's shell reports a killed child as 128+signal; the
		// agent's own statuses are small (README: exit codes 0-3).
		msg = fmt.Sprintf("host %s: agent killed by signal %d (%v)", ss.Host.Name, c-128, syscall.Signal(c-128))
	}
	if len(lines) > 0 {
		msg += ": " + strings.Join(lines[max(0, len(lines)-3):], " | ")
	}
	return errors.New(msg)
}
