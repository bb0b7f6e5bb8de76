package report

import (
	"fmt"
	"strings"
)

// DefaultCVWarn is the coefficient of variation of per-interval
// throughput above which the report warns that a phase was unsteady, when
// the scenario sets no throughput_cv criterion: a mean over a phase whose
// throughput swung by more than a quarter of it is no figure to sign.
const DefaultCVWarn = 0.25

// cvWarnings lists, for the verdict section, each phase × target × op
// whose throughput CV is above the threshold: the scenario's throughput_cv
// criterion (its tightest) when it has one, else DefaultCVWarn. A series
// already judged by a throughput_cv criterion is not repeated.
func cvWarnings(series []SeriesStats, crs []CriterionResult) []string {
	limit, judged := DefaultCVWarn, false
	for _, c := range crs {
		if strings.HasSuffix(c.Metric, "throughput_cv") {
			if !judged || c.Threshold < limit {
				limit = c.Threshold
			}
			judged = true
		}
	}
	if judged {
		return nil // the criteria table says it, with pass or fail
	}
	var out []string
	for _, s := range series {
		if s.N >= 3 && s.CV > limit {
			out = append(out, fmt.Sprintf("throughput of %s on %s (%s) was unsteady: CV %.1f%% over %d intervals (warning above %.0f%%; "+
				"a criterion throughput_cv: \"<= %.0f%%\" makes it fail the run)", s.Phase, s.Target, s.Op, s.CV*100, s.N, limit*100, limit*100))
		}
	}
	return out
}

// CVMeasure returns a criteria measure (Extra.Measured) for throughput_cv
// and its read_/write_ forms, from the run's intervals: the largest CV of
// the phase × target's series (ramp excluded) of the op or ops named.
func CVMeasure(rows []IntervalRow) func(metric, phase, target string) (float64, bool) {
	series := ThroughputStats(rows)
	return func(metric, phase, target string) (float64, bool) {
		op := ""
		switch metric {
		case "throughput_cv":
		case "read_throughput_cv":
			op = "read"
		case "write_throughput_cv":
			op = "write"
		default:
			return 0, false
		}
		worst, ok := 0.0, false
		for _, s := range series {
			if (phase == "" || s.Phase == phase) && (target == "" || s.Target == target) && (op == "" || s.Op.String() == op) && s.N >= 2 {
				worst, ok = max(worst, s.CV), true
			}
		}
		return worst, ok
	}
}
