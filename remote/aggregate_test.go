package remote

import (
	"math/rand/v2"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
	"lunbench/workload"
)

// TestAggregateIsOneHistogram: three hosts' phase results, each with its
// own latency distribution, aggregate to exactly the percentiles of one
// histogram that recorded every sample, not to an average of percentiles.
func TestAggregateIsOneHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := hdr.New(1000, int64(time.Hour), 3)
	var results []workload.PhaseResult
	var targets []scenarios.Target
	// Three very different hosts: fast, slow, and one with a long tail.
	for i, spec := range []struct {
		name     string
		base, sd float64 // ns
		n        int
	}{{"fast", 200e3, 50e3, 50000}, {"slow", 5e6, 1e6, 20000}, {"tail", 1e6, 20e6, 5000}} {
		h := hdr.New(1000, int64(time.Hour), 3)
		var lo, hi, sum int64 = 1 << 62, 0, 0
		for range spec.n {
			v := int64(spec.base + rng.NormFloat64()*spec.sd)
			if v < 1000 {
				v = 1000
			}
			h.RecordValue(v)
			all.RecordValue(v)
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
		tname := spec.name
		targets = append(targets, scenarios.Target{Name: tname, Host: []string{"h1", "h2", "h3"}[i]})
		results = append(results, workload.PhaseResult{Phase: "p", Target: tname, Op: workload.Read, Ops: uint64(spec.n), Seconds: 10,
			Lat: workload.LatencySummary{Count: uint64(spec.n), Min: time.Duration(lo), Max: time.Duration(hi), Mean: time.Duration(sum / int64(spec.n))}, Hist: h})
	}
	aggs := Aggregates(results, targets)
	if len(aggs) != 1 {
		t.Fatalf("aggregates %+v", aggs)
	}
	a := aggs[0]
	if a.Lat.Count != uint64(all.TotalCount()) || a.Ops != 75000 || len(a.Hosts) != 3 {
		t.Fatalf("count %d ops %d hosts %v, want %d", a.Lat.Count, a.Ops, a.Hosts, all.TotalCount())
	}
	for _, c := range []struct {
		p   float64
		got time.Duration
	}{{50, a.Lat.P50}, {90, a.Lat.P90}, {99, a.Lat.P99}, {99.9, a.Lat.P999}, {99.99, a.Lat.P9999}} {
		want := min(time.Duration(all.ValueAtPercentile(c.p)), time.Duration(all.Max()))
		if c.got != want {
			t.Errorf("p%v = %v, one histogram of all samples says %v", c.p, c.got, want)
		}
	}
	// The average of the hosts' p99s is far from the true p99: the
	// reason to merge histograms.
	var avg time.Duration
	for _, r := range results {
		avg += time.Duration(r.Hist.ValueAtPercentile(99)) / 3
	}
	t.Logf("true p99 %v (merged %v); average of the hosts' p99s %v", time.Duration(all.ValueAtPercentile(99)), a.Lat.P99, avg)
	if a.IOPS != 7500 {
		t.Errorf("IOPS %v, want 7500 (75000 ops over 10 s)", a.IOPS)
	}
}
