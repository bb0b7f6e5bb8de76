package report

import (
	"math"
	"testing"

	"lunbench/workload"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		// Nothing measured: the zero Summary, no NaN.
		{"empty", nil, Summary{}},
		// A steady series: no spread, CV 0.
		{"steady", []float64{100, 100, 100, 100}, Summary{N: 4, Mean: 100, Min: 100, P5: 100, P50: 100, P95: 100, Max: 100}},
		// A stalled interval pulls min to 0 and shows in the CV.
		{"stall", []float64{100, 0}, Summary{N: 2, Mean: 50, Stddev: 50, Min: 0, P5: 5, P50: 50, P95: 95, Max: 100, CV: 1}},
		// 1..20: percentiles interpolate linearly between ranks (montanaflynn/stats 0.14).
		{"ramp of values", seq(20), Summary{N: 20, Mean: 10.5, Stddev: math.Sqrt(33.25), Min: 1, P5: 1.95, P50: 10.5, P95: 19.05, Max: 20, CV: math.Sqrt(33.25) / 10.5}},
		// An idle phase: mean 0, CV left at 0 rather than NaN.
		{"idle", []float64{0, 0}, Summary{N: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in)
			g := []float64{got.Mean, got.Stddev, got.Min, got.P5, got.P50, got.P95, got.Max, got.CV}
			w := []float64{tt.want.Mean, tt.want.Stddev, tt.want.Min, tt.want.P5, tt.want.P50, tt.want.P95, tt.want.Max, tt.want.CV}
			for i := range g {
				if math.Abs(g[i]-w[i]) > 1e-9 || got.N != tt.want.N {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestThroughputSummaries(t *testing.T) {
	rows := []IntervalRow{
		{Phase: "p", Target: "t", Op: workload.Read, Ramp: true, MiBs: 1000}, // ramp: left out
		{Phase: "p", Target: "t", Op: workload.Read, MiBs: 100},
		{Phase: "p", Target: "t", Op: workload.Write, MiBs: 40},
		{Phase: "p", Target: "t", Op: workload.Read, MiBs: 300},
	}
	got := ThroughputSummaries(rows)
	if len(got) != 2 || got[0].Op != workload.Read || got[1].Op != workload.Write {
		t.Fatalf("got %+v", got)
	}
	if r := got[0]; r.N != 2 || r.Mean != 200 || r.Max != 300 {
		t.Errorf("read: %+v", r)
	}
	// It agrees with the documents' ThroughputStats where they overlap.
	old := ThroughputStats(rows)
	for i := range old {
		if old[i].Mean != got[i].Mean || old[i].CV != got[i].CV || old[i].P95 != got[i].P95 {
			t.Errorf("%d: ThroughputStats %+v, ThroughputSummaries %+v", i, old[i], got[i])
		}
	}
}
