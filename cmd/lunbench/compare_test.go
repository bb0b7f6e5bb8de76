package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fix is a compare fixture of the report package.
func fix(name string) string { return filepath.Join("..", "..", "report", "testdata", "compare", name) }

// TestCompareExitCodes runs `lunbench compare` on report's compare
// fixtures (report/testdata/compare, see report/compare_test.go).
func TestCompareExitCodes(t *testing.T) {
	notFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string // after compare and before --out
		want int
		out  string // in stdout or stderr
	}{
		// A planted 20% throughput drop and p99 rise.
		{"regression", []string{fix("base"), fix("slow")}, exitFail, "REGRESSION"},
		// A planted 20% p99 (and p50, p99.9) rise alone.
		{"latency regression", []string{fix("base"), fix("slowlat")}, exitFail, "p99         1.5ms      1.8ms      +20.0%  REGRESSION"},
		// 3% worse is noise at the default 10%.
		{"noise", []string{fix("base"), fix("noise")}, exitPass, "No regression beyond 10%"},
		// ... and a regression at 2%.
		{"threshold", []string{fix("base"), fix("noise"), "--threshold", "2%"}, exitFail, "REGRESSION"},
		// A phase missing from the second run is reported, not a crash.
		{"missing phase", []string{fix("base"), fix("partial")}, exitPass, "rand-4k lun0 read: in A, missing in B"},
		// JSON for pipelines, with the same exit code.
		{"json", []string{"--json", fix("base"), fix("slow")}, exitFail, `"regressions": 20`},
		// One directory is a usage error.
		{"one dir", []string{fix("base")}, exitUsage, "requires at least 2 arg"},
		// So is a threshold that is not a percentage.
		{"bad threshold", []string{fix("base"), fix("slow"), "--threshold", "lots"}, exitUsage, "--threshold"},
		// And a directory that is not a results directory, named.
		{"not results", []string{fix("base"), t.TempDir()}, exitUsage, "run.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append(append([]string{"compare"}, tt.args...), "--out", filepath.Join(t.TempDir(), "cmp"))
			code := execute(args, nil, &out, &errb, nil)
			if code != tt.want {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.want, out.String(), errb.String())
			}
			if !strings.Contains(out.String()+errb.String(), tt.out) {
				t.Errorf("output lacks %q:\n%s%s", tt.out, out.String(), errb.String())
			}
			if tt.name == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("--json output is not JSON:\n%s", out.String())
			}
		})
	}
	// An output directory that cannot be made is a runtime failure.
	var out, errb bytes.Buffer
	if code := execute([]string{"compare", fix("base"), fix("slow"), "--out", filepath.Join(notFile, "cmp")}, nil, &out, &errb, nil); code != exitRuntime {
		t.Errorf("unwritable --out: exit %d, want %d: %s", code, exitRuntime, errb.String())
	}
}

// TestCompareWritesOutputs checks the files compare leaves in --out.
func TestCompareWritesOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cmp")
	var out, errb bytes.Buffer
	execute([]string{"compare", fix("base"), fix("noise"), "--out", dir}, nil, &out, &errb, nil)
	for _, f := range []string{"compare.txt", "compare.json", "throughput_seq-read.png", "latency_seq-read.png", "throughput_rand-4k.png", "latency_rand-4k.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if txt, _ := os.ReadFile(filepath.Join(dir, "compare.txt")); !strings.HasPrefix(out.String(), string(txt)) {
		t.Errorf("compare.txt is not the printed table")
	}
}
