package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lunbench/scenarios"
)

// TestInitWritesAValidScenario checks that `lunbench init` writes a file
// the loader accepts, and refuses to overwrite it without --force.
func TestInitWritesAValidScenario(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	if code := execute([]string{"init", "mylun"}, nil, &out, &errb, nil); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errb.String())
	}
	env := map[string]string{"LUN": filepath.Join(dir, "x")}
	if _, err := scenarios.Load(filepath.Join(dir, "mylun.yaml"), func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatalf("starter does not load: %v", err)
	}
	if code := execute([]string{"init", "mylun"}, nil, &out, &errb, nil); code != exitUsage {
		t.Fatalf("second init: exit %d, want %d", code, exitUsage)
	}
}

// TestScenariosAndSchema lists the built-ins and prints valid JSON.
func TestScenariosAndSchema(t *testing.T) {
	var out bytes.Buffer
	if code := execute([]string{"scenarios"}, nil, &out, &out, nil); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"quickstart", "acceptance", "failover-drill"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("scenarios output lacks %s:\n%s", name, out.String())
		}
	}
	out.Reset()
	if code := execute([]string{"schema"}, nil, &out, &out, nil); code != 0 || !json.Valid(out.Bytes()) {
		t.Fatalf("schema: exit %d, valid JSON %v", code, json.Valid(out.Bytes()))
	}
}

// TestBadScenarioExit2 shows every problem with its position, exit 2.
func TestBadScenarioExit2(t *testing.T) {
	dir := t.TempDir()
	p := writeScenario(t, dir, "name: x\ntargets: [{name: f, path: /nonexistent}]\nphases:\n  - {name: r, rw: randred, bs: 4k, qd: 0, duration: 1s}\n")
	var out, errb bytes.Buffer
	code := execute([]string{"run", p, "--no-tui", "--out", filepath.Join(dir, "o")}, nil, &out, &errb, nil)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	msg := errb.String()
	if !strings.Contains(msg, "s.yaml:4:") || !strings.Contains(msg, "randred") || !strings.Contains(msg, "qd") {
		t.Fatalf("error output lacks positions or problems:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Fatal("a results directory was created for an invalid scenario")
	}
}
