package report

import (
	"github.com/montanaflynn/stats"

	"lunbench/workload"
)

// Summary describes a series of per-interval figures: how large and how
// steady. Stddev is the population standard deviation; CV, the
// coefficient of variation, is Stddev / Mean (0 when the mean is 0), the
// stability figure storage people quote.
type Summary struct {
	N                                    int
	Mean, Stddev, Min, P5, P50, P95, Max float64
	CV                                   float64
}

// Summarize computes a Summary with montanaflynn/stats; an empty series
// gives the zero Summary.
func Summarize(vals []float64) Summary {
	if len(vals) == 0 {
		return Summary{}
	}
	v := stats.Float64Data(vals)
	s := Summary{N: len(v)}
	// The errors are for empty input only, handled above.
	s.Mean, _ = v.Mean()
	s.Stddev, _ = v.StandardDeviation()
	s.Min, _ = v.Min()
	s.Max, _ = v.Max()
	s.P5, _ = v.Percentile(5)
	s.P50, _ = v.Percentile(50)
	s.P95, _ = v.Percentile(95)
	if s.Mean != 0 {
		s.CV = s.Stddev / s.Mean
	}
	return s
}

// SeriesSummary is the Summary of one phase × target × op's per-interval
// throughput in MiB/s, ramp intervals left out.
type SeriesSummary struct {
	Phase, Target string
	Op            workload.Op
	Summary
}

// ThroughputSummaries summarises the per-interval throughput of every
// phase × target × op in intervals.csv rows, in the order they first
// appear. It is ThroughputStats with the median (P50) added, for the
// documents' stability table.
func ThroughputSummaries(rows []IntervalRow) []SeriesSummary {
	keys, groups := groupBy(rows, func(r *IntervalRow) (phaseKey, bool) { return phaseKey{r.Phase, r.Target, r.Op}, !r.Ramp })
	out := make([]SeriesSummary, 0, len(keys))
	for _, k := range keys {
		vals := make([]float64, len(groups[k]))
		for i, r := range groups[k] {
			vals[i] = r.MiBs
		}
		out = append(out, SeriesSummary{Phase: k.Phase, Target: k.Target, Op: k.Op, Summary: Summarize(vals)})
	}
	return out
}
