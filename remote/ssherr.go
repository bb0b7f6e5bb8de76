package remote

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// What went wrong reaching a host over SSH; an *SSHError wraps one, so
// callers test with errors.Is.
var (
	// ErrUnreachable: no TCP connection (refused, no route, timed out,
	// unknown name) or the server closed it before authentication.
	ErrUnreachable = errors.New("host unreachable")
	// ErrAuthRefused: the server refused every key ssh offered.
	ErrAuthRefused = errors.New("authentication refused")
	// ErrHostKey: the host's key is not in known_hosts, or differs from it.
	ErrHostKey = errors.New("host key not known or changed")
	// ErrConnectionLost: an established connection ended without the
	// agent exiting: the server's side died, the network stopped answering
	// keepalives, or it reset.
	ErrConnectionLost = errors.New("connection lost")
	// ErrArch: the host runs another system or architecture than this
	// lunbench and has no lunbench of this version of its own.
	ErrArch = errors.New("remote architecture unsupported")
	// ErrBootstrap: the remote bootstrap could not check, copy or start
	// lunbench (no cache directory, a short copy, a bad checksum).
	ErrBootstrap = errors.New("bootstrap failed")
	// ErrSSH: ssh failed in another way (exit status 255).
	ErrSSH = errors.New("ssh failed")
)

// SSHError is a failure to start or keep an agent over SSH.
type SSHError struct {
	Host Host
	Kind error  // one of the Err* values above
	Line string // ssh's (or the bootstrap's) own words, one line
}

func (e *SSHError) Error() string {
	who := e.Host.Name
	if e.Host.SSH != "" && e.Host.SSH != who {
		who += " (" + e.Host.SSH + ")"
	}
	if e.Line == "" {
		return fmt.Sprintf("host %s: %v", who, e.Kind)
	}
	return fmt.Sprintf("host %s: %v: %s", who, e.Kind, e.Line)
}

// Unwrap returns the kind, for errors.Is.
func (e *SSHError) Unwrap() error { return e.Kind }

// classify reads ssh's stderr (lines, oldest first) after ssh exited with
// status 255 and names the failure, quoting the line that says it.
func classify(lines []string) (kind error, line string) {
	// ssh's messages, from OpenSSH's ssh.c, sshconnect.c and sshconnect2.c.
	rules := []struct {
		kind error
		has  []string
	}{
		{ErrHostKey, []string{"host key is known for", "REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed", "Host key for "}},
		{ErrAuthRefused, []string{"Permission denied (", "Too many authentication failures", "No more authentication methods"}},
		{ErrConnectionLost, []string{"closed by remote host", "not responding", "Broken pipe", "client_loop: send disconnect"}},
		{ErrUnreachable, []string{"ssh: connect to host", "Could not resolve hostname", "Connection closed by", "Connection reset by", "kex_exchange_identification", "Connection timed out during banner exchange"}},
	}
	for _, r := range rules {
		for _, l := range lines {
			for _, h := range r.has {
				if strings.Contains(l, h) {
					return r.kind, strings.TrimSpace(l)
				}
			}
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "Warning: Permanently added") {
			return ErrSSH, l
		}
	}
	return ErrSSH, "ssh exited with status 255 and said nothing"
}

// tail keeps the last lines written to it (ssh's and the agent's stderr),
// for error messages; it copies every write to an optional writer too.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
	copyW io.Writer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.copyW != nil {
		t.copyW.Write(p) // a live copy only; its failure is not the agent's
	}
	t.part = append(t.part, p...)
	for {
		i := strings.IndexByte(string(t.part), '\n')
		if i < 0 {
			break
		}
		t.add(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4096 {
		t.add(string(t.part))
		t.part = t.part[:0]
	}
	return len(p), nil
}

func (t *tail) add(l string) {
	t.lines = append(t.lines, strings.TrimRight(l, "\r"))
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// Lines returns the kept lines, the unfinished last one included.
func (t *tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.part) > 0 {
		out = append(out, string(t.part))
	}
	return out
}
