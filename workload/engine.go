package workload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
	"lunbench/workload/uring"
	"lunbench/workload/verify"
)

// Clock is the run's monotonic clock: nanoseconds since its base.
type Clock struct{ base time.Time }

// NewClock returns a clock whose zero is base (which must carry a monotonic
// reading, as time.Now() does).
func NewClock(base time.Time) Clock { return Clock{base: base} }

// Now returns monotonic nanoseconds since the base.
func (c Clock) Now() int64 { return int64(time.Since(c.base)) }

// Time converts clock nanoseconds back to wall time.
func (c Clock) Time(ns int64) time.Time { return c.base.Add(time.Duration(ns)) }

// UnixNano converts clock nanoseconds to Unix nanoseconds without
// allocating.
func (c Clock) UnixNano(ns int64) int64 { return c.base.UnixNano() + ns }

// Snapshot is what the aggregator publishes at each tick: the state of the
// running phase, the tick's fine-grained slices, and the intervals that
// completed at this tick. It is immutable once published.
type Snapshot struct {
	Time         time.Time
	Elapsed      time.Duration // since the run started
	Phase        string
	PhaseIndex   int // 0-based
	PhaseCount   int
	PhaseElapsed time.Duration
	// PhaseLength is ramp + duration; 0 for a phase bounded by bytes only.
	PhaseLength time.Duration
	Ramp        bool
	// Slices is the last tick (about 250 ms) per target × op.
	Slices []Interval
	// Intervals are the intervals (scenario resolution) that ended at this
	// tick, per target × op; nil when none did.
	Intervals []Interval
	// Stalls lists targets with I/O in flight and no completion for longer
	// than the stall threshold right now.
	Stalls []StallState
}

// StallState is a stall still in progress.
type StallState struct {
	Target   string
	Since    time.Time // the last completion before the gap
	For      time.Duration
	InFlight int
}

// Sink receives snapshots from the aggregator, on its goroutine; it must
// return quickly.
type Sink interface {
	Add(*Snapshot)
}

// PhaseResult summarises one phase × target × op over the measured part of
// the phase (ramp excluded).
type PhaseResult struct {
	Phase       string            `json:"phase"`
	Target      string            `json:"target"`
	Op          Op                `json:"op"`
	Start       time.Time         `json:"start"`
	End         time.Time         `json:"end"`
	Seconds     float64           `json:"seconds"`
	Ops         uint64            `json:"ops"`
	Bytes       uint64            `json:"bytes"`
	Errors      uint64            `json:"errors"`
	Errnos      map[string]uint64 `json:"errnos,omitempty"`
	Missed      uint64            `json:"missed,omitempty"`
	IOPS        float64           `json:"iops"`
	BytesPerSec float64           `json:"bytes_per_sec"`
	MBps        float64           `json:"mib_per_sec"`
	Lat         LatencySummary    `json:"latency"`
	// Sizes breaks a block-size mix down per size (nil with one size).
	Sizes []SizeResult `json:"sizes,omitempty"`
	// Sub says which sweep or curve point the phase is (nil for a phase
	// as written); RateIOPS is the rate it was paced at (0: closed loop).
	Sub      *scenarios.Sub `json:"sub,omitempty"`
	RateIOPS float64        `json:"rate_iops,omitempty"`
	// Backoffs counts the pauses workers took after consecutive errors
	// (1 ms doubling to 100 ms), BackoffTime their total.
	Backoffs    uint64        `json:"backoffs,omitempty"`
	BackoffTime time.Duration `json:"backoff_ns,omitempty"`
	// Hist is the whole phase's latency histogram (for hlog and reports).
	Hist *hdr.Histogram `json:"-"`
}

// TargetResult records what a target turned out to be.
type TargetResult struct {
	Name   string `json:"name"`
	Device Device `json:"device"`
	// Created is true when lunbench created the (sparse) file.
	Created bool `json:"created,omitempty"`
	// RAMBacked says why the target lives in memory ("tmpfs at /tmp",
	// "zram0 (a RAM disk)"): its figures measure memory, not storage.
	RAMBacked string `json:"ram_backed,omitempty"`
}

// Result is everything a run measured, for the report.
type Result struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Seed  uint64    `json:"seed"`
	// RunID is the id every verified write's stamps carry.
	RunID       uint64           `json:"run_id,omitempty"`
	Interrupted bool             `json:"interrupted"`
	Targets     []TargetResult   `json:"targets"`
	Phases      []PhaseResult    `json:"phases"`
	Stalls      []Stall          `json:"stalls"`
	Drills      []DrillResult    `json:"drills,omitempty"`
	Verify      []verify.Summary `json:"verify,omitempty"`
	// Steady says how each phase with until_steady: ended.
	Steady []SteadyResult `json:"steady,omitempty"`
	// PhasesRun is how many phases started (all, unless interrupted).
	PhasesRun int `json:"phases_run"`
}

// stopDrain bounds the wait for in-flight I/O after an interrupt (Ctrl-C,
// SIGTERM, q, a results write error), below Options.Drain.
const stopDrain = 500 * time.Millisecond

// ConfigError is a problem with the scenario found only once the targets are
// known (block size, range, a path that is no target): the scenario is
// wrong, not the machine. Pos is the target or phase it is about.
type ConfigError struct {
	Pos scenarios.Pos
	Msg string
}

func (e *ConfigError) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

// Options configure a Runner.
type Options struct {
	// Destroy names the one device the user allows to be overwritten even
	// though it carries a signature (--destroy-data).
	Destroy string
	// Sys is the root for sysfs/procfs lookups.
	Sys SysRoot
	// Tick is how often the aggregator collects (default 250 ms).
	Tick time.Duration
	// Drain bounds how long to wait for in-flight I/O after a stop.
	Drain time.Duration
	// Now returns the wall-clock time (default time.Now).
	Now func() time.Time
	// Results is the results directory: drill command output goes to its
	// drills/ subdirectory ("" = not kept).
	Results string
	// Commands runs drill commands (default ShellRunner with lunbench's
	// environment).
	Commands CommandRunner
	// Warn, when set, is told what the user should know at once besides
	// the events: an io_uring phase falling back to threads. The command
	// prints it on stderr.
	Warn func(msg string)
	// RingSetup sets up an io_uring of at least entries slots (default
	// uring.NewSingleIssuer); tests make it fail to drive the fallback.
	RingSetup func(entries uint32) (*uring.Ring, error)
	// PhaseGate, when set, is called before each phase and the phase
	// starts when it returns: a coordinator of several hosts holds every
	// host's phase at a barrier there. An error stops the run before the
	// phase (ctx cancelled: the run counts as interrupted).
	PhaseGate func(ctx context.Context, idx int, name string) error
}

// Runner drives a scenario's phases against its targets.
type Runner struct {
	sc      *scenarios.Scenario
	opt     Options
	sinks   []Sink
	events  EventSink
	targets []*target
	clock   Clock
	// marks carries the operator's manual fault marks to the running
	// phase's manual drills.
	marks chan int64
	runID uint64
	// tempDirs hold generation maps of a run without a results directory.
	tempDirs []string
}

type target struct {
	spec    scenarios.Target
	dev     Device
	created bool
	ram     string // RAMBacked
	base    int64  // first byte of the range
	length  int64  // bytes in the range
	fd      *os.File
	write   bool // fd is open for writing
	// vmap is the target's generation map (phases with verify: true).
	vmap *verify.Map
}

// NewRunner prepares a run: probes every target, creates missing file
// targets, checks block sizes and ranges against the devices, and applies
// the write safety guard, so that nothing starts unless everything can.
func NewRunner(sc *scenarios.Scenario, opt Options, events EventSink, sinks ...Sink) (*Runner, error) {
	if opt.Tick <= 0 {
		opt.Tick = 250 * time.Millisecond
	}
	if opt.Tick > sc.Interval {
		opt.Tick = sc.Interval
	}
	if opt.Drain <= 0 {
		opt.Drain = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Commands == nil {
		opt.Commands = ShellRunner{Now: opt.Now}
	}
	if opt.Warn == nil {
		opt.Warn = func(string) {}
	}
	if opt.RingSetup == nil {
		opt.RingSetup = uring.NewSingleIssuer
	}
	r := &Runner{sc: sc, opt: opt, sinks: sinks, events: events, marks: make(chan int64, 8),
		clock: NewClock(time.Now()), runID: newRunID()}
	if err := Precheck(sc, opt.Sys); err != nil {
		return nil, err
	}
	writes := map[string]bool{}
	for _, p := range sc.Phases {
		if p.RW.Writes() {
			for _, t := range p.Targets {
				writes[t] = true
			}
		}
	}
	for _, spec := range sc.Targets {
		t, err := prepareTarget(spec, writes[spec.Name], opt)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.targets = append(r.targets, t)
	}
	for _, p := range sc.Phases {
		for _, name := range p.Targets {
			t := r.target(name)
			if err := p.CheckBlockSize(t.dev.LogicalBlock); err != nil {
				r.Close()
				return nil, &ConfigError{Pos: p.Pos, Msg: fmt.Sprintf("phase %q on target %q (%s): %v", p.Name, name, t.dev.Path, err)}
			}
			if p.Verify && t.length/p.BS < int64(p.QD) {
				r.Close()
				return nil, &ConfigError{Pos: p.Pos, Msg: fmt.Sprintf("phase %q: verify needs at least qd (%d) blocks of %s in target %q's range (%s), one share per worker",
					p.Name, p.QD, scenarios.FormatSize(p.BS), name, scenarios.FormatSize(t.length))}
			}
			if p.BS > t.length {
				r.Close()
				return nil, &ConfigError{Pos: p.Pos, Msg: fmt.Sprintf("phase %q: bs %s is larger than target %q's range (%s)",
					p.Name, scenarios.FormatSize(p.BS), name, scenarios.FormatSize(t.length))}
			}
		}
	}
	return r, nil
}

// Attach sets where events and snapshots go, for a caller that creates its
// results directory only once NewRunner has accepted the targets.
func (r *Runner) Attach(events EventSink, sinks ...Sink) {
	r.events, r.sinks = events, sinks
}

func prepareTarget(spec scenarios.Target, write bool, opt Options) (*target, error) {
	t := &target{spec: spec}
	if _, err := os.Stat(spec.Path); os.IsNotExist(err) && spec.Size > 0 {
		if err := CreateSparse(spec.Path, spec.Size); err != nil {
			return nil, fmt.Errorf("target %q: %w", spec.Name, err)
		}
		t.created = true
	}
	dev, err := ProbeDevice(spec.Path, opt.Sys)
	if errors.Is(err, ErrNotTarget) {
		return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("target %q: %v", spec.Name, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", spec.Name, err)
	}
	t.dev = dev
	t.ram = RAMBacked(dev, opt.Sys)
	if dev.Kind == KindFile && spec.Size > 0 && dev.Size < spec.Size && !t.created {
		return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("target %q: %s is %s but the scenario asks for size %s; lunbench never grows an existing file: remove it or lower size",
			spec.Name, spec.Path, scenarios.FormatSize(dev.Size), scenarios.FormatSize(spec.Size))}
	}
	t.base = spec.Offset
	t.length = spec.Length
	if t.length == 0 {
		t.length = dev.Size - spec.Offset
	}
	if dev.Kind == KindFile && spec.Size > 0 && spec.Length == 0 {
		t.length = spec.Size - spec.Offset
	}
	if spec.Offset >= dev.Size {
		return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("target %q: offset %s lies at or past the end of %s (size %s)",
			spec.Name, scenarios.FormatSize(spec.Offset), spec.Path, scenarios.FormatSize(dev.Size))}
	}
	if spec.Offset < 0 || t.length <= 0 || spec.Offset+t.length > dev.Size {
		return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("target %q: range offset %d length %d lies outside %s (size %s)",
			spec.Name, spec.Offset, t.length, spec.Path, scenarios.FormatSize(dev.Size))}
	}
	if dev.LogicalBlock > 0 && (t.base%dev.LogicalBlock != 0 || t.length%dev.LogicalBlock != 0) {
		return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("target %q: range offset %d length %d is not a multiple of %s's logical block size %d",
			spec.Name, t.base, t.length, spec.Path, dev.LogicalBlock)}
	}
	if write {
		if err := GuardWrite(dev, opt.Destroy, opt.Sys); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (r *Runner) target(name string) *target {
	for _, t := range r.targets {
		if t.spec.Name == name {
			return t
		}
	}
	return nil
}

// Close closes every target's file and generation map.
func (r *Runner) Close() {
	for _, t := range r.targets {
		if t.fd != nil {
			t.fd.Close()
			t.fd = nil
		}
		if t.vmap != nil {
			if err := t.vmap.Close(); err != nil {
				r.emit(Event{Kind: EvNote, Target: t.spec.Name, Detail: err.Error()})
			}
			t.vmap = nil
		}
	}
	for _, d := range r.tempDirs {
		os.RemoveAll(d)
	}
	r.tempDirs = nil
}

// open makes sure t has a file open in the mode the phase needs: read-only
// for read phases, read-write (exclusive on block devices) for any phase
// that writes.
func (t *target) open(write bool) error {
	if t.fd != nil && (t.write || !write) {
		return nil
	}
	if t.fd != nil {
		t.fd.Close()
		t.fd = nil
	}
	f, err := OpenTarget(t.dev, write)
	if err != nil {
		return fmt.Errorf("target %q: %w", t.spec.Name, err)
	}
	t.fd, t.write = f, write
	return nil
}

// Run drives every phase in order. It returns when the scenario ends, when
// ctx is cancelled (the result is marked interrupted), or on a runtime
// failure. Results of the phases that ran are returned in every case.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	defer r.Close()
	start := r.opt.Now()
	res := &Result{Start: start, Seed: r.sc.Seed, RunID: r.runID}
	syncCtx, stopSync := context.WithCancel(context.Background())
	synced := make(chan struct{})
	go r.syncMaps(syncCtx, synced)
	defer func() { stopSync(); <-synced }()
	for _, t := range r.targets {
		res.Targets = append(res.Targets, TargetResult{Name: t.spec.Name, Device: t.dev, Created: t.created, RAMBacked: t.ram})
	}
	// Generation maps go in the results directory, which the caller may
	// create only after NewRunner: made here, before any I/O.
	if err := r.setupVerify(); err != nil {
		res.End = r.opt.Now()
		return res, err
	}
	r.emit(Event{Kind: EvRunStart, Detail: fmt.Sprintf("scenario %s, seed %d", r.sc.Name, r.sc.Seed)})
	var err error
	for i := range r.sc.Phases {
		if ctx.Err() != nil {
			break
		}
		if g := r.opt.PhaseGate; g != nil {
			if err = g(ctx, i, r.sc.Phases[i].Name); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				break
			}
		}
		if !r.curveRate(i, res) {
			continue
		}
		res.PhasesRun++
		var po phaseOut
		po, err = r.runPhase(ctx, i, start)
		res.Phases = append(res.Phases, po.results...)
		res.Stalls = append(res.Stalls, po.stalls...)
		res.Drills = append(res.Drills, po.drills...)
		res.Verify = append(res.Verify, po.verify...)
		if po.steady != nil {
			res.Steady = append(res.Steady, *po.steady)
		}
		if err != nil {
			break
		}
	}
	res.End = r.opt.Now()
	if ctx.Err() != nil {
		res.Interrupted = true
		r.emit(Event{Kind: EvInterrupted, Detail: "run interrupted; partial results written"})
	}
	r.emit(Event{Kind: EvRunEnd})
	return res, err
}

func (r *Runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = r.opt.Now()
	}
	if r.events != nil {
		r.events.Event(e)
	}
}
