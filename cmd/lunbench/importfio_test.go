package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"lunbench/scenarios"
)

// TestImportFio runs the command on a job file: the scenario on stdout
// loads, the untranslated options are on stderr with file and line, exit
// 0; a missing file exits 2.
func TestImportFio(t *testing.T) {
	job := filepath.Join("..", "..", "scenarios", "fioimport", "testdata", "production-mix.fio")
	var out, errb bytes.Buffer
	if code := execute([]string{"import-fio", job}, nil, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := scenarios.Parse("out.yaml", out.Bytes(), nil); err != nil {
		t.Errorf("stdout does not load: %v\n%s", err, out.String())
	}
	for _, want := range []string{job + ":21: fsync=32: not translated", job + ":31: rw=trim: not translated"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := execute([]string{"import-fio", "/nonexistent/lbwl.fio"}, nil, &out, &errb, nil); code != exitUsage {
		t.Errorf("missing file: exit %d, want %d (%s)", code, exitUsage, errb.String())
	}
}
