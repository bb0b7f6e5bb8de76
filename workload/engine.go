package workload

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ncw/directio"
	"golang.org/x/sys/unix"

	"lunbench/scenarios"
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

// worker is one stream of I/O against one target: qd workers per target
// keep qd I/Os outstanding. Each owns its buffer, its PRNG, its offset
// generator and its recorder.
type worker struct {
	fd      int
	buf     []byte
	bs      int64
	rw      scenarios.RW
	readPct uint32
	rng     *rand.Rand
	offs    Offsets
	pacer   *Pacer
	rec     *Recorder
	clock   Clock
	budget  int64 // bytes left to transfer while measuring; <0 = unbounded
	// sizes pick each op's block size (nil: every I/O is bs); seqMix is
	// the sequential walk of a mix, which advances by each I/O's size.
	sizes  *[NumOps]*sizePicker
	seqMix *SeqOffsets
	// payload shapes what writes carry (compress, dedupe).
	payload payloadShape
	// think is the pause after each completion (closed loop), ns.
	think   int64
	tag     uint64
	stopOnE bool

	stop      *atomic.Bool
	measuring *atomic.Bool
	stall     *stallFlag
	// ro brings the target back when its device node vanishes; fdGen is
	// the reopen generation fd belongs to.
	ro    *reopener
	fdGen uint64
	// gate parks the worker while a verify pass reads the target.
	gate *gate

	// forget is the target's generation map in a phase that writes
	// without verify: the blocks it overwrites are marked unknown, so no
	// pass takes lunbench's own unstamped data for corruption.
	forget *verify.Map
	// Verification (phases with verify: true): the target's map, its unit,
	// the generations of the block being written, and what reads found.
	vmap    *verify.Map
	unit    int64
	runID   uint64
	gens    []uint32
	vfind   *inlineFindings
	target  string
	checked uint64 // units checked by reads
	// lastDone is the clock time of the worker's last completion.
	lastDone int64
	// errRun counts consecutive failed I/Os (see backoff).
	errRun int
}

func (w *worker) run(start <-chan struct{}, done func()) {
	defer done()
	defer w.gate.alive.Add(-1)
	<-start
	w.lastDone = w.clock.Now()
	for !w.stop.Load() {
		if w.budget == 0 {
			return
		}
		if w.gate.closed.Load() {
			w.gate.wait(w.stop)
			continue
		}
		op := Read
		switch {
		case !w.rw.Reads():
			op = Write
		case w.rw.Writes():
			if w.rng.Uint32N(100) >= w.readPct {
				op = Write
			}
		}
		si := 0
		if w.sizes != nil {
			si, w.bs = w.sizes[op].pick(w.rng)
		}
		var off int64
		if w.seqMix != nil {
			off = w.seqMix.NextN(w.bs)
		} else {
			off = w.offs.Next()
		}
		// Clock reads are the costliest part of issuing an I/O on hosts
		// without a vDSO clock (about 0.5 µs each on some VMs): closed
		// loop reads the clock twice per I/O, open loop three times.
		var intended, skipped int64
		if w.pacer != nil {
			now := w.clock.Now()
			intended, skipped = w.pacer.Next(now)
			if d := intended - now; d > 0 && !w.pause(d) {
				return
			}
		}
		if op == Write {
			if w.vmap != nil {
				w.stampVerified(off)
			} else {
				w.stampPayload()
				if w.forget != nil {
					w.forget.Forget(off, w.bs)
				}
			}
		}
		t0 := w.clock.Now()
		if w.pacer == nil {
			intended = t0
		}
		w.rec.Issue(t0)
		n, errno := pio(w.fd, w.buf[:w.bs], off, op)
		t1 := w.clock.Now()
		w.lastDone = t1
		if errno != 0 || int64(n) != w.bs {
			w.rec.Fail(IOError{At: time.Duration(t1), Op: op, Offset: off, Errno: errno, Short: errno == 0}, t1)
			w.stall.completed(t1)
			if w.stopOnE {
				w.stop.Store(true)
			}
			if deviceGone(errno) && w.ro != nil {
				fd, gen, ok := w.ro.wait(w.fdGen, t1)
				if !ok {
					return
				}
				w.fd, w.fdGen, w.errRun = fd, gen, 0
				continue
			}
			w.errRun++
			w.backoff(op)
			continue
		}
		w.errRun = 0
		lat := t1 - intended
		if w.vmap != nil {
			if op == Write {
				w.ackVerified(off)
			} else {
				w.checkRead(off)
			}
		}
		w.rec.DoneSize(op, si, n, lat, t1)
		w.stall.completed(t1)
		if skipped > 0 {
			w.rec.Missed(op, skipped, lat+skipped*w.pacer.Period(), w.pacer.Period())
		}
		if w.budget > 0 && w.measuring.Load() {
			w.budget = max(w.budget-w.bs, 0)
		}
		if w.think > 0 && !w.pause(w.think) {
			return
		}
	}
}

// pause sleeps d ns, in steps of at most 50 ms so that a slowly paced or
// thinking worker notices the phase's end (and a verify pass parks it)
// promptly. It returns false when the phase is stopping.
func (w *worker) pause(d int64) bool {
	for d > 0 && !w.stop.Load() {
		step := min(d, int64(50*time.Millisecond))
		time.Sleep(time.Duration(step))
		d -= step
	}
	return !w.stop.Load()
}

// pio issues one positioned read or write, straight to the system call so
// that no wrapper allocates or locks.
func pio(fd int, buf []byte, off int64, op Op) (int, syscall.Errno) {
	trap := uintptr(unix.SYS_PREAD64)
	if op == Write {
		trap = unix.SYS_PWRITE64
	}
	n, _, e := unix.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(off), 0, 0)
	return int(n), e
}

// acc accumulates one target × op across workers for an interval and for
// the phase.
type acc struct {
	iv    opCounts
	phase opCounts
	// Error bookkeeping for the phase.
	errnos map[syscall.Errno]uint64
	logged int
}

func (a *acc) add(c *opCounts, measuring bool) {
	a.iv.merge(c)
	if measuring {
		a.phase.merge(c)
	}
}

// merge adds c's counts and histogram into o.
func (o *opCounts) merge(c *opCounts) {
	o.ops += c.ops
	o.bytes += c.bytes
	o.errors += c.errors
	o.latSum += c.latSum
	o.missed += c.missed
	o.backoffs += c.backoffs
	o.backoffNs += c.backoffNs
	for i, n := range c.sizeOps {
		o.sizeOps[i] += n
	}
	o.latMax = max(o.latMax, c.latMax)
	if c.latMin != 0 && (o.latMin == 0 || c.latMin < o.latMin) {
		o.latMin = c.latMin
	}
	if c.hist != nil && c.hist.TotalCount() > 0 {
		o.hist.Merge(c.hist)
	}
}

// maxErrEvents bounds how many I/O errors per phase × target are written
// as individual events; all are counted.
const maxErrEvents = 20

func summarize(c *opCounts) LatencySummary {
	if c.ops == 0 {
		return LatencySummary{}
	}
	h := c.hist
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtPercentile(p)) }
	s := LatencySummary{
		Count:  c.ops,
		Min:    time.Duration(c.latMin),
		Mean:   time.Duration(c.latSum / c.ops),
		Stddev: time.Duration(h.StdDev()),
		P50:    q(50),
		P90:    q(90),
		P99:    q(99),
		P999:   q(99.9),
		P9999:  q(99.99),
		Max:    time.Duration(c.latMax),
	}
	// Histogram buckets report their upper edge; never above the exact max.
	for _, p := range []*time.Duration{&s.P50, &s.P90, &s.P99, &s.P999, &s.P9999} {
		if *p > s.Max {
			*p = s.Max
		}
	}
	return s
}

// phaseOut is what one phase measured.
type phaseOut struct {
	results []PhaseResult
	stalls  []Stall
	drills  []DrillResult
	verify  []verify.Summary
	steady  *SteadyResult
}

func (r *Runner) runPhase(ctx context.Context, idx int, runStart time.Time) (phaseOut, error) {
	p := r.sc.Phases[idx]
	var tgts []*target
	for _, name := range p.Targets {
		t := r.target(name)
		if err := t.open(p.RW.Writes()); err != nil {
			return phaseOut{}, err
		}
		tgts = append(tgts, t)
	}
	var ops []Op
	if p.RW.Reads() {
		ops = append(ops, Read)
	}
	if p.RW.Writes() {
		ops = append(ops, Write)
	}
	seed := p.Seed
	if seed == 0 {
		seed = r.sc.Seed + uint64(idx)*0x9e3779b97f4a7c15
	}

	// Every worker spends its life in blocking pread/pwrite. A goroutine
	// in a system call keeps its P until sysmon takes it back (after 20 µs
	// to 10 ms), and meanwhile the workers queued on that P issue nothing:
	// on a SAN with 0.5 ms latencies that would quietly lower the queue
	// depth the scenario asked for. One P per worker (plus the aggregator
	// and collectors) lets each I/O be issued as soon as the last completes.
	if want := len(tgts)*p.QD + 2; want > runtime.GOMAXPROCS(0) {
		prev := runtime.GOMAXPROCS(want)
		defer runtime.GOMAXPROCS(prev)
	}
	var stop, measuring atomic.Bool
	measuring.Store(p.Ramp == 0)
	startCh := make(chan struct{})
	var wg sync.WaitGroup
	workers := make([][]*worker, len(tgts))
	var bytesBudget int64 = -1
	if p.Bytes > 0 {
		// Split per worker; the last I/O may overshoot (whole blocks).
		bytesBudget = (p.Bytes + int64(p.QD) - 1) / int64(p.QD)
	}
	sizes := phaseSizes(&p)
	tables := map[int64]*distTable{}
	det := &stallDetector{r: r, phase: p.Name, threshold: int64(r.sc.StallThreshold), targets: tgts,
		workers: workers}
	ros := make([]*reopener, len(tgts))
	gt := &gate{}
	gt.alive.Store(int32(len(tgts) * p.QD))
	for ti, t := range tgts {
		ros[ti] = newReopener(r, t, p.Name, p.RW.Writes(), &stop)
		det.flags = append(det.flags, &stallFlag{})
		for wi := 0; wi < p.QD; wi++ {
			rng := WorkerRNG(seed, idx, ti, wi)
			w := &worker{
				fd: int(t.fd.Fd()), buf: directio.AlignedBlock(int(p.BS)), bs: p.BS,
				rw: p.RW, readPct: uint32(p.ReadPct), rng: rng, rec: NewRecorder(ops...),
				clock: r.clock, budget: bytesBudget, tag: uint64(ti)<<56 | uint64(wi)<<40 | uint64(idx)<<32,
				stopOnE: p.OnError == scenarios.Stop, stop: &stop, measuring: &measuring, stall: det.flags[ti],
				ro: ros[ti], gate: gt, target: t.spec.Name,
			}
			if unverifiedWrites(&p, t) {
				w.forget = t.vmap
			}
			if p.Verify && t.vmap != nil {
				w.vmap, w.unit, w.runID = t.vmap, t.vmap.Header().Unit, r.runID
				w.gens = make([]uint32, p.BS/w.unit)
				w.vfind = &inlineFindings{}
			}
			fillRandom(w.buf, rng)
			w.shapePayload(&p, rng)
			w.think = int64(p.Think)
			// A verified worker draws from its own share of the range,
			// so no two writes to one block are ever in flight together
			// (the device may apply them in either order, and the map
			// could not say which generation is right).
			w.offs = newOffsets(&p, rng, t.base, t.length, wi, w.vmap != nil, tables)
			if sizes != nil {
				w.sizes = sizes
				if so, ok := w.offs.(*SeqOffsets); ok {
					w.seqMix = so
				}
			}
			if p.RateIOPS > 0 {
				period := int64(float64(time.Second) * float64(p.QD) / p.RateIOPS)
				if period < 1 {
					period = 1
				}
				// Stagger workers across one period so the target sees an
				// even rate rather than qd-sized bursts.
				w.pacer = NewPacer(int64(wi)*period/int64(p.QD), period)
				if p.Poisson {
					w.pacer = NewPoissonPacer(int64(wi)*period/int64(p.QD), period, rng)
				}
			}
			if p.RangePasses > 0 {
				// Preconditioning: each worker writes its share of the
				// range that many times over.
				lo, hi := NewSeqOffsets(t.base, t.length, p.BS, wi, p.QD).Span()
				w.budget = int64(p.RangePasses) * (hi - lo)
			}
			workers[ti] = append(workers[ti], w)
			wg.Add(1)
			go w.run(startCh, wg.Done)
		}
	}
	accs := make([][NumOps]*acc, len(tgts))
	for ti := range tgts {
		for _, op := range ops {
			accs[ti][op] = &acc{
				iv:     opCounts{hist: NewHistogram()},
				phase:  opCounts{hist: NewHistogram()},
				errnos: map[syscall.Errno]uint64{},
			}
		}
	}
	backoffNoted := make([]bool, len(tgts))
	tl := &timeline{ticks: make([][]tickSample, len(tgts)), errs: make([][]errTick, len(tgts))}
	keepTimeline := len(p.Drills) > 0
	sliceAcc := make([][NumOps]opCounts, len(tgts))
	for ti := range tgts {
		for _, op := range ops {
			sliceAcc[ti][op].hist = NewHistogram()
		}
	}

	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	// Start the clock of the phase: workers rebase pacers on it.
	phaseStart := r.clock.Now()
	for _, ws := range workers {
		for _, w := range ws {
			if w.pacer != nil {
				w.pacer.next += phaseStart
			}
		}
	}
	phaseWall := r.clock.Time(phaseStart)
	r.emit(Event{Time: phaseWall, Kind: EvPhaseStart, Phase: p.Name,
		Detail: fmt.Sprintf("%s bs=%s qd=%d", p.RW, describeSizes(&p), p.QD)})
	r.noteUnverified(&p, tgts, phaseWall)
	close(startCh)
	drills := r.newDrillRun(&p, idx, phaseStart, phaseFlow{det: det, gate: gt})
	detDone := make(chan struct{})
	detStopped := make(chan struct{})
	go func() {
		defer close(detStopped)
		every := min(max(r.sc.StallThreshold/10, 5*time.Millisecond), 50*time.Millisecond)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-detDone:
				return
			case <-tk.C:
				det.poll(r.clock.Now(), phaseStart)
			}
		}
	}()

	rampEnd := phaseStart + int64(p.Ramp)
	end := int64(math.MaxInt64)
	if p.Duration > 0 {
		end = rampEnd + int64(p.Duration)
	}
	ivLen := int64(r.sc.Interval)
	tick := int64(r.opt.Tick)
	ivStart := phaseStart
	sliceStart := phaseStart
	measStart := rampEnd
	var endReason string
	sw := newSteadyWatch(p.Name, p.Steady, r.sc.Interval)

	collect := func(now int64, closeInterval bool, ramp bool) {
		snap := &Snapshot{
			Time: r.clock.Time(now), Elapsed: r.clock.Time(now).Sub(runStart), Phase: p.Name,
			PhaseIndex: idx, PhaseCount: len(r.sc.Phases), PhaseElapsed: time.Duration(now - phaseStart),
			Ramp: ramp,
		}
		if p.Duration > 0 {
			snap.PhaseLength = p.Ramp + p.Duration
		}
		for ti, t := range tgts {
			inflight := 0
			for _, w := range workers[ti] {
				w.rec.swap(func(s *slice) {
					for _, op := range ops {
						c := &s.op[op]
						accs[ti][op].add(c, !ramp)
						sliceAcc[ti][op].merge(c)
					}
					r.takeErrors(s, p.Name, t, accs[ti])
					r.noteBackoff(s, now, p.Name, t, &backoffNoted[ti])
					if keepTimeline {
						for _, ec := range s.errnos {
							if ec.n > 0 {
								tl.errs[ti] = append(tl.errs[ti], errTick{at: now, errno: errnoName(ec.errno), n: ec.n})
							}
						}
					}
				})
				if w.rec.InFlightSince() != 0 {
					inflight++
				}
			}
			// Ongoing stalls are the detector's: one definition, exact start.
			if st, ok := det.ongoing(ti); ok {
				st.For = time.Duration(now - st.since)
				st.Since = r.clock.Time(st.since)
				snap.Stalls = append(snap.Stalls, st.StallState)
			}
			if keepTimeline {
				tk := tickSample{start: sliceStart, end: now}
				for _, op := range ops {
					tk.bytes += sliceAcc[ti][op].bytes
					tk.latMax = max(tk.latMax, sliceAcc[ti][op].latMax)
				}
				tl.ticks[ti] = append(tl.ticks[ti], tk)
			}
			for _, op := range ops {
				sa := &sliceAcc[ti][op]
				snap.Slices = append(snap.Slices, Interval{
					Start: r.clock.Time(sliceStart), End: r.clock.Time(now), Phase: p.Name, Target: t.spec.Name,
					Op: op, Ops: sa.ops, Bytes: sa.bytes, Errors: sa.errors, InFlight: inflight, Ramp: ramp,
					Lat: summarize(sa),
				})
				h := sa.hist
				h.Reset()
				*sa = opCounts{hist: h}
				if closeInterval {
					a := accs[ti][op]
					a.iv.hist.SetStartTimeMs(r.clock.Time(ivStart).UnixMilli())
					a.iv.hist.SetEndTimeMs(r.clock.Time(now).UnixMilli())
					snap.Intervals = append(snap.Intervals, Interval{
						Start: r.clock.Time(ivStart), End: r.clock.Time(now), Phase: p.Name, Target: t.spec.Name,
						Op: op, Ops: a.iv.ops, Bytes: a.iv.bytes, Errors: a.iv.errors, InFlight: inflight,
						Ramp: ramp, Lat: summarize(&a.iv), Missed: a.iv.missed, Hist: a.iv.hist,
					})
				}
			}
		}
		sliceStart = now
		if closeInterval && !ramp {
			sw.add(snap.Intervals)
		}
		for _, s := range r.sinks {
			s.Add(snap)
		}
		if closeInterval {
			ivStart = now
			for ti := range tgts {
				for _, op := range ops {
					a := accs[ti][op]
					h := a.iv.hist
					h.Reset()
					a.iv = opCounts{hist: h}
				}
			}
		}
	}

	// Verify passes after drills, and the time they held the workers.
	type verifyReq struct {
		drill     string
		notBefore int64
	}
	var pendingVerify []verifyReq
	var verifies []verify.Summary
	var pausedFor int64
	timer := time.NewTimer(0)
	<-timer.C
	nextTick := phaseStart + tick
	nextIv := phaseStart + ivLen
	if p.Ramp > 0 && rampEnd < nextIv {
		nextIv = rampEnd
	}
loop:
	for {
		wake := min(nextTick, nextIv, end)
		if p.Ramp > 0 && !measuring.Load() {
			wake = min(wake, rampEnd)
		}
		timer.Reset(time.Duration(wake - r.clock.Now()))
		select {
		case <-ctx.Done():
			endReason = "interrupted"
			break loop
		case <-allDone:
			endReason = "done"
			break loop
		case <-timer.C:
		}
		now := r.clock.Now()
		if now >= end {
			endReason = "duration"
			break
		}
		ramp := !measuring.Load()
		closeIv := now >= nextIv
		if ramp && now >= rampEnd {
			// The ramp's last interval ends exactly where measurement begins.
			closeIv = true
		}
		if now >= nextTick || closeIv {
			collect(now, closeIv, ramp)
			for nextTick <= now {
				nextTick += tick
			}
			if closeIv {
				nextIv = now + ivLen
				if ramp && now >= rampEnd {
					measuring.Store(true)
					measStart = now
				} else if !measuring.Load() && rampEnd < nextIv {
					nextIv = rampEnd
				}
			}
		}
		if sw.settled() {
			endReason = "steady"
			break
		}
		if drills != nil && drills.verifyCh != nil {
			// A drill has recovered: once I/O flows again, pause the
			// workers and read back every written block before later
			// writes can overwrite (and so hide) what the fault lost.
			for more := true; more; {
				select {
				case name := <-drills.verifyCh:
					pendingVerify = append(pendingVerify, verifyReq{drill: name,
						notBefore: now + int64(r.sc.StallThreshold) + int64(time.Second)})
				default:
					more = false
				}
			}
			// Nor while I/O still fails: a pass over a LUN whose paths are
			// still down would read every block as unreadable.
			quiet := r.sc.StallThreshold + time.Second
			if len(pendingVerify) > 0 && now >= pendingVerify[0].notBefore && !det.anyOngoing() && !det.failedWithin(now, quiet) {
				req := pendingVerify[0]
				pendingVerify = pendingVerify[1:]
				collect(now, false, ramp)
				p0 := r.clock.Now()
				if gt.hold(30*time.Second, ctx.Done()) {
					verifies = append(verifies, r.verifyPass(ctx, &p, tgts, "drill "+req.drill)...)
				} else {
					r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("verify after drill %s skipped: I/O in flight did not complete within 30s", req.drill)})
				}
				gt.closed.Store(false)
				drills.verifying.Add(-1)
				d := r.clock.Now() - p0
				pausedFor += d
				end += d
				nextIv += d
				sliceStart = r.clock.Now()
				nextTick = sliceStart + tick
			}
		}
		if stop.Load() {
			endReason = "stopped on error"
			break
		}
	}
	timer.Stop()
	stop.Store(true)
	sw.freeze()
	if drills != nil {
		// Before the drain: a pending recovery releases I/O that a fault
		// still holds.
		drills.finish()
	}
	drained := true
	drain := r.opt.Drain
	if ctx.Err() != nil {
		// A person asked to stop: answer within a second, even when a
		// hung device holds I/O that may never complete.
		drain = min(drain, stopDrain)
	}
	select {
	case <-allDone:
	case <-time.After(drain):
		drained = false
	}
	now := r.clock.Now()
	for _, ro := range ros {
		ro.close()
	}
	close(detDone)
	<-detStopped
	det.close(now)
	collect(now, true, !measuring.Load())
	if !drained {
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: fmt.Sprintf("in-flight I/O did not finish within %s of the stop; results exclude it", drain)})
	}
	// I/Os that completed while draining are counted, so the measured time
	// runs to the drain's end; a drain cut short by a hung device is not
	// charged beyond the phase's planned end.
	measEnd := now
	if !drained {
		measEnd = min(now, end)
	}
	measStart = min(measStart, measEnd)
	secs := float64(max(measEnd-measStart-pausedFor, 0)) / float64(time.Second)
	var out []PhaseResult
	for ti, t := range tgts {
		for _, op := range ops {
			a := accs[ti][op]
			pr := PhaseResult{
				Phase: p.Name, Target: t.spec.Name, Op: op,
				Start: r.clock.Time(measStart), End: r.clock.Time(measEnd),
				Seconds: secs, Ops: a.phase.ops, Bytes: a.phase.bytes, Errors: a.phase.errors, Missed: a.phase.missed,
				Backoffs: a.phase.backoffs, BackoffTime: time.Duration(a.phase.backoffNs),
				Lat: summarize(&a.phase), Hist: a.phase.hist,
			}
			if len(a.errnos) > 0 {
				pr.Errnos = map[string]uint64{}
				for e, n := range a.errnos {
					pr.Errnos[errnoName(e)] += n
				}
			}
			if secs > 0 {
				pr.IOPS = float64(pr.Ops) / secs
				pr.BytesPerSec = float64(pr.Bytes) / secs
				pr.MBps = pr.BytesPerSec / (1 << 20)
			}
			pr.Sizes = sizeResults(&p, op, &a.phase, secs)
			pr.Sub, pr.RateIOPS = p.Sub, p.RateIOPS
			out = append(out, pr)
		}
	}
	if drained {
		// (Workers still stuck in an I/O own their tallies.)
		verifies = append(verifies, inlineSummary(&p, tgts, workers)...)
	}
	switch {
	case !p.Verify:
	case ctx.Err() != nil || !drained:
		r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: "verify pass at the phase end skipped (run stopped, or I/O still in flight); check the device with: lunbench verify RUNDIR"})
	default:
		verifies = append(verifies, r.verifyPass(ctx, &p, tgts, "phase end")...)
	}
	po := phaseOut{results: out, stalls: det.stalls, verify: verifies, steady: sw.result()}
	if drills != nil {
		po.drills = drills.measure(tl, tgts, ros, det.stalls, now, tick)
	}
	r.emit(Event{Kind: EvPhaseEnd, Phase: p.Name, Detail: endReason})
	return po, nil
}

// takeErrors moves a worker slice's error details into the phase's
// bookkeeping and the event stream.
func (r *Runner) takeErrors(s *slice, phase string, t *target, accs [NumOps]*acc) {
	for _, ec := range s.errnos {
		if ec.n > 0 && accs[ec.op] != nil {
			accs[ec.op].errnos[ec.errno] += ec.n
		}
	}
	for i := 0; i < s.nErrLog; i++ {
		e := s.errLog[i]
		a := accs[e.Op]
		if a == nil || a.logged >= maxErrEvents {
			continue
		}
		a.logged++
		detail := fmt.Sprintf("%s failed at offset %d: %s", e.Op, e.Offset, errnoText(e))
		if a.logged == maxErrEvents {
			detail += fmt.Sprintf(" (further errors on %s in this phase are counted, not logged)", t.spec.Name)
		}
		r.emit(Event{Time: r.clock.Time(int64(e.At)), Kind: EvIOError, Phase: phase, Target: t.spec.Name,
			Offset: e.Offset, Errno: errnoText(e), Detail: detail})
	}
}

func errnoText(e IOError) string {
	if e.Short {
		return "short transfer"
	}
	return errnoName(e.Errno)
}

// errnoName returns the symbolic name of an errno (EIO), falling back to its
// number.
func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "short transfer"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// fillRandom fills b with pseudo-random bytes from rng.
func fillRandom(b []byte, rng *rand.Rand) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
}
