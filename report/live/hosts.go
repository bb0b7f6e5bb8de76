package live

import (
	"slices"

	"lunbench/workload"
)

// A run over several hosts gives the dashboard Options.Hosts (target →
// host): the targets table groups its rows by host, each host followed by
// its total, then the total of all hosts; the stall banner names the host.

// hostTotalPrefix starts a total row's label ("Σ web1", "Σ all hosts").
const hostTotalPrefix = "Σ "

// withHostTotals orders figs by host (the hosts' order, then the target's)
// and adds a total row per host and op, and one over all hosts. A total's
// IOPS, MiB/s, in-flight and errors are sums and its max the largest; it
// shows no percentiles, which do not add up from rows (the results have
// the exact merged ones, from the histograms).
func withHostTotals(figs []fig, hosts map[string]string, order []string) []fig {
	if len(hosts) == 0 {
		return figs
	}
	var out []fig
	var all [workload.NumOps]*fig
	for _, h := range order {
		var tot [workload.NumOps]*fig
		for _, f := range figs {
			if hosts[f.target] != h {
				continue
			}
			out = append(out, f)
			for _, acc := range []*[workload.NumOps]*fig{&tot, &all} {
				if acc[f.op] == nil {
					acc[f.op] = &fig{op: f.op}
				}
				addFig(acc[f.op], f)
			}
		}
		for _, t := range tot {
			if t != nil {
				t.target = hostTotalPrefix + h
				out = append(out, *t)
			}
		}
	}
	for _, t := range all {
		if t != nil && len(order) > 1 {
			t.target = hostTotalPrefix + "all hosts"
			out = append(out, *t)
		}
	}
	return out
}

func addFig(t *fig, f fig) {
	t.iops += f.iops
	t.bps += f.bps
	t.p50, t.p99, t.max = max(t.p50, f.p50), max(t.p99, f.p99), max(t.max, f.max)
	t.inflight += f.inflight
	t.errors += f.errors
}

// hostOrder lists the hosts in the order their targets first appear in
// Options.HostOrder, or sorted.
func (d *Dashboard) hostOrder() []string {
	if len(d.opt.HostOrder) > 0 {
		return d.opt.HostOrder
	}
	var out []string
	for _, h := range d.opt.Hosts {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// onHost is " on host NAME" for a target of a run over several hosts.
func (d *Dashboard) onHost(target string) string {
	if h, ok := d.opt.Hosts[target]; ok {
		return " (host " + h + ")"
	}
	return ""
}
