package fioimport

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "lunbench/report/golden"
	"lunbench/scenarios"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// TestTranslateJobFiles translates each job file in testdata (written from
// scratch in the style of fio's examples/) and compares the scenario and
// the notes with golden files; every result must load as a scenario.
func TestTranslateJobFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.fio")
	if len(files) == 0 {
		t.Fatal("no job files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, notes, err := Translate(f, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var b strings.Builder
		b.Write(out)
		b.WriteString("# --- notes on stderr ---\n")
		for _, n := range notes {
			b.WriteString("# " + n.String() + "\n")
		}
		base := strings.TrimSuffix(filepath.Base(f), ".fio")
		goldenfile.Check(t, filepath.Join("testdata", "golden", base+".yaml"), []byte(b.String()), *update)
		lookup := func(k string) (string, bool) { return "/dev/LUN", k == "LUN" }
		if _, err := scenarios.Parse(f, out, lookup); err != nil {
			t.Errorf("%s: the translation does not load: %v\n%s", f, err, out)
		}
	}
}

// TestTranslateOptions checks single options' translations, one per row.
func TestTranslateOptions(t *testing.T) {
	tests := []struct {
		name, job string
		want      []string // lines the scenario must contain
		note      string   // a note that must be given, "" for none checked
	}{
		// fio's default engine is psync: qd is numjobs.
		{"sync qd", "rw=read\nnumjobs=3\niodepth=16\n", []string{"    qd: 3"}, "fio keeps one I/O in flight per job with a sync engine"},
		// Async engines: iodepth × numjobs I/Os in flight.
		{"async qd", "rw=read\nioengine=libaio\nnumjobs=2\niodepth=16\n", []string{"    qd: 32"}, ""},
		// io_uring maps to lunbench's own io_uring engine.
		{"io_uring engine", "rw=randread\nioengine=io_uring\niodepth=64\n", []string{"    qd: 64", "    engine: io_uring"}, ""},
		// A blank bssplit share takes the rest.
		{"bssplit rest", "rw=randread\nbssplit=4k/50:8k/:16k/\n", []string{"    bs: {4k: 50%, 8k: 25%, 16k: 25%}"}, ""},
		// Per-op bssplit.
		{"bssplit per op", "rw=randrw\nbssplit=4k/100,64k/50:128k/50\n", []string{"    bs: {read: {4k: 100%}, write: {64k: 50%, 128k: 50%}}"}, ""},
		// 75% compressible data compresses 4:1.
		{"compress", "rw=write\nbuffer_compress_percentage=75\n", []string{"    compress: 4"}, "written as compress: 4.00"},
		// thinktime is in microseconds.
		{"thinktime", "rw=read\nthinktime=250\n", []string{"    think: 250us"}, ""},
		{"pareto", "rw=randread\nrandom_distribution=pareto:0.9\n", []string{"    offsets: {pareto: 0.9}"}, ""},
		{"normal", "rw=randread\nrandom_distribution=normal:10\n", []string{"    offsets: {normal: 10%}"}, ""},
		// Unknown options are listed, never dropped silently.
		{"unknown", "rw=read\nfdatasync=4\n", nil, "fdatasync=4: not translated: lunbench has no equivalent"},
		{"no filename", "rw=read\n", []string{`    path: "${LUN}"`}, "names no filename"},
	}
	for _, tc := range tests {
		out, notes, err := Translate("t.fio", strings.NewReader("[j]\n"+tc.job))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w+"\n") {
				t.Errorf("%s: no line %q in\n%s", tc.name, w, out)
			}
		}
		if tc.note != "" {
			found := false
			for _, n := range notes {
				found = found || strings.Contains(n.Msg, tc.note)
			}
			if !found {
				t.Errorf("%s: no note %q in %v", tc.name, tc.note, notes)
			}
		}
		lookup := func(k string) (string, bool) { return "/dev/LUN", k == "LUN" }
		if _, err := scenarios.Parse("t", out, lookup); err != nil {
			t.Errorf("%s: does not load: %v\n%s", tc.name, err, out)
		}
	}
}

// TestTranslateNoJobs: a file without a job section is an error.
func TestTranslateNoJobs(t *testing.T) {
	_, _, err := Translate("g.fio", strings.NewReader("[global]\nbs=4k\n"))
	if err == nil || !strings.Contains(err.Error(), "no job sections") {
		t.Errorf("err %v", err)
	}
}
