package workload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CommandRunner runs a drill's shell command. The default, ShellRunner,
// runs it with /bin/sh -c in its own process group; tests substitute their
// own.
type CommandRunner interface {
	// Run runs command, with its output written to the file out (when not
	// empty), and kills it after timeout. It fills every field of the
	// result but Command and Output, which the caller sets.
	Run(ctx context.Context, command string, timeout time.Duration, out string) CommandResult
}

// ShellRunner runs commands with /bin/sh -c. Each command gets its own
// process group, so a timeout kills everything it started (a pcs or ssh
// that hangs, the sleeps of a retry loop), not only the shell.
type ShellRunner struct {
	// Env is the commands' environment (nil: lunbench's own). Secrets a
	// command needs are passed this way, never written into it.
	Env []string
	// Now returns the wall-clock time (default time.Now).
	Now func() time.Time
}

// Run implements CommandRunner. The command's stdin is /dev/null: a drill
// must not wait for a person.
func (s ShellRunner) Run(ctx context.Context, command string, timeout time.Duration, out string) CommandResult {
	return s.RunShown(ctx, command, "", timeout, out)
}

// shownCommandVar carries a command RunShown keeps off the command line.
const shownCommandVar = "LUNBENCH_COMMAND"

// ShownRunner is a CommandRunner that can keep a command's expanded text
// out of its command line: ps then shows shown (the command as written,
// ${CHAP_SECRET} and all) while the shell runs command, exactly as if it
// had been given it. Drills use it when their runner has it.
type ShownRunner interface {
	RunShown(ctx context.Context, command, shown string, timeout time.Duration, out string) CommandResult
}

var _ ShownRunner = ShellRunner{}

// RunShown implements ShownRunner: /bin/sh -c 'eval "$LUNBENCH_COMMAND" #
// shown', with command in LUNBENCH_COMMAND. An empty shown runs command as
// Run does.
func (s ShellRunner) RunShown(ctx context.Context, command, shown string, timeout time.Duration, out string) CommandResult {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	res := CommandResult{Start: now(), ExitCode: -1}
	finish := func() CommandResult {
		res.End = now()
		res.Dur = res.End.Sub(res.Start)
		return res
	}
	var w *os.File
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			res.Err = err.Error()
			return finish()
		}
		f, err := os.Create(out)
		if err != nil {
			res.Err = err.Error()
			return finish()
		}
		defer f.Close()
		w = f
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, "/bin/sh", "-c", command)
	cmd.Env = s.Env
	if shown != "" {
		// The command travels in the environment, which only its owner
		// can read (/proc/PID/environ is 0400); the command line, which
		// anyone's ps shows, carries the command as written.
		env := s.Env
		if env == nil {
			env = os.Environ()
		}
		cmd.Env = append(env[:len(env):len(env)], shownCommandVar+"="+command)
		cmd.Args[2] = `eval "$` + shownCommandVar + `" # ` + strings.ReplaceAll(shown, "\n", " ")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if w != nil {
		cmd.Stdout, cmd.Stderr = w, w
	}
	// Kill the whole group, by the group's ID (the shell's PID).
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild holding the output open must not hang the drill.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		res.TimedOut = true
		res.Err = fmt.Sprintf("timed out after %s and was killed", timeout)
	case ctx.Err() != nil && err != nil:
		res.Err = "killed: the run stopped"
	case err != nil && res.ExitCode < 0:
		res.Err = err.Error()
	}
	return finish()
}

// Describe is a one-line account of how a command ended.
func (c *CommandResult) Describe() string {
	switch {
	case c == nil:
		return "not run"
	case c.Err != "":
		return c.Err
	case c.ExitCode != 0:
		return fmt.Sprintf("exit status %d after %s", c.ExitCode, c.Dur.Round(time.Millisecond))
	}
	return fmt.Sprintf("ok in %s", c.Dur.Round(time.Millisecond))
}
