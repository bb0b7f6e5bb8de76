package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckExitCodes runs `lunbench check` on the preflight fixture trees.
func TestCheckExitCodes(t *testing.T) {
	cases := []struct {
		tree string
		want int
	}{
		{"good", 0},           // reference 001's four-path set-up: warnings at most
		{"centos-default", 1}, // replacement_timeout 120 with queue_if_no_path is an error
		{"one-path-failed", 1},
	}
	for _, c := range cases {
		root := filepath.Join("..", "..", "collect", "preflight", "testdata", c.tree)
		var out, errb bytes.Buffer
		code := execute([]string{"check", "--root", root}, nil, &out, &errb, nil)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.tree, code, c.want, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), "Summary:") {
			t.Errorf("%s: no summary line:\n%s", c.tree, out.String())
		}
	}
	var out bytes.Buffer
	execute([]string{"check", "--json", "--root", filepath.Join("..", "..", "collect", "preflight", "testdata", "good")}, nil, &out, &out, nil)
	if !json.Valid(out.Bytes()) {
		t.Fatalf("check --json is not JSON:\n%s", out.String())
	}
}

// TestReportRebuilds rebuilds the charts and documents of a recorded run
// from its directory alone, and refuses a directory that is not a run.
func TestReportRebuilds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run1")
	if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "report", "testdata", "run1"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	var out, errb bytes.Buffer
	if code := execute([]string{"report", dir}, nil, &out, &errb, nil); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"throughput.png", "iops.png", "latency.png", "report.md", "report.html", "junit.xml"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if code := execute([]string{"report", t.TempDir()}, nil, &out, &errb, nil); code != exitUsage {
		t.Fatalf("report on an empty directory: exit %d, want %d", code, exitUsage)
	}
}
