package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/collect"
	"lunbench/collect/collecttest"
	"lunbench/report"
	"lunbench/workload"
)

// watchT0 is the fake clock's start in the watch tests.
var watchT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fixtureRoot materialises one of collect's fixture trees (see
// collect/testdata/fixtures/README.md for where each layout comes from).
func fixtureRoot(t *testing.T, name string) string {
	t.Helper()
	return collecttest.Tree(t, filepath.Join("..", "..", "collect", "testdata", "fixtures"), name)
}

// diskCounters is what the fake kernel shows for the fourpath tree's
// hydra_db-a02 (dm-4) and its paths sdf..sdi: ios completed so far (as
// reads and writes alike) and requests in flight.
type diskCounters struct {
	ios, inflight uint64
}

// writeDiskstats rewrites the tree's /proc/diskstats: dm-4 with c, each of
// its four paths with a quarter of it.
func writeDiskstats(t *testing.T, root string, c diskCounters) {
	t.Helper()
	var b strings.Builder
	line := func(major, minor int, name string, ios, inflight uint64) {
		// 17 counters: reads, merges, sectors, ticks; the same for writes;
		// in flight, io_ticks, time_in_queue; discards (4); flushes (2).
		fmt.Fprintf(&b, "%4d %7d %s %d 0 %d %d %d 0 %d %d %d %d %d 0 0 0 0 0 0\n", major, minor, name,
			ios, ios*8, ios/4, ios, ios*8, ios/4, inflight, ios/2, ios/2)
	}
	for i, p := range []string{"sdf", "sdg", "sdh", "sdi"} {
		line(8, 80+16*i, p, c.ios/4, c.inflight/4)
	}
	line(253, 4, "dm-4", c.ios, c.inflight)
	if err := os.WriteFile(filepath.Join(root, "proc", "diskstats"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// watchDriver runs runWatch on a fixture root with a fake ticker: step
// sets the counters, ticks once and waits until the tick is handled.
type watchDriver struct {
	t     *testing.T
	root  string
	ticks chan time.Time
	done  chan struct{}
	mu    sync.Mutex // guards now and sched; the watch's goroutines read now
	now   time.Time
	sched time.Duration // the last tick's scheduled time, from watchT0
	code  chan int
	err   error
}

// clock is the fake time: the moment of the reading a tick asks for.
func (d *watchDriver) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func startWatch(t *testing.T, root string, o watchOptions, stdout *bytes.Buffer) *watchDriver {
	t.Helper()
	d := &watchDriver{t: t, root: root, ticks: make(chan time.Time), done: make(chan struct{}), now: watchT0, code: make(chan int, 1)}
	o.host = collect.Host{Root: root}
	// The fake clock is the time of each reading: step advances it
	// before the tick that asks for one.
	o.now = d.clock
	o.ticks = d.ticks
	o.ticked = func() { d.done <- struct{}{} }
	if o.interval == 0 {
		o.interval = 250 * time.Millisecond
	}
	if o.threshold == 0 {
		o.threshold = 500 * time.Millisecond
	}
	go func() {
		var stderr bytes.Buffer
		code, err := runWatch(o, stdout, &stderr, make(chan os.Signal))
		d.err = err
		d.code <- code
	}()
	select { // the baselines are read: the fixture may change
	case <-d.done:
	case code := <-d.code:
		t.Fatalf("watch ended at once: exit %d %v", code, d.err)
	}
	return d
}

func (d *watchDriver) step(c diskCounters) {
	d.t.Helper()
	d.mu.Lock()
	next := d.sched + 250*time.Millisecond
	d.mu.Unlock()
	d.tick(c, next, next)
}

// tick sets the counters and sends one tick: its value is watchT0 + sched
// (what the ticker's channel carries: the scheduled time) and the reading
// it asks for is taken at watchT0 + real (the fake clock), later than
// sched when the process was not scheduled in time.
func (d *watchDriver) tick(c diskCounters, sched, real time.Duration) {
	d.t.Helper()
	writeDiskstats(d.t, d.root, c)
	d.mu.Lock()
	d.sched = sched
	tick := watchT0.Add(sched)
	d.now = watchT0.Add(real)
	d.mu.Unlock()
	select {
	case d.ticks <- tick:
	case code := <-d.code:
		d.t.Fatalf("watch ended early: exit %d %v", code, d.err)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.t.Fatal("tick not handled within 10 s")
	}
}

// stop ends the watch (its ticker stops) and returns the exit code.
func (d *watchDriver) stop() int {
	d.t.Helper()
	close(d.ticks)
	select {
	case code := <-d.code:
		if d.err != nil {
			d.t.Errorf("watch: %v", d.err)
		}
		return code
	case <-time.After(10 * time.Second):
		d.t.Fatal("watch did not end")
	}
	return -1
}

// stallScript drives dm-4 through load, a 1.5 s freeze with 8 requests in
// flight, load again, and a path going transport-offline during the freeze.
func stallScript(d *watchDriver) {
	ios := uint64(1000)
	for i := 0; i < 4; i++ { // 1 s of load: 400 completions a tick
		ios += 400
		d.step(diskCounters{ios: ios, inflight: 4})
	}
	for i := 0; i < 6; i++ { // 1.5 s frozen
		if i == 2 {
			collecttest.SetAttr(d.t, d.root, "/sys/class/block/sdg/device/state", "transport-offline")
		}
		d.step(diskCounters{ios: ios, inflight: 8})
	}
	for i := 0; i < 4; i++ {
		ios += 400
		d.step(diskCounters{ios: ios, inflight: 4})
	}
}

// TestWatchStallAndRecord drives `lunbench watch --record` over the
// fourpath fixture with a fake ticker: the stall is seen from diskstats
// alone (in flight, nothing completed), lasts the freeze to within a
// sample, the path change is an event, and `lunbench report` reads the
// recording.
func TestWatchStallAndRecord(t *testing.T) {
	root := fixtureRoot(t, "fourpath")
	writeDiskstats(t, root, diskCounters{ios: 1000})
	rec := filepath.Join(t.TempDir(), "rec")
	var out bytes.Buffer
	d := startWatch(t, root, watchOptions{devices: []string{"hydra_db-a02"}, record: rec, noTUI: true}, &out)
	stallScript(d)
	if code := d.stop(); code != exitPass {
		t.Fatalf("exit %d, want 0\n%s", code, out.String())
	}
	evs, err := report.ReadEvents(rec)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var stallEnd, pathEv *workload.Event
	for i, e := range evs {
		kinds = append(kinds, e.Kind.String())
		switch e.Kind {
		case workload.EvStallEnd:
			stallEnd = &evs[i]
		case workload.EvPathState:
			pathEv = &evs[i]
		}
	}
	// The path going offline is also one usable path less in the map.
	want := []string{"run_start", "stall_start", "map_change", "path_state", "stall_end", "run_end"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", kinds, want)
	}
	// Frozen from the start of the first stuck interval to the sample that
	// saw completions again: 6 stuck ticks plus the one that resolved it.
	if stallEnd == nil || stallEnd.Dur != 1750*time.Millisecond || stallEnd.Target != "hydra_db-a02" {
		t.Errorf("stall_end %+v, want 1.75 s on hydra_db-a02", stallEnd)
	}
	if pathEv == nil || pathEv.Path != "sdg" || !strings.Contains(pathEv.Detail, "running→transport-offline") {
		t.Errorf("path_state %+v", pathEv)
	}
	run, err := report.ReadRun(rec)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "finished" || len(run.Stalls) != 1 || run.Stalls[0].InFlight != 8 || !run.End.After(run.Start) {
		t.Errorf("run.json: status %q stalls %+v start %v end %v", run.Status, run.Stalls, run.Start, run.End)
	}
	csv, err := os.ReadFile(filepath.Join(rec, "diskstats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// A row a second for dm-4 and each of its four paths, header first.
	if n := strings.Count(string(csv), "\n"); n < 1+3*5 {
		t.Errorf("diskstats.csv has %d lines:\n%s", n, csv)
	}
	if err := report.Render(rec, report.Options{}); err != nil {
		t.Fatalf("report on a watch recording: %v", err)
	}
	for _, f := range []string{"report.md", "device.png"} {
		if _, err := os.Stat(filepath.Join(rec, f)); err != nil {
			t.Errorf("report did not write %s: %v", f, err)
		}
	}
	// Line mode: a line a second per device, the stall on dm-4's line.
	if !strings.Contains(out.String(), "I/O STALLED") || !strings.Contains(out.String(), "└ sdg") {
		t.Errorf("line output:\n%s", out.String())
	}
}

// TestWatchDashboardBanner runs the same script on tcell's simulation
// screen: the banner counts the stall live, the event log then shows its
// length, and q ends the watch with exit 0.
func TestWatchDashboardBanner(t *testing.T) {
	root := fixtureRoot(t, "fourpath")
	writeDiskstats(t, root, diskCounters{ios: 1000})
	sim := tcell.NewSimulationScreen("UTF-8")
	sim.SetSize(80, 24)
	var out bytes.Buffer
	d := startWatch(t, root, watchOptions{devices: []string{"hydra_db-a02"}, screen: sim, interval: 20 * time.Millisecond}, &out)
	ios := uint64(1000)
	for i := 0; i < 4; i++ {
		ios += 400
		d.step(diskCounters{ios: ios, inflight: 4})
	}
	for i := 0; i < 30; i++ { // 20 ms fake-time samples are not real time: 30 × 250 ms
		d.step(diskCounters{ios: ios, inflight: 8})
	}
	waitScreen(t, sim, "I/O STALLED 7.5 s on hydra_db-a02")
	ios += 400
	d.step(diskCounters{ios: ios, inflight: 4})
	waitScreen(t, sim, "stalled 7.750 s")
	sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case code := <-d.code:
		if code != exitPass || d.err != nil {
			t.Fatalf("q: exit %d %v, want 0", code, d.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not end the watch")
	}
}

// waitScreen waits up to 5 s for text on the simulation screen.
func waitScreen(t *testing.T, s tcell.SimulationScreen, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := screenText(s)
		if strings.Contains(got, text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q:\n%s", text, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func screenText(s tcell.SimulationScreen) string {
	cells, w, h := s.GetContents()
	var b strings.Builder
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if r := cells[y*w+x].Runes; len(r) > 0 {
				b.WriteRune(r[0])
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestWatchArguments checks what watch says when it has nothing to watch.
func TestWatchArguments(t *testing.T) {
	tests := []struct {
		name, tree string
		args       []string
		code       int
		msg        string
	}{
		// A name that is no device and no file: exit 2, named.
		{"bad device", "fourpath", []string{"nosuchdev"}, exitUsage, "no block device or file nosuchdev"},
		// A /dev path that does not exist.
		{"bad dev path", "fourpath", []string{"/dev/mapper/nosuch"}, exitUsage, "nosuch"},
		// No argument on a host without maps or iSCSI disks: say so, list what there is.
		{"nothing to watch", "nvme", nil, exitUsage, "no multipath maps or iSCSI disks found; name a device (block devices here: "},
		// Nonsense flags are usage errors too.
		{"bad interval", "fourpath", []string{"--interval", "0s", "dm-4"}, exitUsage, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fixtureRoot(t, tc.tree)
			var out, errb bytes.Buffer
			args := append([]string{"watch", "--no-tui", "--root", root}, tc.args...)
			code := execute(args, nil, &out, &errb, make(chan os.Signal))
			if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tc.code, tc.msg)
			}
		})
	}
}

// TestWatchRestoresTerminalOnPanic checks restoreOnPanic: the screen is
// finalised and the panic goes on.
func TestWatchRestoresTerminalOnPanic(t *testing.T) {
	sim := tcell.NewSimulationScreen("UTF-8")
	if err := sim.Init(); err != nil {
		t.Fatal(err)
	}
	sim.SetSize(80, 24)
	got := func() (r any) {
		defer func() { r = recover() }()
		defer restoreOnPanic(sim)
		panic("boom")
	}()
	if got != "boom" {
		t.Errorf("recovered %v, want the panic to go on", got)
	}
	if w, h := sim.Size(); w != 0 || h != 0 {
		t.Errorf("screen %d×%d after the panic: not finalised", w, h)
	}
}

// lateTickScript is a steady 3000 completions a second on dm-4, ticked
// every 250 ms, with the tick scheduled at 2 s (which also takes the
// second's recorded row) served 300 ms late; the ticker drops the tick at
// 2.25 s, and the next comes on schedule at 2.5 s. Then load up to 4 s.
func lateTickScript(d *watchDriver) {
	const ms = time.Millisecond
	ios := uint64(1000)
	for i := 1; i <= 7; i++ {
		ios += 750
		d.tick(diskCounters{ios: ios, inflight: 4}, time.Duration(i)*250*ms, time.Duration(i)*250*ms)
	}
	ios += 3 * 550 // 1.75 s to 2.3 s
	d.tick(diskCounters{ios: ios, inflight: 4}, 2000*ms, 2300*ms)
	ios += 3 * 200 // to 2.5 s
	d.tick(diskCounters{ios: ios, inflight: 4}, 2500*ms, 2500*ms)
	for i := 11; i <= 16; i++ {
		ios += 750
		d.step(diskCounters{ios: ios, inflight: 4})
	}
}

// TestWatchLateTick: a tick served late must not stretch the rates. Each
// reading is stamped with its own time, so the recorded rows, the line
// output and the dashboard's devices table all say 3000 r/s for dm-4.
// Stamped with the tick's time instead, the late reading would claim
// 1650 completions in 250 ms (6,600 r/s) and the recorded second 3,900 r/s.
func TestWatchLateTick(t *testing.T) {
	t.Run("record", func(t *testing.T) {
		root := fixtureRoot(t, "fourpath")
		writeDiskstats(t, root, diskCounters{ios: 1000})
		rec := filepath.Join(t.TempDir(), "rec")
		var out bytes.Buffer
		d := startWatch(t, root, watchOptions{devices: []string{"hydra_db-a02"}, record: rec, noTUI: true}, &out)
		lateTickScript(d)
		if code := d.stop(); code != exitPass {
			t.Fatalf("exit %d\n%s", code, out.String())
		}
		csv, err := os.ReadFile(filepath.Join(rec, "diskstats.csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
		head := strings.Split(lines[0], ",")
		col := slices.Index(head, "r/s")
		ivCol := slices.Index(head, "interval_s")
		var rows int
		for _, l := range lines[1:] {
			f := strings.Split(l, ",")
			if f[2] != "dm-4" {
				continue
			}
			rows++
			if f[col] != "3000.00" {
				t.Errorf("diskstats.csv: dm-4 r/s %s over interval_s %s, want 3000.00:\n%s", f[col], f[ivCol], csv)
			}
		}
		if rows < 3 {
			t.Errorf("%d dm-4 rows in diskstats.csv:\n%s", rows, csv)
		}
		if !strings.Contains(out.String(), "r/s   3,000") || strings.Contains(out.String(), "r/s   3,900") {
			t.Errorf("line output:\n%s", out.String())
		}
	})
	t.Run("dashboard", func(t *testing.T) {
		root := fixtureRoot(t, "fourpath")
		writeDiskstats(t, root, diskCounters{ios: 1000})
		sim := tcell.NewSimulationScreen("UTF-8")
		sim.SetSize(100, 30)
		var out bytes.Buffer
		d := startWatch(t, root, watchOptions{devices: []string{"hydra_db-a02"}, screen: sim}, &out)
		const ms = time.Millisecond
		ios := uint64(1000)
		for i := 1; i <= 3; i++ {
			ios += 750
			d.tick(diskCounters{ios: ios, inflight: 4}, time.Duration(i)*250*ms, time.Duration(i)*250*ms)
		}
		ios += 3 * 550
		d.tick(diskCounters{ios: ios, inflight: 4}, 1000*ms, 1300*ms)
		// Let the dashboard draw what the late reading gave.
		time.Sleep(600 * time.Millisecond)
		if txt := screenText(sim); !strings.Contains(txt, "3,000") || strings.Contains(txt, "6,600") {
			t.Errorf("devices table after the late tick:\n%s", txt)
		}
		sim.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
		<-d.code
	})
}
