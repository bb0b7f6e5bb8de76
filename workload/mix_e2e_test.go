package workload

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"lunbench/scenarios"
)

// TestMixEndToEnd runs block-size mixes and a zipf hot set against a real
// O_DIRECT file: a verified random mix (each worker in its own share, every
// sector stamped and checked), and a sequential mix bounded by bytes. The
// per-size counts must add up to the op's totals and follow the mix, and
// verification must find every block as written.
func TestMixEndToEnd(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "lbwl-mix.dat")
	src := "name: mix\ntargets: [{name: f, path: " + path + ", size: 64MiB, allow_write: true}]\nphases:\n" +
		"  - {name: verified, rw: randrw, bs: {4k: 60%, 16k: 30%, 64k: 10%}, qd: 4, offsets: {zipf: 1.2}, verify: true, duration: 1500ms}\n" +
		"  - {name: seq, rw: read, bs: {4k: 50%, 1M: 50%}, qd: 2, bytes: 32MiB}\n" +
		"  - {name: perop, rw: randrw, read_pct: 70, bs: {read: 4k, write: {8k: 50%, 32k: 50%}}, qd: 2, offsets: {hot: [{range: 5%, share: 95%}]}, duration: 1s}\n"
	sc, res := runScenario(t, src)
	for _, pr := range res.Phases {
		p := sc.Phases[slicesIndex(sc.Phases, pr.Phase)]
		if pr.Errors > 0 || pr.Ops == 0 {
			t.Fatalf("%s %s: %d ops, %d errors", pr.Phase, pr.Op, pr.Ops, pr.Errors)
		}
		mix := p.Sizes(pr.Op == Write)
		if len(pr.Sizes) != len(mix) {
			t.Fatalf("%s %s: %d sizes in the result, %d in the mix", pr.Phase, pr.Op, len(pr.Sizes), len(mix))
		}
		var ops, bytes uint64
		for i, s := range pr.Sizes {
			ops += s.Ops
			bytes += s.Bytes
			// 3 standard errors of a share over the op's I/O count.
			want := float64(mix[i].Pct) / 100
			tol := 3*math.Sqrt(want*(1-want)/float64(pr.Ops)) + 0.005
			if got := float64(s.Ops) / float64(pr.Ops); math.Abs(got-want) > tol {
				t.Errorf("%s %s %s: share %.3f, want %.2f ± %.3f", pr.Phase, pr.Op, scenarios.FormatSize(s.BS), got, want, tol)
			}
		}
		if ops != pr.Ops || bytes != pr.Bytes {
			t.Errorf("%s %s: sizes add up to %d ops %d bytes, op has %d ops %d bytes", pr.Phase, pr.Op, ops, bytes, pr.Ops, pr.Bytes)
		}
		if pr.Phase == "seq" && (pr.Bytes < 32<<20 || pr.Bytes > 34<<20) {
			t.Errorf("seq: %d bytes read, want 32 MiB (+ at most one 1 MiB I/O per worker)", pr.Bytes)
		}
	}
	if len(res.Verify) == 0 {
		t.Fatal("no verify pass")
	}
	for _, v := range res.Verify {
		if v.Problems() != 0 || v.Blocks == 0 {
			t.Errorf("verify %s: %d blocks, %v", v.When, v.Blocks, v.Counts)
		}
	}
}

func slicesIndex(ps []scenarios.Phase, name string) int {
	for i, p := range ps {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// runScenario parses src and runs it to the end.
func runScenario(t *testing.T, src string) (*scenarios.Scenario, *Result) {
	t.Helper()
	sc, err := scenarios.Parse("t.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{}, &eventLog{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sc, res
}
