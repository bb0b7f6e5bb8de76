package collect

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"lunbench/workload"
)

// WatchEvery is how often a run polls path, session and connection states.
const WatchEvery = 250 * time.Millisecond

// Watcher turns changes in the topology under a run's targets into events:
// a path leaving "running", a session leaving LOGGED_IN, a connection
// failing, a map losing or gaining a path, a target device vanishing. It
// reads sysfs only (no multipathd, which would mean a fork every poll).
// Not safe for concurrent use.
type Watcher struct {
	h    Host
	args []string
	prev *watchState
	last Topology
}

// NewWatcher watches the given targets; with none, every map and session.
func NewWatcher(h Host, devices ...string) *Watcher {
	return &Watcher{h: h, args: devices}
}

// Poll reads the states at now and returns an event per change since the
// previous poll, in a stable order. The first poll sets the baseline and
// returns no event.
func (w *Watcher) Poll(now time.Time) []workload.Event {
	t, _ := w.h.topology(false, w.args)
	w.last = t
	cur := newWatchState(t)
	prev := w.prev
	w.prev = cur
	if prev == nil {
		return nil
	}
	return diffStates(prev, cur, now)
}

// Last returns the topology read by the latest poll (for topology.json at
// the end of a run).
func (w *Watcher) Last() Topology { return w.last }

// Run polls every interval until ctx ends and hands each event to sink.
func (w *Watcher) Run(ctx context.Context, every time.Duration, sink workload.EventSink) {
	w.Poll(time.Now())
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tk.C:
			for _, e := range w.Poll(now) {
				sink.Event(e)
			}
		}
	}
}

type watchState struct {
	devices  map[string]watchItem // by target label
	paths    map[string]watchItem // by device name
	sessions map[string]watchItem
	conns    map[string]watchItem
	maps     map[string]watchMap // by dm name
}

type watchItem struct {
	state  string
	name   string // kernel name, for devices
	target string
	err    string
}

type watchMap struct {
	alias, target string
	paths         []string
	usable        int
	suspended     bool
}

func newWatchState(t Topology) *watchState {
	s := &watchState{
		devices:  map[string]watchItem{},
		paths:    map[string]watchItem{},
		sessions: map[string]watchItem{},
		conns:    map[string]watchItem{},
		maps:     map[string]watchMap{},
	}
	sessTargets := map[string][]string{}
	addPath := func(p Path, target string) {
		s.paths[p.Device] = watchItem{state: p.State, target: target}
		if p.Session != "" && !slices.Contains(sessTargets[p.Session], target) {
			sessTargets[p.Session] = append(sessTargets[p.Session], target)
		}
	}
	for _, d := range t.Devices {
		label := d.Arg
		if label == "" {
			label = d.Name
		}
		s.devices[label] = watchItem{name: d.Name, err: d.Error, target: label}
		for _, m := range d.Maps {
			wm := watchMap{alias: m.Name, target: label, usable: m.Usable, suspended: m.Suspended}
			for _, p := range m.Paths {
				wm.paths = append(wm.paths, p.Device)
				addPath(p, label)
			}
			s.maps[m.Device] = wm
		}
		for _, p := range d.Paths {
			addPath(p, label)
		}
	}
	for _, ss := range t.Sessions {
		// A session serves every LUN behind its target: name them all.
		target := strings.Join(sessTargets[ss.Name], ",")
		s.sessions[ss.Name] = watchItem{state: ss.State, target: target}
		for _, c := range ss.Connections {
			s.conns[c.Name] = watchItem{state: c.State, target: target}
		}
	}
	return s
}

func diffStates(prev, cur *watchState, now time.Time) []workload.Event {
	var evs []workload.Event
	ev := func(kind workload.EventKind, target, path, detail string) {
		evs = append(evs, workload.Event{Time: now, Kind: kind, Target: target, Path: path, Detail: detail})
	}

	for _, k := range unionKeys(prev.devices, cur.devices) {
		p, c := prev.devices[k], cur.devices[k]
		switch {
		case p.err == "" && c.err != "":
			ev(workload.EvDeviceGone, k, p.name, fmt.Sprintf("%s gone: %s", orDash(p.name), c.err))
		case p.err != "" && c.err == "":
			ev(workload.EvDeviceBack, k, c.name, c.name+" back")
		}
	}
	for _, k := range unionKeys(prev.maps, cur.maps) {
		p, pok := prev.maps[k]
		c, cok := cur.maps[k]
		if !pok || !cok {
			continue // the device events above tell
		}
		for _, d := range p.paths {
			if !slices.Contains(c.paths, d) {
				ev(workload.EvMapChange, c.target, k, fmt.Sprintf("%s lost path %s (%d left)", c.alias, d, len(c.paths)))
			}
		}
		for _, d := range c.paths {
			if !slices.Contains(p.paths, d) {
				ev(workload.EvMapChange, c.target, k, fmt.Sprintf("%s gained path %s (%d now)", c.alias, d, len(c.paths)))
			}
		}
		if p.usable != c.usable {
			ev(workload.EvMapChange, c.target, k, fmt.Sprintf("%s usable paths %d→%d of %d", c.alias, p.usable, c.usable, len(c.paths)))
		}
		if p.suspended != c.suspended {
			word := "resumed"
			if c.suspended {
				word = "suspended"
			}
			ev(workload.EvMapChange, c.target, k, c.alias+" "+word)
		}
	}
	states := func(kind workload.EventKind, prev, cur map[string]watchItem) {
		for _, k := range unionKeys(prev, cur) {
			p, pok := prev[k]
			c, cok := cur[k]
			switch {
			case pok && cok && p.state != c.state:
				ev(kind, c.target, k, fmt.Sprintf("%s %s→%s", k, orDash(p.state), orDash(c.state)))
			case pok && !cok:
				ev(kind, p.target, k, fmt.Sprintf("%s %s→gone", k, orDash(p.state)))
			case !pok && cok:
				ev(kind, c.target, k, fmt.Sprintf("%s new→%s", k, orDash(c.state)))
			}
		}
	}
	states(workload.EvPathState, prev.paths, cur.paths)
	states(workload.EvSessionState, prev.sessions, cur.sessions)
	states(workload.EvSessionState, prev.conns, cur.conns)
	return evs
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return natLess(keys[i], keys[j]) })
	return keys
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
