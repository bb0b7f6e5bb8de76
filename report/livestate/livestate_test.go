package livestate

import (
	"reflect"
	"testing"

	"lunbench/collect"
	"lunbench/workload"
)

func TestObserve(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []workload.Event
		want   Frame
	}{
		// A path's state is what follows the arrow of the detail
		// collect/watch.go writes.
		{"path", []workload.Event{{Kind: workload.EvPathState, Path: "sdg", Detail: "sdg running→transport-offline"}},
			Frame{Paths: map[string]string{"sdg": "transport-offline"}, Sessions: map[string]string{}}},
		// The last event wins.
		{"path back", []workload.Event{
			{Kind: workload.EvPathState, Path: "sdg", Detail: "sdg running→blocked"},
			{Kind: workload.EvPathState, Path: "sdg", Detail: "sdg blocked→running"}},
			Frame{Paths: map[string]string{"sdg": "running"}, Sessions: map[string]string{}}},
		// Sessions apart from paths.
		{"session", []workload.Event{{Kind: workload.EvSessionState, Path: "session3", Detail: "session3 LOGGED_IN→FAILED"}},
			Frame{Paths: map[string]string{}, Sessions: map[string]string{"session3": "FAILED"}}},
		// No arrow, or no path: nothing to follow.
		{"no state", []workload.Event{
			{Kind: workload.EvPathState, Path: "sdg", Detail: "sdg gone"},
			{Kind: workload.EvPathState, Detail: "x→y"}},
			Frame{Paths: map[string]string{}, Sessions: map[string]string{}}},
		// A drill is in progress from its inject to its recovery.
		{"drill on", []workload.Event{{Kind: workload.EvDrillInject}},
			Frame{Drill: true, Paths: map[string]string{}, Sessions: map[string]string{}}},
		{"drill over", []workload.Event{{Kind: workload.EvDrillInject}, {Kind: workload.EvDrillRecover}},
			Frame{Paths: map[string]string{}, Sessions: map[string]string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			for _, e := range tc.events {
				s.Observe(e)
			}
			if got := s.Frame(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("frame %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFrameIsACopy(t *testing.T) {
	var s State
	rows := []collect.DiskStat{{Device: "sdb", RPS: 10}}
	s.AddDiskStats(rows)
	rows[0].RPS = 99 // the caller's slice is its own again
	s.SetPathState("sdb", "running")
	s.SetVerdict("FAIL errors == 0", true)
	s.SetDrillActive(true)
	f := s.Frame()
	f.Paths["sdb"] = "offline"
	g := s.Frame()
	if g.Disk[0].RPS != 10 || g.Paths["sdb"] != "running" {
		t.Errorf("state changed through a caller's slice or a frame's map: %+v", g)
	}
	if g.Verdict != "FAIL errors == 0" || !g.Failing || !g.Checked || !g.Drill || !s.DrillActive() {
		t.Errorf("frame %+v: want the verdict, failing, checked and a drill", g)
	}
}
