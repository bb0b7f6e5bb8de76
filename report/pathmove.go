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
	rows, err := readDiskStats(filepath.Join(dir, "diskstats.csv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	d := &runData{run: run}
	byTarget := map[string][]diskRow{}
	for _, r := range rows {
		if r.Role == "path" {
			name := d.targetName(r.Target)
			byTarget[name] = append(byTarget[name], r)
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

// pathMove finds the first sample after inject (up to until) in which the
// map's legs completed I/O while a leg that carried I/O in the 10 s before
// carried none.
func pathMove(rows []diskRow, inject, until time.Time) *workload.PathMove {
	const before = 10 * time.Second
	// Mean throughput of each leg over the samples before the inject.
	sum, n := map[string]float64{}, map[string]int{}
	for _, r := range rows {
		if r.Time.After(inject.Add(-before)) && !r.Time.After(inject) {
			sum[r.Device] += r.RkBs + r.WkBs
			n[r.Device]++
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
	at := map[time.Time][]diskRow{}
	for _, r := range rows {
		if r.Time.After(inject) && !r.Time.After(until) {
			if _, ok := at[r.Time]; !ok {
				times = append(times, r.Time)
			}
			at[r.Time] = append(at[r.Time], r)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for _, t := range times {
		var from, to []string
		for _, r := range at[t] {
			busy := r.RkBs+r.WkBs > 0
			switch {
			case busy:
				to = append(to, r.Device)
			case carried[r.Device]:
				from = append(from, r.Device)
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
