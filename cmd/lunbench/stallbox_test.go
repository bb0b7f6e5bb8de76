package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// TestStallMeasuredOnFrozenDevice freezes a real block device for 1.5 s
// under load: the run reports one stall whose length is the pause to
// within 50 ms, as an event while it lasts and in run.json.
func TestStallMeasuredOnFrozenDevice(t *testing.T) { forEngines(t, testStallMeasuredOnFrozenDevice) }

func testStallMeasuredOnFrozenDevice(t *testing.T, engine string) {
	b := newLabBox(t, 64)
	dir := t.TempDir()
	sc := writeScenario(t, dir, withEngine(engine, `
name: stallbox
stall_threshold: 300ms
targets: [{name: box, path: `+b.dev+`}]
phases:
  - {name: rr, rw: randread, bs: 4k, qd: 4, duration: 5s}
`))
	const pause = 1500 * time.Millisecond
	go func() {
		time.Sleep(2 * time.Second)
		b.run(t, "pause")
		time.Sleep(pause)
		b.run(t, "resume")
	}()
	out := filepath.Join(dir, "res")
	var stdout, stderr bytes.Buffer
	code := execute([]string{"run", sc, "--no-tui", "--out", out}, nil, &stdout, &stderr, make(chan os.Signal))
	if code != exitPass || strings.Contains(stderr.String(), "io_uring unavailable") {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	run, err := report.ReadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Stalls) != 1 {
		t.Fatalf("stalls: %+v", run.Stalls)
	}
	s := run.Stalls[0]
	if d := s.Dur - pause; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Fatalf("stall of %v measured for a %v pause", s.Dur, pause)
	}
	evs, _ := report.ReadEvents(out)
	var started, ended bool
	for _, e := range evs {
		switch e.Kind.String() {
		case "stall_start":
			started = e.Time.Before(s.End) // seen while still stalled
		case "stall_end":
			ended = e.Dur == s.Dur
		}
	}
	if !started || !ended {
		t.Fatalf("stall events: started-while-stalled %v, end with exact duration %v", started, ended)
	}
	// The run sampled the loop device's diskstats, and the pause shows
	// there too: a second with requests in flight and nothing completed.
	ds, err := os.ReadFile(filepath.Join(out, "diskstats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Base(b.dev)
	var rows, frozen int
	for _, line := range strings.Split(string(ds), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 27 && f[2] == dev && f[3] == "lun" {
			rows++
			if f[4] == "0.00" && f[26] != "0" {
				frozen++
			}
		}
	}
	if rows < 4 {
		t.Fatalf("diskstats.csv has %d rows for %s:\n%s", rows, dev, ds)
	}
	t.Logf("pause %v measured as %v; %d diskstats rows for %s, %d of them frozen", pause, s.Dur, rows, dev, frozen)
}
