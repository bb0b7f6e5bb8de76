package report

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// copyRun1 copies testdata/run1 (a finished run of two phases, three
// criteria) into a temporary directory and lets edit change its run.json.
func copyRun1(t *testing.T, edit func(r map[string]any)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := exec.Command("cp", "-r", filepath.Join("testdata", "run1"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	edit(r)
	// The fixture's scenario.yaml predates allow_write and criteria as a
	// mapping; a run writes its own with Marshal, which always loads.
	sc := `name: fixture
targets:
  - {name: lun1, path: /dev/mapper/mpatha, allow_write: true}
phases:
  - {name: write-phase, rw: write, bs: 64KiB, qd: 16, duration: 19s, ramp: 1s}
  - {name: read-phase, rw: read, bs: 64KiB, qd: 16, duration: 19s, ramp: 1s}
criteria:
  read_iops: ">= 1000"
  max_stall: "<= 1s"
  errors: "== 0"
`
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err = json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUnfinishedRunReport renders runs that did not finish. Before issue
// 11 a killed run read "Verdict: NONE (running)", "The scenario has no
// criteria", an empty phase table and a green junit.xml (tests="0"); an
// interrupted run's junit had no failure either.
func TestUnfinishedRunReport(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		// edit turns run1 into the unfinished run.
		edit func(r map[string]any)
		// pid is the content of lunbench.pid ("" for none).
		pid  string
		want []string // in report.md
		// junit: failed cases expected by name.
		failed []string
	}{
		{
			// kill -9 mid-run: run.json as written at the start, the
			// pid file left behind naming this PID with another start
			// time (the PID reused by someone else).
			name: "killed, stale pid",
			edit: func(r map[string]any) {
				r["status"] = "running"
				for _, k := range []string{"verdict", "end", "phases", "criteria", "stalls"} {
					delete(r, k)
				}
			},
			pid: me + " 1\n",
			want: []string{"**Verdict: INCOMPLETE** — run running",
				"the run was killed: run.json still says running, but process " + me + " is gone (its lunbench.pid is stale)",
				"| read_iops >= 1000 | (run) |  | - | >= 1,000 | ⚠️ NOT EVALUATED (the run did not finish) |",
				"| errors == 0 | (run) |  | - | == 0 | ⚠️ NOT EVALUATED",
				rebuiltNote, "| write-phase | lun1 | write |", "| read-phase | lun1 | read |"},
			failed: []string{"run finished", "read_iops >= 1000", "max_stall <= 1s", "errors == 0"},
		},
		{
			// Killed before the second phase: it is listed as not run.
			name: "killed after the first phase",
			edit: func(r map[string]any) {
				r["status"] = "running"
				for _, k := range []string{"verdict", "end", "phases", "criteria", "stalls"} {
					delete(r, k)
				}
			},
			want:   []string{"no lunbench process is recorded", "phases not run: read-phase"},
			failed: []string{"run finished", "phase read-phase ran"},
		},
		{
			// SIGINT: criteria were evaluated on partial data; a pass
			// there vouches for nothing, a failure stays one.
			name: "interrupted",
			edit: func(r map[string]any) { r["status"], r["verdict"] = "interrupted", "interrupted" },
			want: []string{"**Verdict: INCOMPLETE** — run interrupted",
				"the run was interrupted (Ctrl-C, SIGTERM or q) before its end",
				"⚠️ NOT EVALUATED (the run did not finish)", "❌ FAIL"},
			failed: []string{"run finished", "read_iops >= 1000 / phase read-phase", "max_stall <= 1s", "errors == 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRun1(t, tt.edit)
			if tt.name == "killed after the first phase" {
				// Only the first phase's intervals were written.
				b, _ := os.ReadFile(filepath.Join(dir, "intervals.csv"))
				var keep []string
				for _, l := range strings.Split(string(b), "\n") {
					if !strings.Contains(l, "read-phase") {
						keep = append(keep, l)
					}
				}
				os.WriteFile(filepath.Join(dir, "intervals.csv"), []byte(strings.Join(keep, "\n")), 0o644)
			}
			if tt.pid != "" {
				os.WriteFile(filepath.Join(dir, PidFileName), []byte(tt.pid), 0o644)
			}
			if err := Render(dir, Options{Width: 640, Height: 360}); err != nil {
				t.Fatal(err)
			}
			md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
			for _, w := range tt.want {
				if !strings.Contains(string(md), w) {
					t.Errorf("report.md lacks %q", w)
				}
			}
			if strings.Contains(string(md), "✅ PASS") || strings.Contains(string(md), "no criteria") {
				t.Errorf("report.md of an unfinished run shows a pass or no criteria:\n%s", md)
			}
			html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
			if !strings.Contains(string(html), "Verdict: INCOMPLETE") {
				t.Errorf("report.html lacks the INCOMPLETE verdict")
			}
			checkJUnitFails(t, filepath.Join(dir, "junit.xml"), tt.failed)
			if t.Failed() {
				t.Logf("report.md:\n%s", md)
			}
		})
	}
}

// checkJUnitFails checks that junit.xml counts failures and that each of
// the named cases (by prefix) is among the failed ones.
func checkJUnitFails(t *testing.T, path string, names []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Failures == 0 || doc.Tests == 0 {
		t.Errorf("junit.xml: tests=%d failures=%d: green for a run that did not finish", doc.Tests, doc.Failures)
	}
	for _, n := range names {
		found := false
		for _, c := range doc.Suites[0].Cases {
			if strings.HasPrefix(c.Name, n) && c.Failure != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("junit.xml: no failed case %q in:\n%s", n, b)
		}
	}
}

// TestReadPidFile tells a live run from a stale pid file.
func TestReadPidFile(t *testing.T) {
	start, err := procStart("/proc", os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// A process that has exited and been reaped.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content string
		want          PidState
	}{
		// This process, with its start time: alive.
		{"live", strconv.Itoa(os.Getpid()) + " " + strconv.FormatUint(start, 10) + "\n", PidState{Found: true, Pid: os.Getpid(), Alive: true}},
		// The same PID with another start time: reused, so stale.
		{"reused pid", strconv.Itoa(os.Getpid()) + " 1\n", PidState{Found: true, Pid: os.Getpid()}},
		// A process that exited.
		{"exited", strconv.Itoa(gone.Process.Pid) + "\n", PidState{Found: true, Pid: gone.Process.Pid}},
		// An old pid file without a start time, naming a live process.
		{"old format", strconv.Itoa(os.Getpid()) + "\n", PidState{Found: true, Pid: os.Getpid(), Alive: true}},
		// No pid file at all.
		{"none", "", PidState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != "" {
				os.WriteFile(filepath.Join(dir, PidFileName), []byte(tt.content), 0o644)
			}
			got, err := ReadPidFile(dir, "/proc")
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	// WritePidFile writes what ReadPidFile reads back as alive.
	dir := t.TempDir()
	if err := WritePidFile(dir); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPidFile(dir, "/proc"); err != nil || !got.Alive {
		t.Fatalf("own pid file: %+v, %v", got, err)
	}
}
