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
	// One cause, one warning: a run on an unsteady host swings in most of
	// its series, and nine boxes of the same sentence bury the verdict.
	var bad []string
	for _, s := range series {
		if s.N >= 3 && s.CV > limit {
			bad = append(bad, fmt.Sprintf("%s on %s (%s): CV %.1f%% over %d intervals", s.Phase, s.Target, s.Op, s.CV*100, s.N))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	what := "throughput of " + strings.Replace(bad[0], ":", " was unsteady:", 1)
	if len(bad) > 1 {
		what = fmt.Sprintf("throughput was unsteady in %d series: %s", len(bad), strings.Join(bad, "; "))
	}
	return []string{fmt.Sprintf("%s (warning above %.0f%%; a criterion throughput_cv: \"<= %.0f%%\" makes it fail the run)", what, limit*100, limit*100)}
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
