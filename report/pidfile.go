package report

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PidFileName is the file a running run keeps in its results directory so
// that `lunbench mark` can signal it from another shell.
const PidFileName = "lunbench.pid"

// WritePidFile records this process in dir: "PID START", START being the
// process's start time in clock ticks since boot (/proc/PID/stat field
// 22). A killed run leaves the file behind; the start time tells its PID,
// reused by another process later, from the run itself.
func WritePidFile(dir string) error {
	pid := os.Getpid()
	line := strconv.Itoa(pid)
	if start, err := procStart("/proc", pid); err == nil {
		line += " " + strconv.FormatUint(start, 10)
	}
	return WriteAtomic(filepath.Join(dir, PidFileName), []byte(line+"\n"))
}

// PidState is what a results directory's pid file says.
type PidState struct {
	Found bool // there is a pid file
	Pid   int
	// Alive is true when the process that wrote the file still runs: the
	// PID exists and, when the file recorded it, has the same start time.
	Alive bool
}

// ReadPidFile reads dir's pid file and checks the process under proc
// (normally /proc). A missing file is Found false, not an error.
func ReadPidFile(dir, proc string) (PidState, error) {
	b, err := os.ReadFile(filepath.Join(dir, PidFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return PidState{}, nil
	}
	if err != nil {
		return PidState{}, err
	}
	f := strings.Fields(string(b))
	st := PidState{Found: true}
	if len(f) == 0 {
		return st, fmt.Errorf("%s: empty", filepath.Join(dir, PidFileName))
	}
	if st.Pid, err = strconv.Atoi(f[0]); err != nil || st.Pid <= 0 {
		return st, fmt.Errorf("%s: %q is not a process id", filepath.Join(dir, PidFileName), f[0])
	}
	start, err := procStart(proc, st.Pid)
	if err != nil {
		return st, nil // no such process (or a killed one not yet reaped): stale
	}
	if len(f) > 1 {
		want, err := strconv.ParseUint(f[1], 10, 64)
		st.Alive = err == nil && want == start
		return st, nil
	}
	st.Alive = true // an old pid file without a start time
	return st, nil
}

// procStart reads a process's start time (field 22 of /proc/PID/stat).
func procStart(proc string, pid int) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	if f[0] == "Z" || f[0] == "X" {
		// Field 3, the state: a zombie is a run killed and not yet reaped.
		return 0, fmt.Errorf("process %d is dead (state %s)", pid, f[0])
	}
	return strconv.ParseUint(f[19], 10, 64) // field 22: 3 + index 19
}
