package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDrillSecretNotInArgv runs a drill whose inject command names a
// secret in a variable, and reads the argv of the running shell from
// /proc/PID/cmdline: it must show ${LBHOST_CHAP_SECRET}, not the secret
// (before issue 11 the expanded command was sh's argument, so ps showed
// the secret; now it travels in the shell's environment). The command
// checks the value it sees, so the shell got it; and no results file may
// hold it.
func TestDrillSecretNotInArgv(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t, t.TempDir())
	dir := t.TempDir()
	secret := fmt.Sprintf("s3cr3t-%d-lbhost", os.Getpid())
	marker := fmt.Sprintf("lbhost-drill-%d", os.Getpid())
	src := fmt.Sprintf(`name: secret
targets: [{name: f, path: %s, size: 16MiB, allow_write: true}]
phases:
  - name: p
    rw: randread
    bs: 4k
    duration: 6s
    drills:
      - name: chap
        at: 1s
        inject: 'test "${LBHOST_CHAP_SECRET}" = "$LBHOST_EXPECT" && sleep 3 # %s'
        recover: {command: 'true', at: 1s}
`, filepath.Join(dir, "lbhost-secret.dat"), marker)
	// The command compares with a second variable: the secret itself
	// must not be written in it.
	r := startRun(t, bin, dir, src, "LBHOST_CHAP_SECRET="+secret, "LBHOST_EXPECT="+secret)
	var argv []byte
	deadline := time.Now().Add(20 * time.Second)
	for argv == nil && time.Now().Before(deadline) {
		argv = findCmdline(marker)
		time.Sleep(50 * time.Millisecond)
	}
	if argv == nil {
		t.Fatalf("the drill's shell never showed up in /proc; stderr:\n%s", r.stderr)
	}
	if bytes.Contains(argv, []byte(secret)) || !bytes.Contains(argv, []byte("${LBHOST_CHAP_SECRET}")) {
		t.Fatalf("argv of the drill command: %q", bytes.ReplaceAll(argv, []byte{0}, []byte(" ")))
	}
	if code := r.wait(t, 60*time.Second); code != exitPass {
		t.Fatalf("exit %d; stderr:\n%s", code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(r.out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The shell saw the value: the test in the command passed.
	var run struct {
		Drills []struct {
			Inject *struct {
				ExitCode int    `json:"exit_code"`
				Command  string `json:"command"`
			} `json:"inject"`
		} `json:"drills"`
	}
	if err := json.Unmarshal(b, &run); err != nil || len(run.Drills) != 1 || run.Drills[0].Inject == nil {
		t.Fatalf("run.json drills: %v\n%s", err, b)
	}
	if in := run.Drills[0].Inject; in.ExitCode != 0 || !strings.Contains(in.Command, "${LBHOST_CHAP_SECRET}") {
		t.Errorf("inject: exit %d, recorded %q; want exit 0 (the shell saw the secret) and the command as written", in.ExitCode, in.Command)
	}
	filepath.Walk(r.out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if c, _ := os.ReadFile(p); bytes.Contains(c, []byte(secret)) {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}

// findCmdline returns the NUL-separated argv of a process whose command
// line contains marker, or nil.
func findCmdline(marker string) []byte {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(marker)) {
			return b
		}
	}
	return nil
}
