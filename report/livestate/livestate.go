// Package livestate keeps what a live view of a run shows beside the
// aggregator's snapshots: the latest diskstats rows, each path's and
// session's state, the verdict so far and whether a drill is in progress.
// The terminal dashboard (report/live) and the metrics exporter
// (report/metrics) both embed a State, so the two views are fed by the
// same calls and read the same events the same way.
package livestate

import (
	"strings"
	"sync"
	"sync/atomic"

	"lunbench/collect"
	"lunbench/workload"
)

// State is safe for concurrent use: collectors and the aggregator write,
// a redraw or a scrape reads a Frame. Its zero value is ready.
type State struct {
	// drill is read on every key press, without the lock.
	drill atomic.Bool

	mu       sync.Mutex
	disk     []collect.DiskStat
	paths    map[string]string // device → state
	sessions map[string]string // session or connection → state
	verdict  string
	failing  bool
	checked  bool
}

// Frame is a consistent copy of a State, for one redraw or one scrape.
type Frame struct {
	// Disk is the sampler's latest rows. It is replaced, never changed in
	// place, so it is shared, not copied: do not modify it.
	Disk []collect.DiskStat
	// Paths and Sessions map a path device, or a session or connection,
	// to its current state.
	Paths, Sessions map[string]string
	// Verdict is the verdict so far ("" before any); Failing says a rule
	// that can only get worse is broken; Checked that a verdict was set.
	Verdict          string
	Failing, Checked bool
	// Drill is true between a drill's inject and its recovery.
	Drill bool
}

// AddDiskStats replaces the devices' rows with the sampler's latest.
func (s *State) AddDiskStats(rows []collect.DiskStat) {
	cp := make([]collect.DiskStat, len(rows))
	copy(cp, rows)
	s.mu.Lock()
	s.disk = cp
	s.mu.Unlock()
}

// SetPathState sets a path device's state directly (for example from the
// topology at the start of a run or a watch); path_state events update it
// after.
func (s *State) SetPathState(device, state string) {
	s.mu.Lock()
	s.setLocked(&s.paths, device, state)
	s.mu.Unlock()
}

// SetVerdict records the verdict so far: failed once a rule that can only
// get worse is broken.
func (s *State) SetVerdict(text string, failed bool) {
	s.mu.Lock()
	s.verdict, s.failing, s.checked = text, failed, true
	s.mu.Unlock()
}

// SetDrillActive says whether a drill is in progress; drill_inject and
// drill_recover events set it too.
func (s *State) SetDrillActive(on bool) { s.drill.Store(on) }

// DrillActive says whether a drill is in progress.
func (s *State) DrillActive() bool { return s.drill.Load() }

// Observe follows the states an event changes: a drill's, a path's or a
// session's.
func (s *State) Observe(e workload.Event) {
	switch e.Kind {
	case workload.EvDrillInject:
		s.drill.Store(true)
	case workload.EvDrillRecover:
		s.drill.Store(false)
	case workload.EvPathState, workload.EvSessionState:
		st, ok := NewState(e)
		if !ok {
			return
		}
		s.mu.Lock()
		if e.Kind == workload.EvPathState {
			s.setLocked(&s.paths, e.Path, st)
		} else {
			s.setLocked(&s.sessions, e.Path, st)
		}
		s.mu.Unlock()
	}
}

func (s *State) setLocked(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// Frame returns a copy of the state.
func (s *State) Frame() Frame {
	f := Frame{Drill: s.drill.Load()}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Disk = s.disk
	f.Paths, f.Sessions = copyMap(s.paths), copyMap(s.sessions)
	f.Verdict, f.Failing, f.Checked = s.verdict, s.failing, s.checked
	return f
}

// NewState reads the state a path or session went to from a path_state or
// session_state event's detail, "sdg running→blocked" (collect/watch.go);
// false when the event names no path or no new state.
func NewState(e workload.Event) (string, bool) {
	i := strings.LastIndex(e.Detail, "→")
	if i < 0 || e.Path == "" {
		return "", false
	}
	return strings.TrimSpace(e.Detail[i+len("→"):]), true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
