package report

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestLatCell(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "-"},                                // nothing measured
		{246300 * time.Nanosecond, "246.3µs"},   // hundreds: one decimal
		{31490 * time.Microsecond, "31.49ms"},   // tens: two
		{245820 * time.Microsecond, "245.8ms"},  // was 245.82ms: 8 columns
		{3083 * time.Millisecond, "3.083s"},     // units: three
		{40123 * time.Millisecond, "40.12s"},    // a 40 s failover stall
		{2 * time.Millisecond, "2ms"},           // zeros trimmed
		{999999 * time.Microsecond, "1000ms"},   // rounds up within the unit
		{1234567 * time.Millisecond, "1234.6s"}, // 20 minutes still fits
		{1500 * time.Nanosecond, "1.5µs"},       // the histogram's floor
		{100 * time.Millisecond, "100ms"},       // exactly a hundred
		{99996 * time.Microsecond, "100ms"},     // two decimals rounding up
	} {
		got := LatCell(tc.d)
		if got != tc.want {
			t.Errorf("LatCell(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > 7 {
			t.Errorf("LatCell(%v) = %q: %d columns, more than 7", tc.d, got, n)
		}
	}
}
