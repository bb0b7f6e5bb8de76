package live

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/workload"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// screenShows waits up to within (real time) for text on s and returns
// how long it took.
func screenShows(t *testing.T, s tcell.SimulationScreen, text string, within time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	for {
		if strings.Contains(strings.Join(lines(s), "\n"), text) {
			return time.Since(t0)
		}
		if time.Since(t0) > within {
			t.Fatalf("screen never showed %q within %v:\n%s", text, within, strings.Join(lines(s), "\n"))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestStallBannerOnEvent: the banner is drawn as soon as the stall_start
// event arrives, with no snapshot in between and a redraw period far
// longer than the test; its age is the clock at draw time minus the last
// completion (the event's time minus its Dur), counted up at the faster
// stall redraw; stall_end takes it down at once.
func TestStallBannerOnEvent(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	clock := &fakeClock{now: t0.Add(40 * time.Second)}
	d := New(s, Options{Redraw: time.Hour, Now: clock.Now})
	feed(d)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, func() {}) }()
	waitFrames(t, d)
	// Detected 500 ms after the last completion, 20 ms ago.
	clock.add(520 * time.Millisecond)
	d.Event(workload.Event{Time: clock.Now().Add(-20 * time.Millisecond), Kind: workload.EvStallStart, Target: "lun0", Dur: 500 * time.Millisecond})
	took := screenShows(t, s, "I/O STALLED 0.5 s on lun0", time.Second)
	// The count follows the clock between snapshots (none come here).
	clock.add(1200 * time.Millisecond)
	screenShows(t, s, "I/O STALLED 1.7 s on lun0", 5*stallRedraw)
	// A snapshot that still carries the stall adds the in-flight count.
	d.Add(snap(41*time.Second, workload.StallState{Target: "lun0", Since: t0.Add(40 * time.Second), For: 500 * time.Millisecond, InFlight: 8}))
	screenShows(t, s, "I/O STALLED 1.7 s on lun0 (8 in flight)", 5*stallRedraw)
	// I/O resumes: the banner goes with the event, although the last
	// snapshot still holds the stall.
	d.Event(workload.Event{Time: clock.Now(), Kind: workload.EvStallEnd, Target: "lun0", Dur: 1720 * time.Millisecond})
	screenShows(t, s, "I/O resumed on lun0 after a 1.720 s stall", time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("banner drawn %v after the stall_start event", took)
}

// TestLiveStalls: which stalls the banner lists and with what age.
func TestLiveStalls(t *testing.T) {
	now := t0.Add(10 * time.Second)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name   string
		events map[string]liveStall
		ended  map[string]time.Time
		snap   []workload.StallState
		want   string // target:age-in-ms:inflight, ...
	}{
		// From the event alone: age at now, in flight unknown.
		{"event", map[string]liveStall{"a": {since: at(9)}}, nil, nil, "a:1000:-1"},
		// From the snapshot alone (its For is stale: recomputed).
		{"snapshot", nil, nil, []workload.StallState{{Target: "a", Since: at(8), For: time.Second, InFlight: 4}}, "a:2000:4"},
		// Both: the event's start, the snapshot's in-flight count.
		{"both", map[string]liveStall{"a": {since: at(9)}}, nil, []workload.StallState{{Target: "a", Since: at(9), InFlight: 4}}, "a:1000:4"},
		// A snapshot's stall that a stall_end has ended is not shown.
		{"ended", nil, map[string]time.Time{"a": at(9.5)}, []workload.StallState{{Target: "a", Since: at(9)}}, ""},
		// A later stall on the same target is.
		{"new after end", nil, map[string]time.Time{"a": at(8)}, []workload.StallState{{Target: "a", Since: at(9), InFlight: 2}}, "a:1000:2"},
		// Several, oldest first.
		{"order", map[string]liveStall{"b": {since: at(9)}, "a": {since: at(9.5)}}, nil, nil, "b:1000:-1,a:500:-1"},
	}
	for _, tt := range tests {
		var sn *workload.Snapshot
		if tt.snap != nil {
			sn = &workload.Snapshot{Stalls: tt.snap}
		}
		var got []string
		for _, s := range liveStalls(tt.events, tt.ended, sn, now) {
			got = append(got, s.Target+":"+strconv.Itoa(int(s.For/time.Millisecond))+":"+strconv.Itoa(s.InFlight))
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, g, tt.want)
		}
	}
}
