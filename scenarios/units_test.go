package scenarios

import (
	"regexp"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "512", want: 512},                          // plain bytes, as YAML ints arrive
		{in: "0", want: 0},                              // zero is a size
		{in: "512B", want: 512},                         // explicit byte unit
		{in: "4k", want: 4096},                          // fio style
		{in: "4K", want: 4096},                          // upper case
		{in: "4KiB", want: 4096},                        // IEC
		{in: "4kb", want: 4096},                         // KB is binary here, on purpose
		{in: "4KB", want: 4096},                         // ditto
		{in: " 4 KiB ", want: 4096},                     // spaces around and between
		{in: "1MiB", want: 1 << 20},                     // mebibyte
		{in: "1M", want: 1 << 20},                       // short form
		{in: "1G", want: 1 << 30},                       // gibibyte
		{in: "1.5GiB", want: 3 << 29},                   // exact fraction, FormatSize's output
		{in: "2T", want: 2 << 40},                       // tebibytes
		{in: "1P", want: 1 << 50},                       // pebibyte
		{in: ".5k", want: 512},                          // leading dot
		{in: "7E", want: 7 << 60},                       // largest unit, still fits
		{in: "8E", err: `invalid size "8E": too large`}, // 2^63 overflows int64
		{in: "1.1k", err: `invalid size "1.1k": not a whole number of bytes`},                                                     // 1126.4 bytes
		{in: "-4k", err: `invalid size "-4k": must not be negative`},                                                              // negative
		{in: "4x", err: `invalid size "4x": unknown unit "x" (use B, k, M, G, T, P, E, optionally followed by B or iB)`},          // unknown unit
		{in: "4kibi", err: `invalid size "4kibi": unknown unit "kibi" (use B, k, M, G, T, P, E, optionally followed by B or iB)`}, // not a unit spelling
		{in: "", err: `invalid size "" (examples: 512, 4k, 1MiB, 1.5G)`},                                                          // empty
		{in: "1/2k", err: `invalid size "1/2k" (examples: 512, 4k, 1MiB, 1.5G)`},                                                  // no fraction syntax
		{in: "1e3", err: `invalid size "1e3" (examples: 512, 4k, 1MiB, 1.5G)`},                                                    // no exponent notation
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseSize(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"},                   // zero
		{512, "512B"},               // below a KiB
		{1000, "1000B"},             // not a binary round number
		{4096, "4KiB"},              // block size
		{1536, "1.5KiB"},            // one decimal
		{1 << 20, "1MiB"},           // mebibyte
		{3 << 29, "1.5GiB"},         // the brief's example
		{1<<30 + 1<<27, "1.125GiB"}, // three decimals, exact
		{1<<30 + 1<<20, "1025MiB"},  // 1.0009765625GiB would need more decimals
		{1025, "1025B"},             // 1.0009765625KiB would need more decimals
		{10 << 40, "10TiB"},         // large
		{-512, "-512B"},             // negative stays readable
	}
	for _, tt := range tests {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in >= 0 {
			if back, err := ParseSize(tt.want); err != nil || back != tt.in {
				t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", tt.in, back, err)
			}
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "30s", want: 30 * time.Second},                                        // seconds
		{in: "2m", want: 2 * time.Minute},                                          // minutes
		{in: "500ms", want: 500 * time.Millisecond},                                // milliseconds
		{in: "1h30m", want: 90 * time.Minute},                                      // compound
		{in: "1.5s", want: 1500 * time.Millisecond},                                // fractional
		{in: "250us", want: 250 * time.Microsecond},                                // ASCII micro
		{in: "250µs", want: 250 * time.Microsecond},                                // micro sign
		{in: "250μs", want: 250 * time.Microsecond},                                // Greek mu
		{in: "0", want: 0},                                                         // zero needs no unit
		{in: " 10s ", want: 10 * time.Second},                                      // spaces
		{in: "30", err: `invalid duration "30": missing unit (write 30s or 30ms)`}, // ambiguous
		{in: "-1s", err: `invalid duration "-1s": must not be negative`},           // negative
		{in: "1d", err: `invalid duration "1d" (examples: 30s, 500ms, 2m, 1h30m)`}, // no days
		{in: "", err: `invalid duration "" (examples: 30s, 500ms, 2m, 1h30m)`},     // empty
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseDuration(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{in: "200MiB/s", want: 200 << 20},                                             // IEC per second
		{in: "200MB/s", want: 200 << 20},                                              // MB is binary here too
		{in: "200M", want: 200 << 20},                                                 // no /s
		{in: "200m/S", want: 200 << 20},                                               // any case
		{in: "1.5GiB/s", want: 1.5 * (1 << 30)},                                       // fractional
		{in: "1000", want: 1000},                                                      // bytes per second
		{in: "0.5k", want: 512},                                                       // fractional bytes are fine for a rate
		{in: "-1M", err: `invalid rate "-1M": must not be negative`},                  // negative
		{in: "fast", err: `invalid rate "fast" (examples: 200MiB/s, 200M, 1.5GiB/s)`}, // not a number
		{in: "10Mbit/s", err: `invalid rate "10Mbit/s": unknown unit "Mbit" (use B, k, M, G, T, P, E, optionally followed by B or iB)`}, // bits are not offered
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseRate(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{in: "70%", want: 70},     // with sign
		{in: "70", want: 70},      // bare number
		{in: "0", want: 0},        // lower bound
		{in: "100%", want: 100},   // upper bound
		{in: "12.5%", want: 12.5}, // fraction of a percent
		{in: " 70 % ", want: 70},  // spaces
		{in: "101%", err: `invalid percentage "101%": must be between 0 and 100`}, // above
		{in: "-5", err: `invalid percentage "-5" (examples: 70%, 70)`},            // sign refused as syntax
		{in: "half", err: `invalid percentage "half" (examples: 70%, 70)`},        // words
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParsePercent(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestSchemaPatterns keeps the schema's unit patterns in step with the
// parsers: what parses matches, and syntax the parsers refuse does not.
func TestSchemaPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		parse   func(string) error
		good    []string
		bad     []string
	}{
		{sizePattern, func(s string) error { _, err := ParseSize(s); return err },
			[]string{"512", "4k", "4K", "4KiB", "4kb", "1.5GiB", " 4 KiB ", ".5k", "512B"},
			[]string{"4x", "-4k", "1e3", "1/2k", "", "4kibi"}},
		{ratePattern, func(s string) error { _, err := ParseRate(s); return err },
			[]string{"200MiB/s", "200MB/s", "200M", "200m/S", "1000"},
			[]string{"fast", "-1M", "10Mbit/s"}},
		{durationPattern, func(s string) error { _, err := ParseDuration(s); return err },
			[]string{"30s", "2m", "500ms", "1h30m", "1.5s", "250us", "250µs", "0"},
			[]string{"30", "-1s", "1d", ""}},
		{percentPattern, func(s string) error { _, err := ParsePercent(s); return err },
			[]string{"70%", "70", "12.5%", " 70 % "},
			[]string{"half", "-5"}},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.pattern)
		for _, s := range tt.good {
			if err := tt.parse(s); err != nil || !re.MatchString(s) {
				t.Errorf("%q: parse error %v, pattern match %v; want both to accept", s, err, re.MatchString(s))
			}
		}
		for _, s := range tt.bad {
			if err := tt.parse(s); err == nil || re.MatchString(s) {
				t.Errorf("%q: parse error %v, pattern match %v; want both to refuse", s, err, re.MatchString(s))
			}
		}
	}
}
