package collect

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"lunbench/workload"
)

// WatchEvery is how often a run polls path, session and connection states.
const WatchEvery = 250 * time.Millisecond

// rebuildEvery is how many polls pass between full topology reads (5 s at
// WatchEvery). In between, a poll re-reads only the state attributes it
// already knows (a few dozen small reads), and falls back to a full read
// as soon as something structural moves: a map's slaves change, a device
// or session disappears. New sessions and new targets' paths are thus
// seen within rebuildEvery polls.
const rebuildEvery = 20

// Watcher turns changes in the topology under a run's targets into events:
// a path leaving "running", a session leaving LOGGED_IN, a connection
// failing, a map losing or gaining a path, a target device vanishing. It
// reads sysfs only (no multipathd, which would mean a fork every poll).
// Not safe for concurrent use.
type Watcher struct {
	h     Host
	args  []string
	prev  *watchState
	polls int
	// Paths and sessions once seen stay watched (with the target they
	// served) after the topology stops listing them: a session whose
	// only path was removed still logs back in, and a path a flushed map
	// let go is not "gone" while its device exists.
	paths, sessions map[string]string
}

// NewWatcher watches the given targets; with none, every map and session.
func NewWatcher(h Host, devices ...string) *Watcher {
	return &Watcher{h: h, args: devices, paths: map[string]string{}, sessions: map[string]string{}}
}

// Poll reads the states at now and returns an event per change since the
// previous poll, in a stable order. The first poll sets the baseline and
// returns no event.
func (w *Watcher) Poll(now time.Time) []workload.Event {
	w.polls++
	var cur *watchState
	if w.prev != nil && w.polls%rebuildEvery != 0 {
		cur = w.quick(w.prev)
	}
	if cur == nil {
		t, _ := w.h.topology(false, w.args)
		cur = newWatchState(t)
		w.keepWatching(cur)
	}
	prev := w.prev
	w.prev = cur
	if prev == nil {
		return nil
	}
	return diffStates(prev, cur, now)
}

// keepWatching adds to cur the paths and sessions seen before that the
// topology no longer lists, read straight from sysfs, and remembers what cur
// holds for the next poll.
func (w *Watcher) keepWatching(cur *watchState) {
	for name, target := range w.paths {
		if _, ok := cur.paths[name]; !ok && w.h.exists("/sys/class/block/"+name) {
			cur.paths[name] = watchItem{state: w.h.attr("/sys/class/block/" + name + "/device/state"), target: target, session: w.h.sessionOf(name)}
		}
	}
	for name, target := range w.sessions {
		if it, ok := cur.sessions[name]; ok {
			if it.target == "" {
				it.target = target
				cur.sessions[name] = it
			}
			continue
		}
		if s, ok := w.h.session(name); ok {
			cur.sessions[name] = watchItem{state: s.State, target: target}
			for _, c := range s.Connections {
				cur.conns[c.Name] = watchItem{state: c.State, target: target}
			}
		}
	}
	clear(w.paths)
	for name, it := range cur.paths {
		w.paths[name] = it.target
	}
	clear(w.sessions)
	for name, it := range cur.sessions {
		w.sessions[name] = it.target
	}
}

// quick re-reads the states of what prev knows. It returns nil when the
// structure changed and a full read is needed.
func (w *Watcher) quick(prev *watchState) *watchState {
	h := w.h
	cur := &watchState{
		devices:  prev.devices,
		paths:    make(map[string]watchItem, len(prev.paths)),
		sessions: make(map[string]watchItem, len(prev.sessions)),
		conns:    make(map[string]watchItem, len(prev.conns)),
		maps:     make(map[string]watchMap, len(prev.maps)),
	}
	for _, d := range prev.devices {
		if (d.err == "") != (d.name != "" && h.exists("/sys/class/block/"+d.name)) {
			return nil
		}
	}
	for name, it := range prev.paths {
		st, err := h.read("/sys/class/block/" + name + "/device/state")
		if err != nil && !h.exists("/sys/class/block/"+name) {
			return nil
		}
		if err == nil {
			it.state = st
		}
		cur.paths[name] = it
	}
	for name, it := range prev.sessions {
		st, err := h.read("/sys/class/iscsi_session/" + name + "/state")
		if err != nil {
			return nil
		}
		it.state = st
		cur.sessions[name] = it
	}
	for name, it := range prev.conns {
		it.state = h.attr("/sys/class/iscsi_connection/" + name + "/state")
		cur.conns[name] = it
	}
	sessionState := make(map[string]string, len(cur.sessions))
	for name, it := range cur.sessions {
		sessionState[name] = it.state
	}
	for dm, m := range prev.maps {
		if !slices.Equal(h.slaves(dm), m.paths) {
			return nil
		}
		m.suspended = h.attr("/sys/class/block/"+dm+"/dm/suspended") == "1"
		m.usable = 0
		for _, p := range m.paths {
			if it := cur.paths[p]; usable(Path{State: it.state, Session: it.session}, sessionState) {
				m.usable++
			}
		}
		cur.maps[dm] = m
	}
	return cur
}

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
	state   string
	name    string // kernel name, for devices
	target  string
	err     string // for devices: why the target did not resolve
	session string // for paths
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
		s.paths[p.Device] = watchItem{state: p.State, target: target, session: p.Session}
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

// WatchPaths starts what a run watches on the host besides diskstats, each
// in a goroutine of wg until ctx ends: path, session and connection states
// of paths every WatchEvery (NewWatcher), and the unit attentions the
// kernel logs for the path devices of start (WatchUnitAttentions). The
// error says why unit attentions are not watched; the states are watched
// regardless.
func (h Host) WatchPaths(ctx context.Context, wg *sync.WaitGroup, start Topology, sink workload.EventSink, paths ...string) error {
	watcher := NewWatcher(h, paths...)
	wg.Go(func() { watcher.Run(ctx, WatchEvery, sink) })
	ua, err := h.WatchUnitAttentions(start)
	if ua != nil {
		wg.Go(func() { ua.Run(ctx, sink) })
	}
	return err
}
