package report

import (
	"bufio"
	"flag"
	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lunbench/collect"
	"lunbench/workload"
)

// synthDir, when set, makes TestWriteSynthetic24h leave a synthetic 24 h
// run there, for timing the real binary:
//
//	go test ./report/ -run TestWriteSynthetic24h -synth /tmp/soak24h
//	/usr/bin/time -v bin/lunbench report /tmp/soak24h
var synthDir = flag.String("synth", "", "write a synthetic 24 h results directory here (TestWriteSynthetic24h)")

// synthRun describes a synthetic results directory. It is written through
// the same writers a run uses (Dir for run.json, intervals.csv and
// events.jsonl; collect.DiskStatsCSV for diskstats.csv), so its layout is
// exactly a real run's.
type synthRun struct {
	Scenario string
	Start    time.Time
	// Phases run one after the other, each Seconds long at 1 s intervals,
	// on every target, with a read and a write op.
	Phases  []string
	Seconds int
	Targets []string
	// MiBs is each op's throughput and P50/P99/P999 its latency before
	// the factors below.
	MiBs           float64
	BS             float64
	P50, P99, P999 time.Duration
	// TputFactor scales throughput and IOPS, LatFactor the latencies:
	// 0.8 and 1.2 plant a 20% regression.
	TputFactor, LatFactor float64
	// Noise is the relative amplitude of the per-interval jitter.
	Noise float64
	Seed  uint64
	// Paths is how many multipath paths the first target's map has in
	// diskstats.csv (0: no diskstats.csv).
	Paths int
	// StallEvery puts a 2 s stall on the first target every so many
	// seconds (0: none), StallLen long.
	StallEvery int
	StallLen   time.Duration
	// Hists writes each interval's latency histogram to hist/*.hlog, as a
	// run does (a handful of values around P50 and P99).
	Hists bool
	// Killed leaves run.json as a killed run does: status running, no
	// phase results, no stalls.
	Killed bool
}

func (s synthRun) write(t testing.TB, dir string) {
	t.Helper()
	if err := s.writeDir(dir); err != nil {
		t.Fatal(err)
	}
}

func (s synthRun) writeDir(dir string) error {
	if s.TputFactor == 0 {
		s.TputFactor = 1
	}
	if s.LatFactor == 0 {
		s.LatFactor = 1
	}
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	jit := func() float64 { return 1 + s.Noise*(2*rng.Float64()-1) }
	d, err := CreateDir(dir)
	if err != nil {
		return err
	}
	// Writes are slower than reads, so the two never draw on top of each other.
	opLat := func(op workload.Op, v time.Duration) time.Duration {
		if op == workload.Write {
			v = v * 3 / 2
		}
		return time.Duration(float64(v) * s.LatFactor)
	}
	run := &RunJSON{Lunbench: Version, Scenario: s.Scenario, Source: "synthetic", Status: "finished", Verdict: "pass",
		Host:  Host{Hostname: "synthhost", Kernel: "6.1.0", OS: "linux", Arch: "amd64", CPUs: 2, GoVer: "go1.26"},
		Start: s.Start, Seed: s.Seed, IntervalSec: 1}
	for _, tg := range s.Targets {
		run.Targets = append(run.Targets, workload.TargetResult{Name: tg, Device: workload.Device{Path: "/dev/mapper/" + tg, Kind: workload.KindBlock}})
	}
	var disk *collect.DiskStatsCSV
	var diskBuf *bufio.Writer
	if s.Paths > 0 {
		f, err := os.Create(filepath.Join(dir, "diskstats.csv"))
		if err != nil {
			return err
		}
		defer f.Close()
		diskBuf = bufio.NewWriterSize(f, 256<<10)
		disk = collect.NewDiskStatsCSV(diskBuf)
	}
	ops := []workload.Op{workload.Read, workload.Write}
	now := s.Start
	for _, ph := range s.Phases {
		d.Event(workload.Event{Time: now, Kind: workload.EvPhaseStart, Phase: ph})
		type acc struct {
			ops, bytes uint64
			hist       *hdr.Histogram // the phase's, as the engine keeps it
		}
		sums := map[[2]int]*acc{}
		phStart := now
		for i := 0; i < s.Seconds; i++ {
			t0, t1 := now, now.Add(time.Second)
			// Time (the writer's fsync clock) stays at the start: a real run
			// syncs every 10 s, which would make writing 24 h take a minute.
			snap := &workload.Snapshot{Time: s.Start, Elapsed: t1.Sub(s.Start), Phase: ph}
			stalled := s.StallEvery > 0 && i%s.StallEvery == s.StallEvery/2
			var mapKBs float64
			for ti, tg := range s.Targets {
				for oi, op := range ops {
					mibs := s.MiBs * s.TputFactor * jit()
					if op == workload.Write {
						mibs *= 0.6
					}
					lat := func(v time.Duration) time.Duration { return opLat(op, v) }
					if stalled && ti == 0 {
						mibs = 0
					}
					n := uint64(mibs * (1 << 20) / s.BS)
					iv := workload.Interval{Start: t0, End: t1, Phase: ph, Target: tg, Op: op, Ops: n, Bytes: n * uint64(s.BS), InFlight: 16,
						Lat: workload.LatencySummary{Count: n, Min: lat(s.P50) / 4, Mean: lat(s.P50) * 6 / 5, P50: lat(s.P50),
							P90: lat(s.P99) / 2, P99: lat(s.P99), P999: lat(s.P999), Max: 2 * lat(s.P999)}}
					if s.Hists && n > 0 {
						h := workload.NewHistogram()
						h.RecordValues(int64(lat(s.P50)), int64(n)*9/10)
						h.RecordValues(int64(lat(s.P99)), int64(n)/10)
						h.RecordValue(int64(lat(s.P999)))
						iv.Hist = h
					}
					snap.Intervals = append(snap.Intervals, iv)
					k := [2]int{ti, oi}
					if sums[k] == nil {
						sums[k] = &acc{}
					}
					sums[k].ops += iv.Ops
					sums[k].bytes += iv.Bytes
					if iv.Hist != nil {
						if sums[k].hist == nil {
							sums[k].hist = workload.NewHistogram()
						}
						sums[k].hist.Merge(iv.Hist)
					}
					if ti == 0 {
						mapKBs += mibs * 1024
					}
				}
			}
			d.Add(snap)
			if stalled {
				st := workload.Stall{Phase: ph, Target: s.Targets[0], Start: t0, End: t0.Add(s.StallLen), Dur: s.StallLen, InFlight: 16}
				run.Stalls = append(run.Stalls, st)
				d.Event(workload.Event{Time: st.End, Kind: workload.EvStallEnd, Phase: ph, Target: st.Target, Dur: st.Dur})
			}
			if disk != nil {
				stats := []collect.DiskStat{{Time: t1, Target: s.Targets[0], Device: "dm-0", Role: collect.RoleLUN, Interval: time.Second, Counters: 17,
					RkBPS: mapKBs / 2, WkBPS: mapKBs / 2, RAwait: 0.5, WAwait: 0.8, AquSz: 12, Util: min(100, 92*jit()), InFlight: 16}}
				for p := 0; p < s.Paths; p++ {
					stats = append(stats, collect.DiskStat{Time: t1, Target: s.Targets[0], Device: "sd" + string(rune('b'+p)), Role: collect.RolePath,
						Interval: time.Second, Counters: 17, RkBPS: mapKBs / 2 / float64(s.Paths), WkBPS: mapKBs / 2 / float64(s.Paths),
						RAwait: 0.5, WAwait: 0.8, AquSz: 3, Util: 60, InFlight: 4})
				}
				if err := disk.Write(stats); err != nil {
					return err
				}
			}
			now = t1
		}
		d.Event(workload.Event{Time: now, Kind: workload.EvPhaseEnd, Phase: ph})
		secs := now.Sub(phStart).Seconds()
		for ti, tg := range s.Targets {
			for oi, op := range ops {
				a := sums[[2]int{ti, oi}]
				lat := func(v time.Duration) time.Duration { return opLat(op, v) }
				run.Phases = append(run.Phases, workload.PhaseResult{Phase: ph, Target: tg, Op: op, Start: phStart, End: now, Seconds: secs,
					Ops: a.ops, Bytes: a.bytes, IOPS: float64(a.ops) / secs, BytesPerSec: float64(a.bytes) / secs, MBps: float64(a.bytes) / secs / (1 << 20),
					Lat: workload.LatencySummary{Count: a.ops, Min: lat(s.P50) / 4, Mean: lat(s.P50) * 6 / 5, P50: lat(s.P50), P90: lat(s.P99) / 2,
						P99: lat(s.P99), P999: lat(s.P999), P9999: 3 * lat(s.P999) / 2, Max: 2 * lat(s.P999)}, Hist: a.hist})
			}
		}
	}
	run.End = now
	if s.Killed {
		run.Status, run.Verdict, run.End, run.Phases, run.Stalls = "running", "", time.Time{}, nil, nil
	}
	if disk != nil {
		if err := disk.Flush(); err != nil {
			return err
		}
		if err := diskBuf.Flush(); err != nil {
			return err
		}
	}
	// As `lunbench run` does at the end of a run that was not killed.
	if err := d.WritePhaseHists(run.Phases); err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	return d.WriteRun(run)
}

// soak24h is the benchmark's run: 86,400 intervals at 1 s × 2 ops × 2
// targets, diskstats for one map and its 4 paths, a stall every hour.
func soak24h() synthRun {
	return synthRun{Scenario: "soak24h", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Phases: []string{"soak"}, Seconds: 86400,
		Targets: []string{"lun0", "lun1"}, MiBs: 200, BS: 65536, P50: 500 * time.Microsecond, P99: 2 * time.Millisecond,
		P999: 5 * time.Millisecond, Noise: 0.1, Seed: 24, Paths: 4, StallEvery: 3600, StallLen: 2 * time.Second}
}

// synthHists adds the hlog files to -synth's run.
var synthHists = flag.Bool("synth-hists", false, "with -synth: also write hist/*.hlog, as a real run does")

// TestWriteSynthetic24h writes the 24 h run to -synth DIR; without the
// flag it does nothing.
func TestWriteSynthetic24h(t *testing.T) {
	if *synthDir == "" {
		t.Skip("no -synth DIR")
	}
	s := soak24h()
	s.Hists = *synthHists
	s.write(t, *synthDir)
}

// BenchmarkReport24h renders the report of a synthetic 24 h run.
func BenchmarkReport24h(b *testing.B) {
	dir := b.TempDir()
	soak24h().write(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
