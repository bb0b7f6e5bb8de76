// Package report turns what a run measured into files and words: the
// results directory (written while the run goes, read back by `lunbench
// report`), criteria and the verdict, line-mode progress and the final
// summary.
package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lat formats a latency the way a person reads it: µs below a millisecond
// (to 10 ns below 10 µs), ms below a second, seconds above.
func Lat(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Microsecond:
		// Three significant digits, as the histogram keeps: 2.56µs, not
		// 2.6µs (zram and NVMe answer in a few microseconds).
		return trimFloat(float64(d)/float64(time.Microsecond), 2) + "µs"
	case d < time.Millisecond:
		return trimFloat(float64(d)/float64(time.Microsecond), 1) + "µs"
	case d < time.Second:
		return trimFloat(float64(d)/float64(time.Millisecond), 2) + "ms"
	default:
		return trimFloat(d.Seconds(), 3) + "s"
	}
}

func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Thousands formats n with thousands separators: 123,456.
func Thousands(n float64) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return "-"
	}
	neg := n < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(n))), 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MiBps formats a byte rate in MiB/s.
func MiBps(bytesPerSec float64) string {
	v := bytesPerSec / (1 << 20)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f MiB/s", v)
	case v >= 10:
		return fmt.Sprintf("%.1f MiB/s", v)
	default:
		return fmt.Sprintf("%.2f MiB/s", v)
	}
}

// Clock formats an elapsed time as mm:ss (or h:mm:ss).
func Clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
