// Package live is the tcell dashboard of `lunbench run`: a live view of the
// same snapshots, disk statistics and events that the results directory
// records.
//
// Data comes in on the aggregator's and the collectors' goroutines and is
// only ever read by Run's goroutine. Add (on the I/O side) stores pointers
// atomically and never takes a lock; events and disk statistics are rare
// enough for a small mutex.
package live

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/collect"
	"lunbench/workload"
)

var (
	_ workload.Sink      = (*Dashboard)(nil)
	_ workload.EventSink = (*Dashboard)(nil)
)

// Options configure a Dashboard.
type Options struct {
	// Scenario is the name shown in the header.
	Scenario string
	// RunLength is the sum of the phases' ramps and durations, for the
	// run's remaining time; 0 when a phase is bounded by bytes only.
	RunLength time.Duration
	// NoColor draws in monochrome (bold, reverse, dim), for NO_COLOR.
	NoColor bool
	// OnMark is called when the user presses m: a manual fault mark.
	OnMark func()
	// EventLines is how many events are kept (default 500).
	EventLines int
	// Window is the chart's initial width in seconds (default 60).
	Window time.Duration
	// Redraw is the redraw period (default 250 ms, 4 Hz).
	Redraw time.Duration
	// Now is the clock a stall's age is computed with at draw time
	// (default time.Now; tests and `watch`'s fake clock set it).
	Now func() time.Time
	// Watch is `lunbench watch`: no phases and no latency histograms,
	// only the devices' diskstats. The header names the devices (Scenario
	// holds them), the per target table gives way to the devices table,
	// and the latency view charts await (Lat.Mean of the slices).
	Watch bool
	// Targets maps each target's name to its path (a file or a device),
	// so the tables can show a target by name with its device's basename
	// whichever of the two a row carries.
	Targets map[string]string
	// Hosts maps each target to its host in a run over several hosts
	// (nil for one host); HostOrder lists the hosts in scenario order.
	Hosts     map[string]string
	HostOrder []string
}

// histLen bounds the chart's history: 4096 ticks of 250 ms is about 17
// minutes, more than the widest window (10 minutes).
const histLen = 4096

// point is what one snapshot contributes to the charts.
type point struct {
	elapsed time.Duration // end of the slice, since run start
	dur     time.Duration // the slice's length
	r, w    float64       // bytes/s
	// p99 and max are per op (index workload.Op), worst over targets:
	// the latency view charts reads and writes apart.
	p99, max [workload.NumOps]time.Duration
	mean     time.Duration // worst; diskstats await in watch mode
	stalled  bool
}

// windows are the chart widths that + and - step through.
func windows() []time.Duration {
	return []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}
}

// The views that tab cycles through.
const (
	viewOverview = iota
	viewLatency
	viewPaths
	viewEvents
	numViews
)

func viewName(v int) string {
	return [...]string{"overview", "latency", "paths", "events"}[v]
}

// Dashboard is the live view. Create it with New, feed it as a
// workload.Sink and workload.EventSink, and call Run on its own goroutine.
type Dashboard struct {
	screen tcell.Screen
	opt    Options

	// Written by the aggregator, read by Run.
	snap  atomic.Pointer[workload.Snapshot]
	ivs   atomic.Pointer[[]workload.Interval] // the last completed intervals
	hist  [histLen]atomic.Pointer[point]
	histN atomic.Uint64
	drill atomic.Bool
	// status is what the run is doing after its I/O ended (SetStatus).
	status atomic.Pointer[string]

	mu        sync.Mutex // guards the fields below
	events    []workload.Event
	evStart   int // ring start once full
	disk      []collect.DiskStat
	pathState map[string]string
	lastEnd   *workload.Event // the last stall_end
	verdict   string
	failed    bool
	// stalls are the stalls going on, by target, from the stall_start
	// events: the banner shows as soon as the detector reports one, not
	// at the aggregator's next snapshot. ended is each target's last
	// stall_end, so a snapshot taken before it does not bring one back.
	stalls map[string]liveStall
	ended  map[string]time.Time

	// wake asks Run to draw now (a stall began or ended).
	wake chan struct{}

	// Run's goroutine only.
	view     int
	window   int // index into windows()
	help     bool
	confirm  bool
	quitting bool
	frames   atomic.Int64 // draws so far, for tests
}

// New returns a dashboard drawing on screen. Run initialises the screen
// and finalises it on return.
func New(screen tcell.Screen, opt Options) *Dashboard {
	if opt.EventLines <= 0 {
		opt.EventLines = 500
	}
	if opt.Redraw <= 0 {
		opt.Redraw = 250 * time.Millisecond
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	d := &Dashboard{screen: screen, opt: opt, pathState: map[string]string{}, window: 2,
		stalls: map[string]liveStall{}, ended: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	if opt.Window > 0 {
		d.window = len(windows()) - 1
		for i, w := range windows() {
			if w >= opt.Window {
				d.window = i
				break
			}
		}
	}
	return d
}

// Add keeps the snapshot for the next redraw. It runs on the aggregator's
// goroutine: it never blocks and takes no lock.
func (d *Dashboard) Add(s *workload.Snapshot) {
	d.snap.Store(s)
	if len(s.Intervals) > 0 {
		ivs := make([]workload.Interval, len(s.Intervals))
		copy(ivs, s.Intervals)
		for i := range ivs {
			ivs[i].Hist = nil // only valid during Add
		}
		d.ivs.Store(&ivs)
	}
	p := &point{elapsed: s.Elapsed, stalled: len(s.Stalls) > 0}
	for _, sl := range s.Slices {
		dur := sl.End.Sub(sl.Start)
		p.dur = max(p.dur, dur)
		if dur <= 0 {
			continue
		}
		rate := float64(sl.Bytes) / dur.Seconds()
		if sl.Op == workload.Write {
			p.w += rate
		} else {
			p.r += rate
		}
		if sl.Op < workload.NumOps {
			p.p99[sl.Op] = max(p.p99[sl.Op], sl.Lat.P99)
			p.max[sl.Op] = max(p.max[sl.Op], sl.Lat.Max)
		}
		p.mean = max(p.mean, sl.Lat.Mean)
	}
	if p.dur <= 0 {
		p.dur = 250 * time.Millisecond
	}
	n := d.histN.Add(1) - 1
	d.hist[n%histLen].Store(p)
}

// Event records an event for the log, the paths table and the stall banner.
func (d *Dashboard) Event(e workload.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.events) < d.opt.EventLines {
		d.events = append(d.events, e)
	} else {
		d.events[d.evStart] = e
		d.evStart = (d.evStart + 1) % len(d.events)
	}
	switch e.Kind {
	case workload.EvStallStart:
		// Dur is how long nothing had completed when it was detected, so
		// the stall began (the last completion) at Time - Dur.
		d.stalls[e.Target] = liveStall{since: e.Time.Add(-e.Dur)}
		d.poke()
	case workload.EvStallEnd:
		ev := e
		d.lastEnd = &ev
		delete(d.stalls, e.Target)
		d.ended[e.Target] = e.Time
		d.poke()
	case workload.EvDrillInject:
		d.drill.Store(true)
	case workload.EvDrillRecover:
		d.drill.Store(false)
	case workload.EvPathState:
		// Detail is "sdg running→blocked" (collect/watch.go).
		if i := strings.LastIndex(e.Detail, "→"); i >= 0 && e.Path != "" {
			d.pathState[e.Path] = strings.TrimSpace(e.Detail[i+len("→"):])
		}
	}
}

// poke wakes Run to draw at once; it never blocks.
func (d *Dashboard) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// AddDiskStats replaces the paths table with the sampler's latest rows.
func (d *Dashboard) AddDiskStats(rows []collect.DiskStat) {
	cp := make([]collect.DiskStat, len(rows))
	copy(cp, rows)
	d.mu.Lock()
	d.disk = cp
	d.mu.Unlock()
}

// SetPathState sets a path device's state directly (for example from the
// topology at the start of the run); EvPathState events update it after.
func (d *Dashboard) SetPathState(device, state string) {
	d.mu.Lock()
	d.pathState[device] = state
	d.mu.Unlock()
}

// SetVerdict shows the verdict so far in the header.
func (d *Dashboard) SetVerdict(text string, failed bool) {
	d.mu.Lock()
	d.verdict, d.failed = text, failed
	d.mu.Unlock()
}

// SetStatus says what the run is doing once its I/O has stopped (writing
// run.json, drawing the charts), so the screen shows progress rather than
// going blank for the seconds a report takes; "" clears it.
func (d *Dashboard) SetStatus(text string) { d.status.Store(&text) }

// SetDrillActive says whether a drill is in progress: q then asks first.
// drill_inject and drill_recover events set it too.
func (d *Dashboard) SetDrillActive(on bool) { d.drill.Store(on) }

// state is a consistent copy of what the mutex guards, for one frame.
type state struct {
	snap      *workload.Snapshot
	ivs       []workload.Interval
	events    []workload.Event
	disk      []collect.DiskStat
	pathState map[string]string
	lastEnd   *workload.Event
	verdict   string
	failed    bool
	drill     bool
	hist      []*point // oldest first
	// stalls are the stalls going on, oldest first, their age taken at
	// now, the frame's time.
	stalls []workload.StallState
	now    time.Time
}

func (d *Dashboard) state() state {
	st := state{snap: d.snap.Load(), drill: d.drill.Load()}
	if p := d.ivs.Load(); p != nil {
		st.ivs = *p
	}
	n := d.histN.Load()
	k := min(n, histLen)
	st.hist = make([]*point, 0, k)
	for i := n - k; i < n; i++ {
		if p := d.hist[i%histLen].Load(); p != nil {
			st.hist = append(st.hist, p)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st.events = make([]workload.Event, 0, len(d.events))
	st.events = append(st.events, d.events[d.evStart:]...)
	st.events = append(st.events, d.events[:d.evStart]...)
	st.disk = d.disk
	st.pathState = make(map[string]string, len(d.pathState))
	for k, v := range d.pathState {
		st.pathState[k] = v
	}
	st.lastEnd = d.lastEnd
	st.verdict, st.failed = d.verdict, d.failed
	st.now = d.opt.Now()
	st.stalls = liveStalls(d.stalls, d.ended, st.snap, st.now)
	return st
}

// Run initialises the screen and redraws it from the latest snapshot until
// ctx ends. q or Ctrl-C calls quit once (while a drill is in progress only
// when q, Ctrl-C or y confirms; n or Esc keeps the run going); the caller then stops the run and cancels ctx.
// The screen is finalised on return, and on a panic before re-panicking,
// so the terminal is never left in raw mode.
func (d *Dashboard) Run(ctx context.Context, quit func()) (err error) {
	if err := d.screen.Init(); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			d.screen.Fini()
			panic(r)
		}
		d.screen.Fini()
	}()
	d.screen.HideCursor()
	evs := make(chan tcell.Event, 16)
	stop := make(chan struct{})
	defer close(stop) // before Fini: ends ChannelEvents
	go d.screen.ChannelEvents(evs, stop)
	tk := time.NewTicker(d.opt.Redraw)
	defer tk.Stop()
	// While a stall lasts the banner's count is redrawn more often, so the
	// age on screen is never more than stallRedraw behind the truth.
	fast := time.NewTicker(min(stallRedraw, d.opt.Redraw))
	defer fast.Stop()
	d.draw()
	for {
		var fastC <-chan time.Time
		if d.stalling() {
			fastC = fast.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
			d.draw()
		case <-fastC:
			d.draw()
		case <-d.wake:
			d.draw()
		case ev, ok := <-evs:
			if !ok {
				return nil // the screen was finalised under us
			}
			switch ev := ev.(type) {
			case *tcell.EventResize:
				d.screen.Sync()
			case *tcell.EventKey:
				d.key(ev, quit)
			}
			d.draw()
		}
	}
}

// key handles one key press.
func (d *Dashboard) key(ev *tcell.EventKey, quit func()) {
	r := ev.Rune()
	if ev.Key() != tcell.KeyRune {
		r = 0
	}
	if d.confirm {
		// q again (or y) confirms: the operator's hand is already on q.
		switch {
		case r == 'q' || r == 'Q' || r == 'y' || r == 'Y' || ev.Key() == tcell.KeyCtrlC:
			d.confirm = false
			d.stop(quit)
		case r == 'n' || r == 'N' || ev.Key() == tcell.KeyEscape:
			d.confirm = false
		}
		return
	}
	if d.help && (ev.Key() == tcell.KeyEscape || r == '?') {
		d.help = false
		return
	}
	switch {
	case r == 'q' || r == 'Q' || ev.Key() == tcell.KeyCtrlC:
		if d.quitting {
			return
		}
		if d.drill.Load() {
			d.confirm = true
			return
		}
		d.stop(quit)
	case r == 'm' || r == 'M':
		if d.opt.OnMark != nil {
			d.opt.OnMark()
		}
	case ev.Key() == tcell.KeyTab:
		d.view = (d.view + 1) % numViews
	case ev.Key() == tcell.KeyBacktab:
		d.view = (d.view + numViews - 1) % numViews
	case r == '+' || r == '=':
		d.window = min(d.window+1, len(windows())-1)
	case r == '-' || r == '_':
		d.window = max(d.window-1, 0)
	case r == '?' || r == 'h':
		d.help = !d.help
	case ev.Key() == tcell.KeyEscape:
		d.help = false
	}
}

func (d *Dashboard) stop(quit func()) {
	d.quitting = true
	if quit != nil {
		quit()
	}
}

// TeeEvents returns an EventSink that hands every event to each of sinks,
// so the results directory and the dashboard can share one source.
func TeeEvents(sinks ...workload.EventSink) workload.EventSink { return tee(sinks) }

type tee []workload.EventSink

func (t tee) Event(e workload.Event) {
	for _, s := range t {
		s.Event(e)
	}
}
