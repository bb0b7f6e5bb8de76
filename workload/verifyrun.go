package workload

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// newRunID returns the id every stamp of this run carries: random, so that
// data a previous run left on the LUN is never mistaken for this run's.
func newRunID() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// setupVerify creates a generation map for every target a phase with
// verify: true touches. The map's unit is the greatest common divisor of
// those phases' block sizes, so every write covers whole units.
func (r *Runner) setupVerify() error {
	units := map[string]int64{}
	for _, p := range r.sc.Phases {
		if !p.Verify {
			continue
		}
		for _, name := range p.Targets {
			units[name] = gcd(units[name], sizeAlign(&p))
		}
	}
	for _, t := range r.targets {
		unit, ok := units[t.spec.Name]
		if !ok {
			continue
		}
		length := t.length / unit * unit
		dir := r.opt.Results
		if dir == "" {
			d, err := os.MkdirTemp("", "lunbench-verify-")
			if err != nil {
				return err
			}
			dir = d
			r.tempDirs = append(r.tempDirs, d)
		}
		path := verify.MapPath(dir, t.spec.Name)
		// A results directory reused with --out: this run replaces the
		// old run's files, its map included.
		if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
			os.Remove(path)
		}
		m, err := verify.CreateMap(path, verify.Header{
			RunID: r.runID, Base: t.base, Length: length, Unit: unit, Target: t.spec.Name,
			Device: t.dev.Path, DeviceSize: t.dev.Size, Created: r.opt.Now(),
		})
		if err != nil {
			return fmt.Errorf("target %q: %w", t.spec.Name, err)
		}
		t.vmap = m
	}
	return nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// syncMaps writes the generation maps to disk every second until ctx ends,
// so that `lunbench verify` can check the device after a host crash with a
// map at most about a second behind.
func (r *Runner) syncMaps(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			for _, t := range r.targets {
				if t.vmap != nil {
					if err := t.vmap.Sync(); err != nil {
						r.emit(Event{Kind: EvNote, Target: t.spec.Name, Detail: err.Error()})
					}
				}
			}
		}
	}
}

// unverifiedWrites reports whether phase p writes target t, which another
// phase verifies, without verify: its writes must mark the blocks they
// overwrite unknown in the map (see verify.Map.Forget).
func unverifiedWrites(p *scenarios.Phase, t *target) bool {
	return !p.Verify && p.RW.Writes() && t.vmap != nil
}

// noteUnverified says at the start of such a phase what it does to the map.
func (r *Runner) noteUnverified(p *scenarios.Phase, tgts []*target, at time.Time) {
	for _, t := range tgts {
		if unverifiedWrites(p, t) {
			r.emit(Event{Time: at, Kind: EvNote, Phase: p.Name, Target: t.spec.Name,
				Detail: fmt.Sprintf("phase %s writes %s without verify: the blocks it writes are marked unknown in the generation map and not checked until a verified phase writes them again", p.Name, t.spec.Name)})
		}
	}
}

// inlineFindings collects what one worker's read-back checks found. It
// is only touched when a check fails, never on the I/O path of a good
// block.
type inlineFindings struct {
	mu       sync.Mutex
	counts   [verify.NumClasses]uint64
	findings []verify.Finding
}

func (f *inlineFindings) add(fd verify.Finding) {
	f.mu.Lock()
	f.counts[fd.Class]++
	if len(f.findings) < 100 {
		f.findings = append(f.findings, fd)
	}
	f.mu.Unlock()
}

// stampVerified stamps the block about to be written at off, unit by unit,
// with each unit's next generation (the map marks them pending). The write
// time stamped is the worker's last completion, which is at most one I/O
// earlier: a clock read costs half a microsecond on some VMs.
func (w *worker) stampVerified(off int64) {
	wt := w.clock.UnixNano(w.lastDone)
	for u, i := int64(0), 0; u < w.bs; u, i = u+w.unit, i+1 {
		g := w.vmap.Begin(off + u)
		w.gens[i] = g
		w.stamper.StampN(w.buf[u:u+w.unit], off+u, g, wt, w.payload.stampRandom)
	}
}

// ackVerified records that the write at off was acknowledged.
func (w *worker) ackVerified(off int64) {
	for u, i := int64(0), 0; u < w.bs; u, i = u+w.unit, i+1 {
		w.vmap.Ack(off+u, w.gens[i])
	}
}

// checkRead checks a block just read at off against the map.
func (w *worker) checkRead(off int64) {
	for u := int64(0); u < w.bs; u += w.unit {
		gen, pending := w.vmap.Expect(off + u)
		if gen == 0 {
			continue
		}
		w.checked++
		if c, detail := w.checker.Check(w.buf[u:u+w.unit], off+u, gen, pending, verify.CheckOptions{}); c != verify.OK {
			w.vfind.add(verify.Finding{Target: w.target, Offset: off + u, Class: c, Detail: detail})
		}
	}
}

// verifyPass reads back every block written to the phase's verified
// targets and classifies them. when says why ("phase end", "drill X").
// watches, when not nil, are the stall detector's watches of the targets
// (one per target of tgts), which hear of every read of the pass.
func (r *Runner) verifyPass(ctx context.Context, p *scenarios.Phase, tgts []*target, when string, watches []*passWatch) []verify.Summary {
	var out []verify.Summary
	for ti, t := range tgts {
		if t.vmap == nil {
			continue
		}
		start := r.clock.Now()
		opts := verify.RunOptions{QD: max(p.QD, 4), Phase: p.Name, When: when}
		if watches != nil {
			watches[ti].begin(start)
			opts.Watch = watches[ti]
		}
		r.emit(Event{Time: r.clock.Time(start), Kind: EvVerify, Phase: p.Name, Target: t.spec.Name,
			Detail: fmt.Sprintf("verify pass (%s): reading back every block written", when)})
		sum, err := verify.Run(ctx, t.fd, t.vmap, opts)
		if watches != nil {
			watches[ti].end()
		}
		sum.Target = t.spec.Name
		if err != nil {
			r.emit(Event{Kind: EvVerify, Phase: p.Name, Target: t.spec.Name, Detail: fmt.Sprintf("verify pass (%s) stopped: %v", when, err)})
		}
		for i, f := range sum.Findings {
			if i == maxErrEvents {
				break
			}
			r.emit(Event{Kind: EvVerify, Phase: p.Name, Target: t.spec.Name, Offset: f.Offset,
				Detail: fmt.Sprintf("%s block at offset %d: %s", f.Class, f.Offset, f.Detail)})
		}
		r.emit(Event{Kind: EvVerify, Phase: p.Name, Target: t.spec.Name, Dur: time.Duration(r.clock.Now() - start),
			Detail: fmt.Sprintf("verify pass (%s): %d blocks, %s", when, sum.Blocks, describeCounts(&sum))})
		out = append(out, sum)
	}
	return out
}

// describeCounts is a pass's counts in one line: "all ok" or "2 lost, 1 torn".
func describeCounts(s *verify.Summary) string {
	if s.Problems() == 0 {
		if s.InDoubt > 0 {
			return fmt.Sprintf("all ok (%d in doubt: their last write was not acknowledged, old or new data accepted)", s.InDoubt)
		}
		return "all ok"
	}
	out := ""
	for c := verify.Class(1); c < verify.NumClasses; c++ {
		if n := s.Counts[c.String()]; n > 0 {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%d %s", n, c)
		}
	}
	return out
}

// inlineSummary turns the workers' read-back findings of a phase into a
// summary per target.
func inlineSummary(p *scenarios.Phase, tgts []*target, workers [][]*worker) []verify.Summary {
	var out []verify.Summary
	for ti, t := range tgts {
		if t.vmap == nil || !p.Verify || !p.RW.Reads() {
			continue
		}
		s := verify.Summary{Target: t.spec.Name, Phase: p.Name, When: "inline (reads of the phase)", Counts: map[string]uint64{}}
		for _, w := range workers[ti] {
			s.Blocks += w.checked
		}
		ok := s.Blocks
		for _, w := range workers[ti] {
			for c, n := range w.vfind.counts {
				if n > 0 {
					s.Counts[verify.Class(c).String()] += n
					ok -= min(ok, n)
				}
			}
			s.Findings = append(s.Findings, w.vfind.findings...)
		}
		s.Counts[verify.OK.String()] = ok
		out = append(out, s)
	}
	return out
}

// gate parks a phase's workers between I/Os while a verify pass runs.
type gate struct {
	closed atomic.Bool
	parked atomic.Int32
	alive  atomic.Int32 // workers still running
}

// hold closes the gate and waits until every running worker is parked
// (false after timeout: a worker is stuck in an I/O; or when the run is
// stopped, which must not wait out the timeout).
func (g *gate) hold(timeout time.Duration, stopped <-chan struct{}) bool {
	g.closed.Store(true)
	deadline := time.Now().Add(timeout)
	for g.parked.Load() < g.alive.Load() {
		select {
		case <-stopped:
			return false
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// wait parks the calling worker while the gate is closed.
func (g *gate) wait(stop *atomic.Bool) {
	g.parked.Add(1)
	for g.closed.Load() && !stop.Load() {
		time.Sleep(time.Millisecond)
	}
	g.parked.Add(-1)
}
