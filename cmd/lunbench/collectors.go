package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lunbench/collect"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// collectors watch the host while the workload runs: diskstats for every
// target and its path devices at the scenario's interval, path and session
// states every 250 ms, the unit attentions the kernel logs for the paths,
// and the topology at the start and at the end.
type collectors struct {
	h       collect.Host
	dir     *report.Dir
	paths   []string
	start   collect.Topology
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	csvFile *os.File
}

// startCollectors starts them; problems are warnings, never the end of a
// run (a file target on an unusual filesystem may have no block device),
// except a write error to diskstats.csv, which the results directory takes.
//
// Path events go to events; each diskstats sample also goes to onDisk when
// it is set (the dashboard's paths table).
func startCollectors(sc *scenarios.Scenario, dir *report.Dir, h collect.Host, events workload.EventSink,
	onDisk func([]collect.DiskStat), stderr io.Writer) *collectors {
	c := &collectors{h: h, dir: dir}
	for _, t := range sc.Targets {
		c.paths = append(c.paths, t.Path)
	}
	var err error
	if c.start, err = h.Topology(c.paths...); err != nil {
		fmt.Fprintf(stderr, "lunbench: warning: topology: %v\n", err)
	}
	dir.WriteJSON("topology.json", map[string]any{"start": c.start})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel

	sampler, err := collect.NewSampler(h, c.paths...)
	if err != nil {
		fmt.Fprintf(stderr, "lunbench: warning: no diskstats for the targets: %v\n", err)
	} else if c.csvFile, err = os.Create(filepath.Join(dir.Path, "diskstats.csv")); err != nil {
		fmt.Fprintf(stderr, "lunbench: warning: diskstats.csv: %v\n", err)
	} else {
		w := collect.NewDiskStatsCSV(c.csvFile)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer sampler.Close()
			// Rows are stamped with the read's own time: a tick served
			// late must not stretch the rates.
			sampler.Run(ctx, sc.Interval, time.Now, func(rows []collect.DiskStat, last bool) {
				if last {
					// The last, partial interval covers the run's end.
					w.Write(rows)
					return
				}
				err := w.Write(rows)
				if err == nil {
					err = w.Flush()
				}
				c.writeErr(err)
				if onDisk != nil {
					onDisk(rows)
				}
			})
			c.writeErr(w.Flush())
		}()
	}
	if err := h.WatchPaths(ctx, &c.wg, c.start, events, c.paths...); err != nil {
		fmt.Fprintf(stderr, "lunbench: warning: no unit attentions from kernel messages: %v\n", err)
	}
	return c
}

// writeErr hands a diskstats.csv write error (a full disk) to the results
// directory, which stops the run as for its own files.
func (c *collectors) writeErr(err error) {
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // DiskStatsCSV names the file already
		}
		c.dir.Fail("diskstats.csv", err)
	}
}

// stop ends the collectors and writes the final topology.
func (c *collectors) stop() {
	c.cancel()
	c.wg.Wait()
	if c.csvFile != nil {
		c.csvFile.Sync()
		c.csvFile.Close()
	}
	end, _ := c.h.Topology(c.paths...)
	c.dir.WriteJSON("topology.json", map[string]any{"start": c.start, "end": end})
}
