package remote

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lunbench/report"
	"lunbench/workload"
)

// TestTwoHosts runs one phase on two hosts (two agent processes, each
// with its own file) and checks the results directory: each host's run
// in hosts/NAME/ laid out as a local run, the merged view at the top, and
// the aggregate of both hosts.
func TestTwoHosts(t *testing.T) {
	d := diskDir(t)
	sc := parse(t, `name: two
hosts: [{name: h1}, {name: h2}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 8MiB, host: h1, allow_write: true}
  - {name: b, path: `+filepath.Join(d, "b.dat")+`, size: 8MiB, host: h2, allow_write: true}
phases:
  - {name: warm, rw: randread, bs: 4k, qd: 2, duration: 1s}
  - {name: mix, rw: randrw, bs: 4k, qd: 2, duration: 1s}
`)
	out, dir := run(t, context.Background(), sc, nil, true)
	if out.Run.Status != "finished" {
		t.Fatalf("status %s: %s", out.Run.Status, out.Run.Error)
	}
	for _, f := range []string{"run.json", "intervals.csv", "events.jsonl", "scenario.yaml", "report.md",
		"hosts/h1/run.json", "hosts/h1/intervals.csv", "hosts/h1/events.jsonl", "hosts/h1/scenario.yaml",
		"hosts/h2/run.json", "hosts/h2/intervals.csv", "hist/mix_all-hosts_read.phase.hlog",
		"diskstats.csv", "hosts/h1/diskstats.csv", "hosts/h2/topology.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	// Each host's intervals name only its own target; the top has both.
	for host, want := range map[string][]string{"hosts/h1": {"a"}, "hosts/h2": {"b"}, ".": {"a", "b"}} {
		rows, err := report.ReadIntervals(filepath.Join(dir, host))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			seen[r.Target] = true
		}
		if len(seen) != len(want) {
			t.Errorf("%s: intervals of targets %v, want %v", host, seen, want)
		}
		for _, w := range want {
			if !seen[w] {
				t.Errorf("%s: no interval of target %s", host, w)
			}
		}
	}
	var aggs []Aggregate
	if err := json.Unmarshal(out.Run.Extra[AggregateKey], &aggs); err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, p := range out.Run.Phases {
		if p.Phase == "warm" {
			sum += p.Ops
		}
	}
	found := false
	for _, a := range aggs {
		if a.Phase == "warm" && a.Op == workload.Read {
			found = true
			if a.Ops != sum || a.Lat.Count != sum || len(a.Hosts) != 2 || sum == 0 {
				t.Errorf("aggregate warm/read: ops %d count %d hosts %v, want %d from both", a.Ops, a.Lat.Count, a.Hosts, sum)
			}
		}
	}
	if !found {
		t.Errorf("no aggregate for warm/read: %+v", aggs)
	}
	for _, h := range out.Hosts {
		if h.Status != "finished" || h.Clock.Samples != 8 || h.DataEnd.IsZero() {
			t.Errorf("host %+v", h)
		}
	}
}
