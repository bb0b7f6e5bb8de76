package remote

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"lunbench/collect"
)

// diskCSV is one diskstats.csv the coordinator writes: a host's, or the
// merged one at the top.
type diskCSV struct {
	f *os.File
	w *collect.DiskStatsCSV
}

func openDiskCSV(dir string) (*diskCSV, error) {
	f, err := os.Create(filepath.Join(dir, "diskstats.csv"))
	if err != nil {
		return nil, err
	}
	return &diskCSV{f: f, w: collect.NewDiskStatsCSV(f)}, nil
}

func (d *diskCSV) write(rows []collect.DiskStat) error {
	if err := d.w.Write(rows); err != nil {
		return err
	}
	return d.w.Flush()
}

func (d *diskCSV) close() {
	if d != nil {
		d.f.Sync()
		d.f.Close()
	}
}

// diskSink is a sink that also shows diskstats (the dashboard).
type diskSink interface {
	AddDiskStats([]collect.DiskStat)
}

// diskStats takes a host's diskstats sample: onto the coordinator's clock,
// into the host's diskstats.csv and the merged one, and to a dashboard
// with every host's latest rows.
func (c *coordinator) diskStats(h *host, rows []collect.DiskStat) {
	for i := range rows {
		rows[i].Time = shiftT(rows[i].Time, h.toCoord())
	}
	var err error
	if h.disk == nil {
		if h.disk, err = openDiskCSV(h.dir.Path); err != nil {
			h.dir.Fail("diskstats.csv", err)
			return
		}
	}
	if c.disk == nil {
		if c.disk, err = openDiskCSV(c.opt.Dir); err != nil {
			c.top.Fail("diskstats.csv", err)
			return
		}
	}
	if err := h.disk.write(rows); err != nil {
		h.dir.Fail("diskstats.csv", err)
	}
	if err := c.disk.write(rows); err != nil {
		c.top.Fail("diskstats.csv", err)
	}
	h.diskRows = rows
	var all []collect.DiskStat
	for _, o := range c.hosts {
		all = append(all, o.diskRows...)
	}
	for _, s := range c.opt.Sinks {
		if ds, ok := s.(diskSink); ok {
			ds.AddDiskStats(all)
		}
	}
}

// topology keeps a host's topology and rewrites its topology.json.
func (c *coordinator) topology(h *host, when string, raw json.RawMessage) {
	if h.topo == nil {
		h.topo = map[string]json.RawMessage{}
	}
	h.topo[when] = raw
	if err := h.dir.WriteJSON("topology.json", h.topo); err != nil {
		c.event(h, eventNote(fmt.Sprintf("topology.json: %v", err)))
	}
}
