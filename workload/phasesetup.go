package workload

import (
	"errors"
	"fmt"
	"math"
	"syscall"
	"time"

	"github.com/ncw/directio"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// startWorkers builds qd workers per target and starts their goroutines
// (on io_uring: one per target); they wait on startCh.
func (pr *phaseRun) startWorkers() {
	pr.buildWorkers()
	if pr.p.Engine == scenarios.EngineURing {
		if rings := pr.newRings(); rings != nil {
			pr.rings = true
			for _, rr := range rings {
				pr.wg.Add(1)
				go rr.run(pr.startCh, pr.wg.Done)
			}
			return
		}
	}
	for _, ws := range pr.workers {
		for _, w := range ws {
			pr.wg.Add(1)
			go w.run(pr.startCh, pr.wg.Done)
		}
	}
}

// buildWorkers makes qd workers per target, the stall detector and the
// reopeners.
func (pr *phaseRun) buildWorkers() {
	r, p := pr.r, &pr.p
	seed := p.Seed
	if seed == 0 {
		seed = r.sc.Seed + uint64(pr.idx)*0x9e3779b97f4a7c15
	}
	pr.measuring.Store(p.Ramp == 0)
	pr.deadline.Store(math.MaxInt64) // start sets the planned end
	pr.startCh = make(chan struct{})
	pr.workers = make([][]*worker, len(pr.tgts))
	pr.det = &stallDetector{r: r, phase: p.Name, threshold: int64(r.sc.StallThreshold), targets: pr.tgts,
		workers: pr.workers}
	pr.ros = make([]*reopener, len(pr.tgts))
	pr.gt = &gate{}
	pr.gt.alive.Store(int32(len(pr.tgts) * p.QD))
	sizes := phaseSizes(p)
	tables := newDistTables(seed)
	for ti, t := range pr.tgts {
		pr.ros[ti] = newReopener(r, t, p.Name, p.RW.Writes(), &pr.stop)
		flag := &stallFlag{}
		pr.det.flags = append(pr.det.flags, flag)
		pr.det.passes = append(pr.det.passes, &passWatch{clock: r.clock, flag: flag})
		for wi := 0; wi < p.QD; wi++ {
			pr.workers[ti] = append(pr.workers[ti], pr.newWorker(ti, wi, seed, sizes, tables))
		}
	}
}

// newRings sets up one io_uring per target. When the kernel refuses
// io_uring (ENOSYS: too old or built without it; EPERM: seccomp or the
// kernel.io_uring_disabled sysctl) it says so in an event and on stderr
// and returns nil: the phase runs on the threads engine.
func (pr *phaseRun) newRings() []*ringRunner {
	r, p := pr.r, &pr.p
	var rings []*ringRunner
	for ti, t := range pr.tgts {
		note := func(msg string) {
			r.emit(Event{Kind: EvNote, Phase: p.Name, Target: t.spec.Name, Detail: "io_uring: " + msg})
		}
		rr, err := newRingRunner(r.opt.RingSetup, pr.workers[ti], pr.ros[ti], int(t.fd.Fd()), note)
		if err != nil {
			for _, done := range rings {
				done.ring.Close()
			}
			msg := fmt.Sprintf("engine io_uring unavailable (%v): phase %s runs on the threads engine%s", err, p.Name, uringHint(err))
			r.emit(Event{Kind: EvNote, Phase: p.Name, Detail: msg})
			r.opt.Warn(msg)
			return nil
		}
		rings = append(rings, rr)
	}
	return rings
}

// uringHint says where to look when io_uring setup failed.
func uringHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSYS):
		return " (this kernel has no io_uring)"
	case errors.Is(err, syscall.EPERM):
		return " (refused: check sysctl kernel.io_uring_disabled, or a seccomp profile of the container)"
	case errors.Is(err, syscall.ENOMEM):
		return " (no memory for the rings: check ulimit -l)"
	}
	return ""
}

// newWorker builds worker wi of target ti: its buffer, PRNG, offsets,
// payload shape and pacing.
func (pr *phaseRun) newWorker(ti, wi int, seed uint64, sizes *[NumOps]*sizePicker, tables *distTables) *worker {
	r, p, t := pr.r, &pr.p, pr.tgts[ti]
	var bytesBudget int64 = -1
	if p.Bytes > 0 {
		// Split per worker; the last I/O may overshoot (whole blocks).
		bytesBudget = (p.Bytes + int64(p.QD) - 1) / int64(p.QD)
	}
	rng := WorkerRNG(seed, pr.idx, ti, wi)
	w := &worker{
		fd: int(t.fd.Fd()), buf: directio.AlignedBlock(int(p.BS)), bs: p.BS,
		rw: p.RW, readPct: uint32(p.ReadPct), rng: rng, rec: NewRecorder(pr.ops...),
		clock: r.clock, budget: bytesBudget, tag: uint64(ti)<<56 | uint64(wi)<<40 | uint64(pr.idx)<<32,
		stopOnE: p.OnError == scenarios.Stop, stop: &pr.stop, measuring: &pr.measuring, deadline: &pr.deadline, stall: pr.det.flags[ti],
		ro: pr.ros[ti], gate: pr.gt, target: t.spec.Name,
	}
	if unverifiedWrites(p, t) {
		w.forget = t.vmap
	}
	if p.Verify && t.vmap != nil {
		w.vmap, w.unit = t.vmap, t.vmap.Header().Unit
		w.stamper = verify.NewStamper(r.runID)
		w.checker = verify.NewChecker(r.runID)
		w.gens = make([]uint32, p.BS/w.unit)
		w.vfind = &inlineFindings{}
	}
	fillRandom(w.buf, rng)
	w.shapePayload(p, rng)
	w.think = int64(p.Think)
	if w.think > 0 {
		w.spin.limit = spinLimit(w.think, p.QD)
	}
	// A verified worker draws from its own share of the range, so no two
	// writes to one block are ever in flight together (the device may
	// apply them in either order, and the map could not say which
	// generation is right).
	w.offs = newOffsets(p, rng, t.base, t.length, wi, w.vmap != nil, tables)
	if sizes != nil {
		w.sizes = sizes
		if so, ok := w.offs.(*SeqOffsets); ok {
			w.seqMix = so
		}
	}
	if p.RateIOPS > 0 {
		period := max(int64(float64(time.Second)*float64(p.QD)/p.RateIOPS), 1)
		// Stagger workers across one period so the target sees an even
		// rate rather than qd-sized bursts.
		w.pacer = NewPacer(int64(wi)*period/int64(p.QD), period)
		if p.Poisson {
			w.pacer = NewPoissonPacer(int64(wi)*period/int64(p.QD), period, rng)
		}
		w.spin.limit = spinLimit(period, p.QD)
	}
	if p.RangePasses > 0 {
		// Preconditioning: each worker writes its share of the range that
		// many times over.
		lo, hi := NewSeqOffsets(t.base, t.length, p.BS, wi, p.QD).Span()
		w.budget = int64(p.RangePasses) * (hi - lo)
	}
	return w
}

// newAccumulators makes the per target × op interval, phase and slice
// accumulators the aggregator folds worker slices into.
func (pr *phaseRun) newAccumulators() {
	n := len(pr.tgts)
	pr.accs = make([][NumOps]*acc, n)
	pr.sliceAcc = make([][NumOps]opCounts, n)
	for ti := range pr.tgts {
		for _, op := range pr.ops {
			pr.accs[ti][op] = &acc{
				iv:     opCounts{hist: NewHistogram()},
				phase:  opCounts{hist: NewHistogram()},
				errnos: map[syscall.Errno]uint64{},
			}
			pr.sliceAcc[ti][op].hist = NewHistogram()
		}
	}
	pr.backoffNoted = make([]bool, n)
	pr.tl = &timeline{ticks: make([][]tickSample, n), errs: make([][]errTick, n)}
	pr.keepTimeline = len(pr.p.Drills) > 0
}
