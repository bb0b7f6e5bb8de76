package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileInput runs the command line on the hostile cases of issue 11
// and checks the exit code, the message and that a refused run left no
// results directory behind. Each of them used to crash, hang, exit 0 or 3,
// or leave a results directory.
func TestHostileInput(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.dat")
	if err := os.WriteFile(small, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "run.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// scenario writes a one-target, one-phase scenario and returns its path.
	scenario := func(name, target, phase string) string {
		p := filepath.Join(dir, name+".yaml")
		src := "name: h\ntargets:\n  - name: a\n" + target + "phases:\n  - name: p\n    bs: 4k\n    duration: 1s\n" + phase
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := "    rw: read\n"
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		// A rate that spun forever in missed-slot accounting.
		{"rate_iops 5e9", []string{"run", scenario("r1", "    path: "+small+"\n", read+"    rate_iops: 5e9\n")}, exitUsage,
			"r1.yaml:10:16: rate_iops in phase \"p\" must be 0 (no pacing) or from 0.1 to 10000000 I/Os per second, got 5e9"},
		// A rate that waited forever for its first slot.
		{"rate_iops 1e-300", []string{"run", scenario("r2", "    path: "+small+"\n", read+"    rate_iops: 1e-300\n")}, exitUsage,
			"r2.yaml:10:16: rate_iops in phase \"p\""},
		// A throughput beyond any device.
		{"rate 8EiB/s", []string{"run", scenario("r3", "    path: "+small+"\n", read+"    rate: 8EiB/s\n")}, exitUsage,
			"r3.yaml:10:11: rate in phase \"p\" must be 0 (no pacing) or from 409.6B/s to 38.15GiB/s at bs 4KiB"},
		// /dev/zero as the scenario file used to exhaust memory.
		{"scenario /dev/zero", []string{"run", "/dev/zero"}, exitUsage,
			"/dev/zero: a character device, not a regular file"},
		// A directory as the target: exit 3 after creating results.
		{"target is a directory", []string{"run", scenario("t1", "    path: "+dir+"\n", read)}, exitUsage,
			"t1.yaml:3:5: target \"a\": " + dir + ": is a directory, not a regular file or block device"},
		// /dev/null and /dev/zero read as nothing and as endless zeros.
		{"target /dev/null", []string{"run", scenario("t2", "    path: /dev/null\n", read)}, exitUsage,
			"t2.yaml:3:5: target \"a\": /dev/null: is a character device (1:3), not a regular file or block device"},
		{"target /dev/zero", []string{"run", scenario("t3", "    path: /dev/zero\n", read)}, exitUsage,
			"t3.yaml:3:5: target \"a\": /dev/zero: is a character device (1:5), not a regular file or block device"},
		// A NUL byte failed at run time; a newline created a file named so.
		{"path with NUL", []string{"run", scenario("t4", "    path: \"/tmp/x\\0y\"\n    size: 1MiB\n", read)}, exitUsage,
			"t4.yaml:4:11: path in target \"a\" contains the control character \"\\x00\" at byte 7"},
		{"path with newline", []string{"run", scenario("t5", "    path: \"/tmp/x\\ny\"\n    size: 1MiB\n", read)}, exitUsage,
			"t5.yaml:4:11: path in target \"a\" contains the control character \"\\n\" at byte 7"},
		// An offset past the end of the file.
		{"range outside the device", []string{"run", scenario("t6", "    path: "+small+"\n    offset: 2MiB\n", read)}, exitUsage,
			"t6.yaml:3:5: target \"a\": offset 2MiB lies at or past the end of " + small + " (size 1MiB)"},
		// Verify splits the range per worker: 1 MiB has no 512 blocks of 4k.
		{"verify needs qd blocks", []string{"run", scenario("t7", "    path: "+small+"\n    allow_write: true\n", "    rw: randwrite\n    verify: true\n    qd: 512\n")}, exitUsage,
			"t7.yaml:7:5: phase \"p\": verify needs at least qd (512) blocks of 4KiB in target \"a\"'s range (1MiB)"},
		// --out into another run's results mixed the two.
		{"--out not empty", []string{"run", scenario("o1", "    path: "+small+"\n", read), "--out", full}, exitUsage,
			"results directory " + full + " exists and is not empty (it holds run.json)"},
		// A mistyped device showed the root filesystem and exited 0.
		{"paths /nonexistent", []string{"paths", "/nonexistent-lbhost"}, exitUsage, "paths: /nonexistent-lbhost: no such file or directory"},
		// cobra printed its help and exited 0.
		{"completion tcsh", []string{"completion", "tcsh"}, exitUsage, "completion: no script for shell \"tcsh\"; shells: bash, fish, powershell, zsh"},
		// "use --force" was no help for a missing directory.
		{"init into a missing directory", []string{"init", filepath.Join(dir, "nope", "x")}, exitUsage,
			"directory " + filepath.Join(dir, "nope") + " does not exist"},
		// A name the loader refuses was written anyway.
		{"init bad name", []string{"init", filepath.Join(dir, "bad name!")}, exitUsage, "\"bad name!\" is not a valid scenario name"},
		// --from with an unknown built-in.
		{"init --from unknown", []string{"init", filepath.Join(dir, "c"), "--from", "nope"}, exitUsage,
			"no built-in scenario \"nope\"; built-ins are: acceptance, failover-drill, quickstart"},
		{"scenarios show unknown", []string{"scenarios", "show", "nope"}, exitUsage, "no built-in scenario \"nope\""},
		// Chart sizes that overlap labels or need gigabytes.
		{"report --width 10", []string{"report", full, "--width", "10"}, exitUsage, "--width 10 is out of range: charts are 320 to 8000 pixels"},
		{"report --height 100000", []string{"report", full, "--height", "100000"}, exitUsage, "--height 100000 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(dir)
			var stdout, stderr bytes.Buffer
			args := tt.args
			if args[0] == "run" {
				args = append(args, "--no-tui", "--results", filepath.Join(dir, "results"))
			}
			code := execute(args, strings.NewReader(""), &stdout, &stderr, make(chan os.Signal))
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tt.code, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "results")); err == nil {
				t.Fatalf("a results directory was created")
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Fatalf("%d files in the test directory before, %d after", len(before), len(after))
			}
		})
	}
}

// TestInitFromBuiltin copies a built-in to edit: the copy carries the new
// name and loads like the original once its variables are set.
func TestInitFromBuiltin(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"init", filepath.Join(dir, "drill"), "--from", "failover-drill"}, nil, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(dir, "drill.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := execute([]string{"scenarios", "show", "failover-drill"}, nil, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("scenarios show: exit %d", code)
	}
	want := strings.Replace(stdout.String(), "\nname: failover-drill\n", "\nname: drill\n", 1)
	if string(got) != want {
		t.Fatalf("the copy is not the built-in with its name changed:\n%s", got)
	}
}
