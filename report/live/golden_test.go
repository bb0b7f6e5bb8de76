package live

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/workload"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current rendering")

// TestGolden keeps whole frames in testdata/, so a layout change shows up
// in review as a picture: go test ./report/live -run Golden -update.
func TestGolden(t *testing.T) {
	stalling := func(d *Dashboard) {
		feed(d)
		d.Event(workload.Event{Time: t0.Add(20 * time.Second), Kind: workload.EvPhaseStart, Phase: "failover"})
		d.Event(workload.Event{Time: t0.Add(36 * time.Second), Kind: workload.EvDrillInject, Detail: "portal 198.18.0.2 down"})
		d.Event(workload.Event{Time: t0.Add(37 * time.Second), Kind: workload.EvPathState, Target: "lun0", Path: "sdh", Detail: "sdh running→transport-offline"})
		d.Add(snap(41*time.Second, workload.StallState{Target: "lun0", Since: t0.Add(36800 * time.Millisecond), For: 4200 * time.Millisecond, InFlight: 32}))
	}
	tests := []struct {
		file string
		w, h int
		set  func(d *Dashboard)
	}{
		// The smallest supported terminal, mid-stall.
		{"stall_80x24.golden", 80, 24, nil},
		// A big terminal, the same moment.
		{"stall_160x48.golden", 160, 48, nil},
		// The help: a box with a border, nothing of the view inside or
		// right around it, its last sentence whole.
		{"help_80x24.golden", 80, 24, func(d *Dashboard) { d.help = true }},
		// The latency view: reads above writes, each on a log scale.
		{"latency_80x24.golden", 80, 24, func(d *Dashboard) { d.view = viewLatency }},
		// After q: the I/Os still in flight, then what is being written.
		{"stopping_80x24.golden", 80, 24, func(d *Dashboard) { d.Add(snap(42 * time.Second)); d.quitting = true }},
		{"writing_80x24.golden", 80, 24, func(d *Dashboard) {
			d.Add(snap(42 * time.Second))
			d.quitting = true
			d.SetStatus("I/O stopped; drawing the charts and writing report.md, report.html…")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s := newSim(t, tc.w, tc.h)
			d := New(s, Options{Scenario: "acceptance", RunLength: 3 * time.Minute, Now: at41})
			stalling(d)
			if tc.set != nil {
				tc.set(d)
			}
			d.draw()
			var b strings.Builder
			for _, l := range lines(s) {
				b.WriteString(strings.TrimRight(l, " ") + "\n")
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("frame differs from %s (-update to accept):\n%s", path, b.String())
			}
		})
	}
}

// TestAddDoesNotLock checks the aggregator's path: Add must return while
// the dashboard's mutex is held (by a slow event or a redraw).
func TestAddDoesNotLock(t *testing.T) {
	d := New(nil, Options{})
	d.mu.Lock()
	defer d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.Add(snap(time.Second))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked on the mutex")
	}
}

// TestDrillEvents checks drill_inject and drill_recover switch the quit
// confirmation on and off.
func TestDrillEvents(t *testing.T) {
	d := New(nil, Options{})
	d.Event(workload.Event{Kind: workload.EvDrillInject})
	if !d.DrillActive() {
		t.Error("drill_inject did not set the drill active")
	}
	d.Event(workload.Event{Kind: workload.EvDrillRecover})
	if d.DrillActive() {
		t.Error("drill_recover did not clear it")
	}
}
