package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lunbench/report"
	"lunbench/workload/verify"
)

// TestRunThenVerifyPlantedFaults writes a file target twice over with stamped
// blocks, keeping (by a drill between the passes) a copy of one block's
// first version. Behind lunbench's back the test then overwrites one block
// with garbage, one with its older copy and one with a copy of another
// block: `lunbench verify` finds corrupt, lost and misdirected at exactly
// those offsets and nothing else.
func TestRunThenVerifyPlantedFaults(t *testing.T) {
	dir := directDir(t)
	lun := filepath.Join(dir, "lun.dat")
	old := filepath.Join(dir, "block7.old")
	const bs = 4096
	sc := writeScenario(t, dir, fmt.Sprintf(`
name: planted
targets: [{name: lun, path: %s, size: 1MiB, allow_write: true}]
defaults: {bs: 4k, qd: 1, verify: true}
phases:
  - {name: first, rw: write, bytes: 1MiB}
  - name: keep
    rw: read
    duration: 1s
    drills:
      - {name: copy, at: 0s, inject: "dd if=%s of=%s bs=4096 skip=7 count=1 status=none"}
  - {name: second, rw: write, bytes: 1MiB}
`, lun, lun, old))
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal)); code != exitPass {
		t.Fatalf("run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	// Every pass of the run itself found the data intact.
	if len(run.Verify) == 0 {
		t.Fatal("run.json lists no verify pass")
	}
	for _, v := range run.Verify {
		if v.Problems() != 0 || v.Blocks == 0 {
			t.Errorf("pass %s/%s: %d blocks, %v", v.Phase, v.When, v.Blocks, v.Counts)
		}
	}
	if code := execute([]string{"verify", out}, nil, &stdout, &stderr, nil); code != exitPass {
		t.Fatalf("verify of an intact device: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}

	// Plant the faults.
	f, err := os.OpenFile(lun, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte{0xa5, 0x3c, 0x0f, 0x96}, bs/4)
	older, err := os.ReadFile(old)
	if err != nil || len(older) != bs {
		t.Fatalf("the drill's copy of block 7: %v (%d bytes)", err, len(older))
	}
	other := make([]byte, bs)
	if _, err := f.ReadAt(other, 20*bs); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		block int64
		data  []byte
	}{{3, garbage}, {7, older}, {11, other}} {
		if _, err := f.WriteAt(w.data, w.block*bs); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	stdout.Reset()
	stderr.Reset()
	if code := execute([]string{"verify", out}, nil, &stdout, &stderr, nil); code != exitFail {
		t.Fatalf("verify: exit %d, want %d\n%s%s", code, exitFail, stdout.String(), stderr.String())
	}
	want := map[int64]verify.Class{3 * bs: verify.Corrupt, 7 * bs: verify.Lost, 11 * bs: verify.Misdirected}
	matches, _ := filepath.Glob(filepath.Join(out, "verify-*.json"))
	if len(matches) == 0 {
		t.Fatalf("no verify-*.json in %s", out)
	}
	var got []verify.Finding
	for _, m := range matches {
		var rep verifyReport
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Summaries {
			if s.Problems() > 0 {
				got = s.Findings
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("findings %+v, want %v", got, want)
	}
	for _, f := range got {
		if want[f.Offset] != f.Class {
			t.Errorf("offset %d: %s (%s), want %s", f.Offset, f.Class, f.Detail, want[f.Offset])
		}
		if !strings.Contains(stdout.String(), fmt.Sprint(f.Offset)) {
			t.Errorf("offset %d not printed:\n%s", f.Offset, stdout.String())
		}
	}
	t.Logf("lunbench verify:\n%s", stdout.String())
}

// TestUnverifiedWriteOverVerified writes a range verified, then overwrites
// it without verify (a plain random-write benchmark phase), then reads it
// verified: lunbench's own unstamped writes are not corruption. The
// blocks the unverified phase wrote are unknown in the map and not
// checked; the rest still are, and `lunbench verify` agrees.
func TestUnverifiedWriteOverVerified(t *testing.T) {
	dir := t.TempDir()
	sc := writeScenario(t, dir, fmt.Sprintf(`
name: unverified
targets: [{name: lun, path: %s, size: 2MiB, allow_write: true}]
defaults: {qd: 2}
phases:
  - {name: stamped, rw: write, bs: 8k, bytes: 2MiB, verify: true}
  - {name: plain, rw: randwrite, bs: 4k, bytes: 512KiB}
  - {name: check, rw: read, bs: 8k, bytes: 2MiB, verify: true}
criteria:
  corrupt_blocks: "== 0"
  lost_writes: "== 0"
`, filepath.Join(dir, "lun.dat")))
	out := filepath.Join(dir, "res")
	run := runScenarioFile(t, sc, out, exitPass)
	var unchecked uint64
	for _, v := range run.Verify {
		if v.Problems() != 0 || v.Blocks == 0 {
			t.Errorf("pass %s/%s: %d blocks, %v, %+v", v.Phase, v.When, v.Blocks, v.Counts, v.Findings)
		}
		if v.Phase == "check" && v.When == "phase end" {
			unchecked = v.Unchecked
			// 256 units of 8 KiB; 128 random 4 KiB writes hit some of them.
			if v.Unchecked == 0 || v.Blocks+v.Unchecked != 256 {
				t.Errorf("phase-end pass: %d blocks checked, %d unknown, want 256 in all and some unknown", v.Blocks, v.Unchecked)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := execute([]string{"verify", out}, nil, &stdout, &stderr, nil); code != exitPass {
		t.Fatalf("lunbench verify: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("not checked: %d blocks", unchecked)) {
		t.Errorf("lunbench verify does not say which blocks it left unchecked:\n%s", stdout.String())
	}
	t.Logf("%d blocks written by the unverified phase were not checked; lunbench verify: %s", unchecked, strings.TrimSpace(stdout.String()))
}
