package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lunbench/scenarios"
)

// drillRun injects one phase's drills while its load runs. Each drill has
// a goroutine that waits for its moment (a time into the phase, another
// drill's recovery, or the operator's mark), runs the inject command, waits
// for the recover time and runs the recover command. Commands never block
// the I/O path and a failing or hanging one is recorded, not fatal.
type drillRun struct {
	r          *Runner
	phase      string
	phaseIdx   int
	phaseStart int64
	cmds       CommandRunner
	dir        string // where command output goes ("" = nowhere)
	// flow says whether I/O flows: a drill chained with after: waits for
	// it, so that the earlier fault's stall is over before its own.
	flow ioFlow

	ctx    context.Context // cancelled when the phase ends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the states' results
	states []*drillState
	// verifyCh carries the names of recovered drills to the phase loop,
	// which runs a verify pass (phases with verify: true; nil otherwise).
	verifyCh chan string
	// verifying counts the verify passes asked for and not yet done: a
	// chained drill is not injected before them (its fault would freeze
	// the pass, and the pass must read what the earlier fault left).
	verifying atomic.Int32
}

type drillState struct {
	d      scenarios.Drill
	res    DrillResult
	inject int64 // clock ns of the fault's moment, 0 = not injected
	// mark receives the operator's mark (manual drills).
	mark chan int64
	// done is closed when the drill has recovered (its recover command
	// finished, or its inject when it has none): drills declared
	// "after" it start then.
	done chan struct{}
	// recoverEnd is when the drill's last command finished.
	recoverEnd int64
}

// newDrillRun starts the drills of phase p. It returns nil when p has none.
func (r *Runner) newDrillRun(p *scenarios.Phase, idx int, phaseStart int64, flow ioFlow) *drillRun {
	if len(p.Drills) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	dr := &drillRun{r: r, phase: p.Name, phaseIdx: idx, phaseStart: phaseStart, cmds: r.opt.Commands,
		ctx: ctx, cancel: cancel, flow: flow}
	if r.opt.Results != "" {
		dr.dir = filepath.Join(r.opt.Results, "drills")
	}
	if p.Verify {
		dr.verifyCh = make(chan string, len(p.Drills))
	}
	for _, d := range p.Drills {
		dr.states = append(dr.states, &drillState{d: d, done: make(chan struct{}), mark: make(chan int64, 1),
			res: DrillResult{Phase: p.Name, Name: d.Name, Manual: d.Manual}})
	}
	for _, s := range dr.states {
		dr.wg.Add(1)
		go dr.drive(s)
	}
	// Marks from the operator go to the manual drills in the order the
	// scenario declares them; a mark with none waiting is just an event.
	dr.wg.Add(1)
	go func() {
		defer dr.wg.Done()
		var manual []*drillState
		for _, s := range dr.states {
			if s.d.Manual {
				manual = append(manual, s)
			}
		}
		for _, s := range manual {
			select {
			case <-ctx.Done():
				return
			case at := <-r.marks:
				s.mark <- at // buffered: never blocks
			}
		}
	}()
	return dr
}

func (dr *drillRun) byName(name string) *drillState {
	for _, s := range dr.states {
		if s.d.Name == name {
			return s
		}
	}
	return nil
}

// drive is one drill's life.
func (dr *drillRun) drive(s *drillState) {
	defer dr.wg.Done()
	defer close(s.done)
	clock := dr.r.clock
	var at int64
	switch {
	case s.d.Manual:
		select {
		case at = <-s.mark:
		case <-dr.ctx.Done():
			return
		}
	case s.d.After != "":
		prev := dr.byName(s.d.After)
		select {
		case <-prev.done:
		case <-dr.ctx.Done():
			return
		}
		if dr.ctx.Err() != nil {
			return
		}
		// The earlier fault is undone, but its stall may not be over:
		// wait until I/O has flowed again for the settle time.
		var ok bool
		if at, ok = dr.waitFlow(prev.recoverEnd, s.d.Settle); !ok {
			dr.r.emit(Event{Kind: EvNote, Phase: dr.phase, Path: s.d.Name,
				Detail: fmt.Sprintf("drill %s not injected: after drill %s recovered, I/O did not flow again for %s before the phase ended",
					s.d.Name, s.d.After, s.d.Settle)})
			return
		}
	default:
		if !sleepUntil(dr.ctx, clock, dr.phaseStart+int64(s.d.At)) {
			return
		}
		at = clock.Now()
	}
	dr.mu.Lock()
	s.inject = at
	s.res.Injected = true
	s.res.InjectAt = clock.Time(at)
	dr.mu.Unlock()
	how := "marked by the operator"
	if s.d.Inject != "" {
		how = s.d.InjectSource
	}
	dr.r.emit(Event{Time: clock.Time(at), Kind: EvDrillInject, Phase: dr.phase, Path: s.d.Name,
		Detail: fmt.Sprintf("drill %s: %s", s.d.Name, how)})
	if s.d.Inject != "" {
		res := dr.run(dr.ctx, s, "inject", s.d.Inject, s.d.InjectSource)
		dr.mu.Lock()
		s.res.Inject = &res
		dr.mu.Unlock()
		if !res.OK() {
			dr.r.emit(Event{Kind: EvNote, Phase: dr.phase, Path: s.d.Name,
				Detail: fmt.Sprintf("drill %s: inject command %s (output: %s); the run goes on", s.d.Name, res.Describe(), res.Output)})
		}
	}
	if s.d.Recover == nil {
		dr.mu.Lock()
		s.recoverEnd = clock.Now()
		dr.mu.Unlock()
		dr.recovered(s)
		return
	}
	// The fault is undone at its time, or at once when the phase ends
	// first: a frozen path must never outlive the run that froze it.
	sleepUntil(dr.ctx, clock, at+int64(s.d.Recover.At))
	rat := clock.Now()
	dr.r.emit(Event{Time: clock.Time(rat), Kind: EvDrillRecover, Phase: dr.phase, Path: s.d.Name,
		Detail: fmt.Sprintf("drill %s: %s", s.d.Name, s.d.Recover.CommandSource)})
	res := dr.run(context.Background(), s, "recover", s.d.Recover.Command, s.d.Recover.CommandSource)
	dr.mu.Lock()
	s.res.RecoverAt = clock.Time(rat)
	s.res.Recover = &res
	s.recoverEnd = clock.Now()
	dr.mu.Unlock()
	if !res.OK() {
		dr.r.emit(Event{Kind: EvNote, Phase: dr.phase, Path: s.d.Name,
			Detail: fmt.Sprintf("drill %s: recover command %s (output: %s)", s.d.Name, res.Describe(), res.Output)})
	}
	dr.recovered(s)
}

// recovered asks for a verify pass after s's recovery, unless the phase is
// over (its end-of-phase pass covers it).
func (dr *drillRun) recovered(s *drillState) {
	if dr.verifyCh != nil && dr.ctx.Err() == nil {
		dr.verifying.Add(1)
		dr.verifyCh <- s.d.Name // buffered: one slot per drill
	}
}

// run runs one of a drill's commands and records where its output went.
func (dr *drillRun) run(ctx context.Context, s *drillState, what, command, source string) CommandResult {
	out := ""
	if dr.dir != "" {
		out = filepath.Join(dr.dir, fmt.Sprintf("%s.%s.%s.log", fileSafe(dr.phase), fileSafe(s.d.Name), what))
	}
	var res CommandResult
	if sr, ok := dr.cmds.(ShownRunner); ok && source != "" && source != command {
		// ${VAR} was expanded: a secret in it stays out of the command
		// line that ps shows, which carries the command as written.
		res = sr.RunShown(ctx, command, source, s.d.Timeout, out)
	} else {
		res = dr.cmds.Run(ctx, command, s.d.Timeout, out)
	}
	res.Command = source
	if out != "" {
		res.Output = filepath.Join("drills", filepath.Base(out))
	}
	dr.r.emit(Event{Time: res.End, Kind: EvNote, Phase: dr.phase, Path: s.d.Name,
		Detail: fmt.Sprintf("drill %s: %s command %s", s.d.Name, what, res.Describe()), Dur: res.Dur})
	return res
}

// finish ends the phase's drills: drills whose moment has not come are not
// injected, pending recoveries run now, and finish waits for every command.
func (dr *drillRun) finish() {
	dr.cancel()
	dr.wg.Wait()
}

// sleepUntil waits until the clock reaches t; false when ctx ended first.
func sleepUntil(ctx context.Context, c Clock, t int64) bool {
	d := time.Duration(t - c.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fileSafe makes a name usable in a file name.
func fileSafe(s string) string {
	return strings.Trim(regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(s, "_"), "_")
}

// Mark records the operator's manual fault: a drill_mark event, and the
// inject moment of the next manual drill of the running phase.
func (r *Runner) Mark(detail string) {
	now := r.clock.Now()
	r.emit(Event{Time: r.clock.Time(now), Kind: EvDrillMark, Detail: detail})
	select {
	case r.marks <- now:
	default:
		// Nobody is waiting and the queue is full: the event is the record.
	}
}

// tickSample is one aggregator tick of one target: what completed in it.
type tickSample struct {
	start, end int64
	bytes      uint64
	latMax     int64
}

// errTick is errors of one errno seen at one tick.
type errTick struct {
	at    int64
	errno string
	n     uint64
}

// timeline is what a phase's drills are measured from: per target, the
// ticks' throughput and errors.
type timeline struct {
	ticks [][]tickSample
	errs  [][]errTick
}

// rate is the throughput (bytes/s) of the ticks of ts whose middle lies in
// [a, b), and false when there are none.
func rate(ts []tickSample, a, b int64) (float64, bool) {
	var bytes uint64
	var dur int64
	for _, t := range ts {
		if mid := t.start + (t.end-t.start)/2; mid >= a && mid < b {
			bytes += t.bytes
			dur += t.end - t.start
		}
	}
	if dur <= 0 {
		return 0, false
	}
	return float64(bytes) / (float64(dur) / 1e9), true
}

// worstSecond is the lowest throughput over any run of consecutive ticks
// covering at least a second inside [a, b) (the whole span when shorter).
// Time between ticks (a verify pass held the workers) does not count.
func worstSecond(ts []tickSample, a, b int64) float64 {
	var in []tickSample
	for _, t := range ts {
		if t.end > a && t.start < b {
			in = append(in, t)
		}
	}
	if len(in) == 0 {
		return 0
	}
	worst := -1.0
	for i := range in {
		var bytes uint64
		var d int64
		for j := i; j < len(in); j++ {
			bytes += in[j].bytes
			d += in[j].end - in[j].start
			if d >= int64(time.Second) || j == len(in)-1 {
				if d >= int64(time.Second) || i == 0 {
					r := float64(bytes) / (float64(d) / 1e9)
					if worst < 0 || r < worst {
						worst = r
					}
				}
				break
			}
		}
	}
	return max(worst, 0)
}

// measure fills in every drill's per-target timings once the phase is over.
func (dr *drillRun) measure(tl *timeline, tgts []*target, ros []*reopener, stalls []Stall, phaseEnd int64, tickLen int64) []DrillResult {
	clock := dr.r.clock
	// Injected drills in time order: a drill's window ends where the next
	// one's fault begins.
	var order []*drillState
	for _, s := range dr.states {
		if s.inject != 0 {
			order = append(order, s)
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].inject < order[j].inject })
	const around = int64(10 * time.Second)
	threshold := int64(dr.r.sc.StallThreshold)
	byTarget, owners := ownersByTarget(order, tgts, stalls, clock, threshold)
	for i, s := range order {
		limit := phaseEnd
		if i+1 < len(order) {
			limit = order[i+1].inject
		}
		settled := s.inject
		if s.res.Inject != nil {
			settled = max(settled, s.inject+int64(s.res.Inject.Dur))
		}
		settled = max(settled, s.recoverEnd)
		var targets []DrillTarget
		for ti, t := range tgts {
			dt := DrillTarget{Target: t.spec.Name, Resumed: true}
			if end := attribute(&dt, order, i, byTarget[ti], owners[ti], clock, threshold); end != 0 {
				settled = max(settled, end)
			}
			targets = append(targets, dt)
		}
		end := min(limit, settled+around)
		s.res.WindowEnd = clock.Time(end)
		for ti := range targets {
			dt := &targets[ti]
			ts := tl.ticks[ti]
			dt.Before, _ = rate(ts, s.inject-around, s.inject)
			dt.Worst = worstSecond(ts, s.inject, end)
			from := settled
			if dt.Stalled {
				from = int64(dt.FirstAfter.Sub(clock.Time(0)))
			}
			if dt.Resumed {
				dt.After, _ = rate(ts, from, from+around)
			}
			if dt.Before > 0 {
				dt.AfterRatio = dt.After / dt.Before
			}
			dt.DeviceGone = ros[ti].goneIn(s.inject, end)
			for _, t := range ts {
				if t.end > s.inject && t.start < end {
					dt.MaxLatency = max(dt.MaxLatency, time.Duration(t.latMax))
				}
			}
			for _, e := range tl.errs[ti] {
				if e.at > s.inject && e.at <= end+tickLen {
					if dt.Errnos == nil {
						dt.Errnos = map[string]uint64{}
					}
					dt.Errnos[e.errno] += e.n
					dt.Errors += e.n
				}
			}
		}
		s.res.Targets = targets
	}
	var out []DrillResult
	for _, s := range dr.states {
		out = append(out, s.res)
	}
	return out
}
