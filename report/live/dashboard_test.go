package live

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/collect"
	"lunbench/workload"
)

// t0 is the run's start in every fixture.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// at41 is the fixtures' clock at draw time: 41 s into the run.
func at41() time.Time { return t0.Add(41 * time.Second) }

// snap builds the snapshot at elapsed e in phase 2/3 "failover" (60 s):
// lun0 reads 12,000 IOPS and writes 4,000 IOPS of 64 KiB in each 250 ms
// slice and 1 s interval.
func snap(e time.Duration, stalls ...workload.StallState) *workload.Snapshot {
	end := t0.Add(e)
	mk := func(d time.Duration, op workload.Op, iops float64) workload.Interval {
		ops := uint64(iops * d.Seconds())
		return workload.Interval{Start: end.Add(-d), End: end, Phase: "failover", Target: "lun0", Op: op,
			Ops: ops, Bytes: ops * 65536, InFlight: 32,
			Lat: workload.LatencySummary{P50: 800 * time.Microsecond, P99: 2500 * time.Microsecond, Max: 12 * time.Millisecond}}
	}
	s := &workload.Snapshot{Time: end, Elapsed: e, Phase: "failover", PhaseIndex: 1, PhaseCount: 3,
		PhaseElapsed: e - 20*time.Second, PhaseLength: time.Minute, Stalls: stalls,
		Slices: []workload.Interval{mk(250*time.Millisecond, workload.Read, 12000), mk(250*time.Millisecond, workload.Write, 4000)}}
	if e%time.Second == 0 {
		s.Intervals = []workload.Interval{mk(time.Second, workload.Read, 12000), mk(time.Second, workload.Write, 4000)}
	}
	if len(stalls) > 0 {
		for i := range s.Slices {
			s.Slices[i].Ops, s.Slices[i].Bytes = 0, 0
		}
	}
	return s
}

func disks() []collect.DiskStat {
	return []collect.DiskStat{
		{Target: "lun0", Device: "dm-3", Role: collect.RoleLUN, RPS: 12000, WPS: 4000, RkBPS: 768000, WkBPS: 256000, RAwait: 0.8, WAwait: 1.1, Util: 99.5, InFlight: 32},
		{Target: "lun0", Device: "sdg", Role: collect.RolePath, RPS: 6000, WPS: 2000, RkBPS: 384000, WkBPS: 128000, RAwait: 0.8, WAwait: 1.1, Util: 97, InFlight: 16},
		{Target: "lun0", Device: "sdh", Role: collect.RolePath, InFlight: 16},
	}
}

// feed gives d 40 s of history up to elapsed 40 s.
func feed(d *Dashboard) {
	for e := 250 * time.Millisecond; e <= 40*time.Second; e += 250 * time.Millisecond {
		d.Add(snap(e))
	}
	d.AddDiskStats(disks())
}

func newSim(t *testing.T, w, h int) tcell.SimulationScreen {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	t.Cleanup(s.Fini)
	return s
}

// lines returns the screen's text, one string per row.
func lines(s tcell.SimulationScreen) []string {
	cells, w, h := s.GetContents()
	out := make([]string, h)
	for y := 0; y < h; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			r := cells[y*w+x].Runes
			if len(r) == 0 {
				b.WriteByte(' ')
				continue
			}
			b.WriteString(string(r))
		}
		out[y] = b.String()
	}
	return out
}

func TestRender(t *testing.T) {
	stalled := func(d *Dashboard) {
		feed(d)
		d.Add(snap(41*time.Second, workload.StallState{Target: "lun0", Since: t0.Add(36800 * time.Millisecond), For: 4200 * time.Millisecond, InFlight: 32}))
	}
	resumed := func(d *Dashboard) {
		stalled(d)
		d.Event(workload.Event{Time: t0.Add(41500 * time.Millisecond), Kind: workload.EvStallEnd, Target: "lun0", Dur: 4213 * time.Millisecond})
		d.Add(snap(42 * time.Second))
	}
	deadPath := func(d *Dashboard) {
		feed(d)
		d.Event(workload.Event{Time: t0.Add(39 * time.Second), Kind: workload.EvPathState, Target: "lun0", Path: "sdh", Detail: "sdh running→blocked"})
	}
	tests := []struct {
		name  string
		w, h  int
		view  int
		setup func(*Dashboard)
		want  []string
		not   []string
	}{
		// Nothing published yet: a waiting header, no crash on empty data.
		{"empty", 80, 24, viewOverview, func(*Dashboard) {}, []string{"waiting for the first snapshot", "no I/O yet", "q quit"}, nil},
		// The compact layout carries the phase, its progress, the figures and a path table.
		{"overview 80x24", 80, 24, viewOverview, feed, []string{"2/3 failover", "00:20/01:00", "run 00:40/03:00", "12,000", "4,000", "750", "2.5ms", "dm-3", "sdg", "read", "write", "no stall"}, []string{"STALLED"}},
		// A big terminal shows the same and the events log.
		{"overview 160x48", 160, 48, viewOverview, func(d *Dashboard) {
			feed(d)
			d.Event(workload.Event{Time: t0.Add(30 * time.Second), Kind: workload.EvDrillInject, Detail: "portal 198.18.0.2 down"})
		}, []string{"phase 2/3 failover", "12,000", "drill_inject", "portal 198.18.0.2 down", "-30s", "now"}, nil},
		// A live stall: the banner with the stall's current length.
		{"stalling", 80, 24, viewOverview, stalled, []string{"I/O STALLED 4.2 s on lun0 (32 in flight)"}, []string{"no stall"}},
		// After stall_end: the exact length from the event.
		{"resumed", 80, 24, viewOverview, resumed, []string{"I/O resumed on lun0 after a 4.213 s stall"}, []string{"STALLED"}},
		// A path the watcher saw blocked is marked failed.
		{"dead path", 80, 24, viewOverview, deadPath, []string{"✖ blocked"}, nil},
		// An idle path with I/O in flight reads as stuck.
		{"stuck path", 160, 48, viewPaths, feed, []string{"stuck"}, nil},
		// The latency view: p99 and max panels.
		{"latency", 80, 24, viewLatency, feed, []string{"p99", "max", "12ms", "view: latency"}, nil},
		// The events view lists events with their kinds.
		{"events", 80, 24, viewEvents, func(d *Dashboard) {
			feed(d)
			d.Event(workload.Event{Time: t0.Add(41500 * time.Millisecond), Kind: workload.EvStallEnd, Target: "lun0", Dur: 4213 * time.Millisecond})
		}, []string{"stall_end", "stalled 4.213 s"}, nil},
		// The verdict shows in the header.
		{"verdict", 80, 24, viewOverview, func(d *Dashboard) {
			feed(d)
			d.SetVerdict("FAIL max_stall 4.2s > 2s", true)
		}, []string{"verdict: FAIL max_stall 4.2s > 2s"}, nil},
		// Many paths at 80×24: the table shrinks and says where the rest are.
		{"many paths", 80, 24, viewOverview, func(d *Dashboard) {
			feed(d)
			var rows []collect.DiskStat
			for i := 0; i < 12; i++ {
				rows = append(rows, collect.DiskStat{Target: "lun0", Device: "sd" + string(rune('a'+i)), Role: collect.RolePath})
			}
			d.AddDiskStats(rows)
		}, []string{"more: tab to the paths view", "read", "write"}, nil},
		// A wide terminal puts the tables side by side.
		{"side by side", 160, 48, viewOverview, feed, []string{"errors    device"}, nil},
		// Too small a terminal says so instead of drawing garbage.
		{"tiny", 30, 8, viewOverview, feed, []string{"too small"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, tc.w, tc.h)
			d := New(s, Options{Scenario: "acceptance", RunLength: 3 * time.Minute, Now: at41})
			tc.setup(d)
			d.view = tc.view
			d.draw()
			text := strings.Join(lines(s), "\n")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("screen lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("screen has %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestDeadPathStyle checks the failed path's row stands out in colour and
// in monochrome.
func TestDeadPathStyle(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		s := newSim(t, 80, 24)
		d := New(s, Options{NoColor: noColor})
		feed(d)
		d.SetPathState("sdh", "transport-offline")
		d.draw()
		cells, w, _ := s.GetContents()
		found := false
		for y, l := range lines(s) {
			if !strings.Contains(l, "sdh") {
				continue
			}
			found = true
			x := strings.Index(l, "sdh")
			_, bg, attr := cells[y*w+x].Style.Decompose()
			if noColor && attr&tcell.AttrReverse == 0 {
				t.Errorf("monochrome: sdh row attributes %v lack reverse", attr)
			}
			if !noColor && bg != tcell.ColorMaroon {
				t.Errorf("colour: sdh row background %v, want maroon", bg)
			}
		}
		if !found {
			t.Fatalf("no sdh row")
		}
	}
}

func key(r rune) *tcell.EventKey { return tcell.NewEventKey(tcell.KeyRune, r, tcell.ModNone) }

func TestKeys(t *testing.T) {
	tab := tcell.NewEventKey(tcell.KeyTab, 0, tcell.ModNone)
	ctrlC := tcell.NewEventKey(tcell.KeyCtrlC, 0, tcell.ModCtrl)
	tests := []struct {
		name     string
		drill    bool
		keys     []*tcell.EventKey
		quits    int
		marks    int
		view     int
		window   int
		help     bool
		confirm  bool
		quitting bool
	}{
		// q stops at once when no drill runs.
		{name: "q", keys: []*tcell.EventKey{key('q')}, quits: 1, window: 2, quitting: true},
		// Ctrl-C is q: the terminal is raw, so no SIGINT comes.
		{name: "ctrl-c", keys: []*tcell.EventKey{ctrlC}, quits: 1, window: 2, quitting: true},
		// A second q does not call quit twice.
		{name: "q twice", keys: []*tcell.EventKey{key('q'), key('q')}, quits: 1, window: 2, quitting: true},
		// During a drill q asks first; n keeps running.
		{name: "drill q n", drill: true, keys: []*tcell.EventKey{key('q'), key('n')}, window: 2},
		// During a drill q then y stops.
		{name: "drill q y", drill: true, keys: []*tcell.EventKey{key('q'), key('y')}, quits: 1, window: 2, quitting: true},
		// During a drill q then q again stops: the message says so.
		{name: "drill q q", drill: true, keys: []*tcell.EventKey{key('q'), key('q')}, quits: 1, window: 2, quitting: true},
		// During a drill Ctrl-C twice stops as well.
		{name: "drill ctrl-c ctrl-c", drill: true, keys: []*tcell.EventKey{ctrlC, ctrlC}, quits: 1, window: 2, quitting: true},
		// During a drill Esc keeps running, and a later q asks again.
		{name: "drill q esc q", drill: true, keys: []*tcell.EventKey{key('q'), tcell.NewEventKey(tcell.KeyEscape, 0, tcell.ModNone), key('q')}, window: 2, confirm: true},
		// Other keys while asking are ignored.
		{name: "drill q m", drill: true, keys: []*tcell.EventKey{key('q'), key('m')}, window: 2, confirm: true},
		// m marks a fault.
		{name: "m", keys: []*tcell.EventKey{key('m'), key('m')}, marks: 2, window: 2},
		// tab cycles the views and wraps.
		{name: "tab", keys: []*tcell.EventKey{tab, tab, tab}, view: viewEvents, window: 2},
		{name: "tab wraps", keys: []*tcell.EventKey{tab, tab, tab, tab}, view: viewOverview, window: 2},
		// + widens the window up to the last; - narrows down to the first.
		{name: "+", keys: []*tcell.EventKey{key('+'), key('+'), key('+'), key('+')}, window: 5},
		{name: "-", keys: []*tcell.EventKey{key('-'), key('-'), key('-')}, window: 0},
		// ? toggles help.
		{name: "help", keys: []*tcell.EventKey{key('?')}, window: 2, help: true},
		{name: "help off", keys: []*tcell.EventKey{key('?'), key('?')}, window: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var quits, marks int
			d := New(newSim(t, 80, 24), Options{OnMark: func() { marks++ }})
			d.SetDrillActive(tc.drill)
			for _, k := range tc.keys {
				d.key(k, func() { quits++ })
			}
			if quits != tc.quits || marks != tc.marks || d.view != tc.view || d.window != tc.window ||
				d.help != tc.help || d.confirm != tc.confirm || d.quitting != tc.quitting {
				t.Errorf("quits %d marks %d view %d window %d help %v confirm %v quitting %v; want %d %d %d %d %v %v %v",
					quits, marks, d.view, d.window, d.help, d.confirm, d.quitting,
					tc.quits, tc.marks, tc.view, tc.window, tc.help, tc.confirm, tc.quitting)
			}
		})
	}
}

// TestRun drives Run through the screen's event queue: m calls OnMark, q
// calls quit, and the screen is finalised when ctx ends.
func TestRun(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	marked := make(chan struct{}, 1)
	quit := make(chan struct{}, 1)
	d := New(s, Options{OnMark: func() { marked <- struct{}{} }, Redraw: 10 * time.Millisecond})
	feed(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, func() { quit <- struct{}{} }) }()
	waitFrames(t, d)
	s.InjectKey(tcell.KeyRune, 'm', tcell.ModNone)
	waitFor(t, marked, "OnMark")
	s.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	waitFor(t, quit, "quit")
	s.SetSize(160, 48) // a resize must not upset anything
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w, h := s.Size(); w != 0 || h != 0 {
		t.Errorf("screen %d×%d after Run: not finalised", w, h)
	}
}

// TestDrillConfirmOnScreen drives Run while a drill is in progress: the
// first q only asks, in the footer, and the second q stops the run.
func TestDrillConfirmOnScreen(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	quit := make(chan struct{}, 2)
	d := New(s, Options{Redraw: 10 * time.Millisecond})
	feed(d)
	d.Event(workload.Event{Time: t0.Add(30 * time.Second), Kind: workload.EvDrillInject, Detail: "pause box"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, func() { quit <- struct{}{} }) }()
	waitFrames(t, d)
	s.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(lines(s), "\n"), "drill in progress — press q again to stop") {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmation after q during a drill:\n%s", strings.Join(lines(s), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-quit:
		t.Fatal("the first q stopped the run during a drill")
	default:
	}
	s.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	waitFor(t, quit, "quit after the second q")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunPanic checks the screen is finalised when a callback panics and
// that the panic goes on.
func TestRunPanic(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	d := New(s, Options{OnMark: func() { panic("boom") }, Redraw: 10 * time.Millisecond})
	got := make(chan any, 1)
	go func() {
		defer func() { got <- recover() }()
		d.Run(context.Background(), nil)
	}()
	waitFrames(t, d)
	s.InjectKey(tcell.KeyRune, 'm', tcell.ModNone)
	select {
	case r := <-got:
		if r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no panic")
	}
	if w, h := s.Size(); w != 0 || h != 0 {
		t.Errorf("screen %d×%d after panic: not finalised", w, h)
	}
}

func waitFrames(t *testing.T, d *Dashboard) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.frames.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run drew nothing")
		}
		time.Sleep(time.Millisecond)
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not called", what)
	}
}

func TestEventRing(t *testing.T) {
	d := New(nil, Options{EventLines: 3})
	for i := 0; i < 5; i++ {
		d.Event(workload.Event{Kind: workload.EvNote, Detail: string(rune('a' + i))})
	}
	var got string
	for _, e := range d.state().events {
		got += e.Detail
	}
	if got != "cde" {
		t.Errorf("ring holds %q, want the newest three in order, cde", got)
	}
}

func TestBucket(t *testing.T) {
	// Four 250 ms points per second, value = the second's number.
	var hist []*point
	for e := 250 * time.Millisecond; e <= 10*time.Second; e += 250 * time.Millisecond {
		hist = append(hist, &point{elapsed: e, dur: 250 * time.Millisecond, r: float64((e - 1) / time.Second), stalled: e > 9*time.Second})
	}
	st := state{snap: &workload.Snapshot{Elapsed: 10 * time.Second}, hist: hist}
	r := func(p *point) float64 { return p.r }
	tests := []struct {
		name    string
		win     time.Duration
		cols    int
		want    []float64 // NaN: no data
		stalled []bool
	}{
		// One column per second: each second's value; the last is stalled.
		{"per second", 10 * time.Second, 10, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []bool{9: true}},
		// Two seconds per column: the average of the two.
		{"two per column", 10 * time.Second, 5, []float64{0.5, 2.5, 4.5, 6.5, 8.5}, []bool{4: true}},
		// Columns narrower than a point repeat its value.
		{"narrow", 2 * time.Second, 8, []float64{8, 8, 8, 8, 9, 9, 9, 9}, []bool{4: true, 5: true, 6: true, 7: true}},
		// A window wider than the history leaves the old columns empty.
		{"wide", 20 * time.Second, 4, []float64{math.NaN(), math.NaN(), 2, 7}, []bool{3: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, stalled := bucket(st, tc.win, tc.cols, r)
			for i := range got {
				if math.IsNaN(tc.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-tc.want[i]) > 1e-9) {
					t.Errorf("column %d = %v, want %v (all %v)", i, got[i], tc.want[i], got)
				}
				want := i < len(tc.stalled) && tc.stalled[i]
				if stalled[i] != want {
					t.Errorf("column %d stalled %v, want %v", i, stalled[i], want)
				}
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0, 1},       // idle: a scale anyway
		{0.7, 1},     // below one
		{1, 1},       // exact
		{1.2, 2},     // up to 2
		{2.2, 2.5},   // up to 2.5
		{3, 5},       // up to 5
		{750, 1000},  // up a decade
		{5000, 5000}, // exact at a larger decade
	}
	for _, tc := range tests {
		if got := niceCeil(tc.in); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
