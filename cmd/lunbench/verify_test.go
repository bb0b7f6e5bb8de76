package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lunbench/workload/verify"
	"lunbench/workload/verify/verifytest"
)

// verifyFixture builds a results directory as a run with verify: true on
// target lun0 leaves it: RUNDIR/verify/lun0.genmap over a 4 MiB file device
// written twice, with the three planted faults of verifytest.PlantFaults
// when faults is set. It returns the results directory and the device.
func verifyFixture(t *testing.T, faults bool) (dir, dev string) {
	t.Helper()
	root := verifytest.DirectDir(t)
	dir, dev = filepath.Join(root, "res"), filepath.Join(root, "lun0.dat")
	const size = 4 << 20
	m, err := verify.CreateMap(verify.MapPath(dir, "lun0"), verify.Header{
		RunID: 0xabcdef, Length: size, Unit: 4096, Target: "lun0", Device: dev, DeviceSize: size})
	if err != nil {
		t.Fatal(err)
	}
	if faults {
		verifytest.PlantFaults(t, dev, m)
	} else {
		verifytest.WriteAll(t, dev, m, 0)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, dev
}

func runVerifyCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = execute(append([]string{"verify"}, args...), nil, &o, &e, make(chan os.Signal))
	return code, o.String(), e.String()
}

// TestVerifyPlantedFaults: the command reports the three planted faults at
// their offsets, exits 1, and writes verify-<time>.json.
func TestVerifyPlantedFaults(t *testing.T) {
	dir, _ := verifyFixture(t, true)
	code, out, errOut := runVerifyCmd(dir)
	if code != exitFail {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("lunbench verify %s:\n%s", dir, out)
	for _, want := range []string{
		"lun0 (", "1024 blocks of 4KiB",
		"ok 1021, lost 1, misdirected 1, torn 0, corrupt 1, unwritten 0",
		"offset 12288  corrupt      sector at byte 12288: no stamp, non-zero data",
		"offset 28672  lost         holds generation 1",
		"offset 45056  misdirected  sector at byte 45056 holds data written for offset 81920",
		"verify: FAIL: 3 problem blocks",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "verify-*.json"))
	if len(files) != 1 {
		t.Fatalf("verify json files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	var rep verifyReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != "FAIL" || rep.Problems != 3 || len(rep.Summaries) != 1 || len(rep.Summaries[0].Findings) != 3 ||
		rep.Summaries[0].Findings[1].Class != verify.Lost || rep.Summaries[0].When != "lunbench verify" {
		t.Fatalf("report %s", b)
	}
}

// TestVerifyClean: a device that holds every acknowledged write passes.
func TestVerifyClean(t *testing.T) {
	dir, _ := verifyFixture(t, false)
	// A crash leaves the pid file; its process is gone.
	os.WriteFile(filepath.Join(dir, "lunbench.pid"), []byte("2147483646\n"), 0o644)
	code, out, errOut := runVerifyCmd(dir)
	if code != exitPass || !strings.Contains(out, "verify: PASS") || !strings.Contains(out, "ok 1024,") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// --json prints the report and nothing else.
	code, out, _ = runVerifyCmd(dir, "--json", "--target", "lun0")
	var rep verifyReport
	if err := json.Unmarshal([]byte(out), &rep); code != exitPass || err != nil || rep.Verdict != "PASS" || rep.Summaries[0].Blocks != 1024 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
}

// TestVerifyRenamedDevice: after a reboot renamed the device, --device
// names the new path.
func TestVerifyRenamedDevice(t *testing.T) {
	dir, dev := verifyFixture(t, true)
	moved := dev + ".renamed"
	if err := os.Rename(dev, moved); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runVerifyCmd(dir)
	if code != exitRuntime || !strings.Contains(errOut, "target lun0: open device") || !strings.Contains(errOut, "--device") {
		t.Fatalf("old name: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runVerifyCmd(dir, "--device", moved)
	if code != exitFail || !strings.Contains(out, "offset 45056  misdirected") {
		t.Fatalf("--device: exit %d\n%s%s", code, out, errOut)
	}
}

// TestVerifyBadInput: each way the command can be given the wrong thing
// ends with one clear line and the documented exit code.
func TestVerifyBadInput(t *testing.T) {
	dir, dev := verifyFixture(t, false)
	empty := t.TempDir()
	garbled := t.TempDir()
	os.MkdirAll(filepath.Join(garbled, "verify"), 0o755)
	os.WriteFile(verify.MapPath(garbled, "lun0"), []byte("not a map"), 0o644)
	small, big := filepath.Join(t.TempDir(), "small.dat"), filepath.Join(t.TempDir(), "big.dat")
	os.WriteFile(small, make([]byte, 1<<20), 0o644)
	os.WriteFile(big, make([]byte, 8<<20), 0o644)
	// A copy of the fixture whose pid file names a live process called
	// lunbench (sleep, started under that name).
	live := t.TempDir()
	os.MkdirAll(filepath.Join(live, "verify"), 0o755)
	b, _ := os.ReadFile(verify.MapPath(dir, "lun0"))
	os.WriteFile(verify.MapPath(live, "lun0"), b, 0o644)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	child := &exec.Cmd{Path: sleep, Args: []string{"lunbench", "60"}}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	os.WriteFile(filepath.Join(live, "lunbench.pid"), []byte(strconv.Itoa(child.Process.Pid)+"\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		// A results directory that is not there.
		{"no dir", []string{filepath.Join(empty, "nope")}, exitUsage, "no results directory"},
		// A file, not a directory.
		{"file", []string{dev}, exitUsage, "is not a results directory"},
		// A run without verify: true.
		{"no maps", []string{empty}, exitUsage, "the run had no phase with verify: true"},
		// A target the run did not have.
		{"unknown target", []string{dir, "--target", "lun9"}, exitUsage, `no generation map for target "lun9" (maps for: lun0)`},
		// A damaged map file.
		{"garbled map", []string{garbled}, exitUsage, "shorter than its 4096-byte header"},
		// A device that is not there.
		{"missing device", []string{dir, "--device", filepath.Join(empty, "gone")}, exitRuntime, "no such file"},
		// A device too small for the range written.
		{"too small", []string{dir, "--device", small}, exitUsage, "is 1048576 bytes (1MiB), too small for the range the run wrote, which ends at byte 4194304"},
		// A device of another size: not the one the run wrote.
		{"size mismatch", []string{dir, "--device", big}, exitUsage, "is 8388608 bytes (8MiB), the run wrote a device of 4194304 bytes (4MiB)"},
		// A run still going (its pid file names a live lunbench: this test).
		{"live run", []string{live}, exitUsage, "the run is still going"},
		// No directory at all.
		{"no args", nil, exitUsage, "accepts 1 arg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runVerifyCmd(c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, want %d with %q\nstdout:\n%sstderr:\n%s", code, c.code, c.want, out, errOut)
			}
			if n := strings.Count(errOut, "\n"); n != 1 {
				t.Errorf("%d lines on stderr, want one", n)
			}
		})
	}
}
