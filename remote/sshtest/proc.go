package sshtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Procs lists the processes whose command line holds token as a whole
// argument or within one: a test gives a remote agent a unique argument and
// finds it again by that, never by a program name.
func Procs(token string) []int {
	self := os.Getpid()
	var out []int
	for _, pid := range allPIDs() {
		if pid == self {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err == nil && bytes.Contains(cl, []byte(token)) {
			out = append(out, pid)
		}
	}
	return out
}

// Descendants lists pid's children, their children and so on, from
// /proc/PID/stat's ppid field (proc(5)).
func Descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range allPIDs() {
		if pp := ppid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func allPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// ppid reads the 4th field of /proc/PID/stat; the 2nd, (comm), may hold
// blanks and parentheses, so the fields are counted after its last ')'.
func ppid(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func comm(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return strings.TrimSpace(string(b))
}

func keygen(t testing.TB, path string) {
	t.Helper()
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", Prefix+" test key", "-f", path)
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("sshtest: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// syncBuffer is a bytes.Buffer that sshd's output goroutine and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
