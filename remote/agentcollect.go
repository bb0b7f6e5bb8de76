package remote

import (
	"context"
	"encoding/json"
	"sync"

	"lunbench/collect"
	"lunbench/scenarios"
	"lunbench/workload"
)

// hostCollectors are a host's collectors on its agent, as `lunbench run`
// starts them on one host: diskstats of every target and its paths at the
// scenario's interval, path and session states, the kernel's unit
// attentions, and the topology at the start and the end. Samples and
// events stream to the coordinator; problems become notes, never the end
// of the run (a file target may have no block device).
type hostCollectors struct {
	a      *agent
	h      collect.Host
	paths  []string
	start  collect.Topology
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (a *agent) startCollectors(sc *scenarios.Scenario, events workload.EventSink) *hostCollectors {
	c := &hostCollectors{a: a}
	for _, t := range sc.Targets {
		c.paths = append(c.paths, t.Path)
	}
	note := func(what string, err error) {
		events.Event(workload.Event{Kind: workload.EvNote, Detail: what + ": " + err.Error()})
	}
	var err error
	if c.start, err = c.h.Topology(c.paths...); err != nil {
		note("topology", err)
	}
	c.sendTopology("start", c.start)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if sampler, err := collect.NewSampler(c.h, c.paths...); err != nil {
		note("no diskstats for the targets", err)
	} else {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer sampler.Close()
			sampler.Run(ctx, sc.Interval, a.now, func(rows []collect.DiskStat, _ bool) { c.sendDisk(rows) })
		}()
	}
	if err := c.h.WatchPaths(ctx, &c.wg, c.start, events, c.paths...); err != nil {
		note("no unit attentions from kernel messages", err)
	}
	return c
}

// sendDisk sends a sample's rows (stamped with the agent's clock, skew
// and all).
func (c *hostCollectors) sendDisk(rows []collect.DiskStat) {
	if len(rows) > 0 {
		c.a.send(&Msg{Type: MsgDiskStats, DiskStats: rows})
	}
}

func (c *hostCollectors) sendTopology(when string, t collect.Topology) {
	b, err := json.Marshal(t)
	if err == nil {
		c.a.send(&Msg{Type: MsgTopology, Phase: when, Topology: b})
	}
}

// stop ends the collectors and sends the final topology.
func (c *hostCollectors) stop() {
	c.cancel()
	c.wg.Wait()
	end, _ := c.h.Topology(c.paths...)
	c.sendTopology("end", end)
}
