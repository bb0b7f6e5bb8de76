package report

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"

	"lunbench/workload"
)

// AddPathMoves fills in, for each drill × target of run, when traffic
// left the multipath legs that carried it before the inject, from the
// per-path rows of dir's diskstats.csv. Targets without path rows (files,
// plain disks) and drills where traffic never moved are left without one.
// Its resolution is the sampling interval (the rows' interval_s).
func AddPathMoves(dir string, run *RunJSON) error {
	if len(run.Drills) == 0 {
		return nil
	}
	rows, names, err := readDiskStats(filepath.Join(dir, "diskstats.csv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	d := &runData{run: run}
	byTarget := map[string][]pathSample{}
	for _, r := range rows {
		if r.Path {
			name := d.targetName(names[r.Target])
			byTarget[name] = append(byTarget[name], pathSample{at: r.time(), dev: names[r.Device], kBs: r.RkBs + r.WkBs})
		}
	}
	for i := range run.Drills {
		dr := &run.Drills[i]
		if !dr.Injected {
			continue
		}
		for j := range dr.Targets {
			dt := &dr.Targets[j]
			dt.PathMove = pathMove(byTarget[dt.Target], dr.InjectAt, dr.WindowEnd)
		}
	}
	return nil
}

// pathSample is one multipath leg's throughput in one diskstats sample.
type pathSample struct {
	at  time.Time // the end of the sample
	dev string
	kBs float64 // reads and writes, kB/s
}

// pathMove finds the first sample after inject (up to until) in which the
// map's legs completed I/O while a leg that carried I/O in the 10 s before
// carried none.
func pathMove(rows []pathSample, inject, until time.Time) *workload.PathMove {
	const before = 10 * time.Second
	// Mean throughput of each leg over the samples before the inject.
	sum, n := map[string]float64{}, map[string]int{}
	for _, r := range rows {
		if r.at.After(inject.Add(-before)) && !r.at.After(inject) {
			sum[r.dev] += r.kBs
			n[r.dev]++
		}
	}
	carried := map[string]bool{}
	for dev, s := range sum {
		if s/float64(n[dev]) > 0 {
			carried[dev] = true
		}
	}
	if len(carried) == 0 {
		return nil
	}
	// Samples after the inject, grouped by time.
	var times []time.Time
	at := map[time.Time][]pathSample{}
	for _, r := range rows {
		if r.at.After(inject) && !r.at.After(until) {
			if _, ok := at[r.at]; !ok {
				times = append(times, r.at)
			}
			at[r.at] = append(at[r.at], r)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for _, t := range times {
		var from, to []string
		for _, r := range at[t] {
			switch {
			case r.kBs > 0:
				to = append(to, r.dev)
			case carried[r.dev]:
				from = append(from, r.dev)
			}
		}
		if len(to) > 0 && len(from) > 0 {
			sort.Strings(from)
			sort.Strings(to)
			return &workload.PathMove{At: t, After: t.Sub(inject), From: from, To: to}
		}
	}
	return nil
}
