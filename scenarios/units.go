package scenarios

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// numberUnit splits "1.5 GiB" into "1.5" and "GiB". The number is plain
// decimal: no sign, no exponent, no fraction syntax, so that what an admin
// reads is what the tool uses.
var numberUnit = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]*)$`)

// unitShift maps a unit's first letter to its power of 1024.
func unitShift(unit string) (uint, bool) {
	u := strings.ToLower(unit)
	if u == "" || u == "b" {
		return 0, true
	}
	var shift uint
	switch u[0] {
	case 'k':
		shift = 10
	case 'm':
		shift = 20
	case 'g':
		shift = 30
	case 't':
		shift = 40
	case 'p':
		shift = 50
	case 'e':
		shift = 60
	default:
		return 0, false
	}
	switch u[1:] {
	case "", "b", "ib":
		return shift, true
	}
	return 0, false
}

// splitQuantity parses the number and the binary multiplier of a size or a
// rate into an exact rational, so that "1.5GiB" is exactly 1610612736.
func splitQuantity(what, s, t string) (*big.Rat, error) {
	t = strings.TrimSpace(t)
	if strings.HasPrefix(t, "-") {
		return nil, fmt.Errorf("invalid %s %q: must not be negative", what, s)
	}
	m := numberUnit.FindStringSubmatch(t)
	if m == nil {
		examples := "512, 4k, 1MiB, 1.5G"
		if what == "rate" {
			examples = "200MiB/s, 200M, 1.5GiB/s"
		}
		return nil, fmt.Errorf("invalid %s %q (examples: %s)", what, s, examples)
	}
	shift, ok := unitShift(m[2])
	if !ok {
		return nil, fmt.Errorf("invalid %s %q: unknown unit %q (use B, k, M, G, T, P, E, optionally followed by B or iB)", what, s, m[2])
	}
	num := m[1]
	if strings.HasSuffix(num, ".") {
		num += "0"
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return nil, fmt.Errorf("invalid %s %q", what, s)
	}
	return r.Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), shift))), nil
}

// ParseSize parses a size in bytes: a plain number of bytes ("512") or a
// number with a binary unit ("4k", "4K", "4KiB", "4kb", "1MiB", "1.5G",
// "2T"). Units are case-insensitive and always powers of 1024: KB, K and
// KiB all mean 1024 bytes, because block sizes are binary and that is what
// storage admins mean when they write 4KB. The result must be a whole,
// non-negative number of bytes.
func ParseSize(s string) (int64, error) {
	r, err := splitQuantity("size", s, s)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n.Int64(), nil
}

// ParseRate parses a throughput in bytes per second: "200MiB/s",
// "200MB/s", "200M" and "1.5GiB/s" all use the binary units of ParseSize,
// with an optional "/s"; a plain number is bytes per second.
func ParseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && strings.EqualFold(t[len(t)-2:], "/s") {
		t = t[:len(t)-2]
	}
	r, err := splitQuantity("rate", s, t)
	if err != nil {
		return 0, err
	}
	f, _ := r.Float64()
	if math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid rate %q: too large", s)
	}
	return f, nil
}

// ParseDuration parses a non-negative duration as Go writes it: "30s",
// "2m", "500ms", "1h30m", "1.5s", "250us" or "250µs". A bare number other
// than 0 is refused, because "30" could mean seconds or milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("invalid duration %q (examples: 30s, 500ms, 2m, 1h30m)", s)
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil && strings.Trim(t, "0.") != "" {
		return 0, fmt.Errorf("invalid duration %q: missing unit (write %ss or %sms)", s, t, t)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (examples: 30s, 500ms, 2m, 1h30m)", s)
	}
	return d, nil
}

// ParsePercent parses a percentage, "70%" or "70", into 70. It must lie
// between 0 and 100.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsAny(t, "eExXpP_+-") {
		return 0, fmt.Errorf("invalid percentage %q (examples: 70%%, 70)", s)
	}
	if f < 0 || f > 100 {
		return 0, fmt.Errorf("invalid percentage %q: must be between 0 and 100", s)
	}
	return f, nil
}

// parseFraction parses a ratio written "90%" or "0.9" into 0.9.
func parseFraction(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := ParsePercent(p)
		if err != nil {
			return 0, fmt.Errorf("invalid ratio %q (examples: 90%%, 0.9)", s)
		}
		return f / 100, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsAny(t, "eExXpP_+-") {
		return 0, fmt.Errorf("invalid ratio %q (examples: 90%%, 0.9)", s)
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("invalid ratio %q: write a percentage like 90%% or a fraction between 0 and 1", s)
	}
	return f, nil
}

// parseCount parses a plain non-negative number such as an IOPS figure.
func parseCount(s string) (float64, error) {
	t := strings.TrimSpace(s)
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsAny(t, "xXpP_+") || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("invalid number %q: must not be negative", s)
	}
	return f, nil
}

// FormatSize writes a byte count with the largest binary unit that keeps
// it exact in at most three decimals: 4096 is "4KiB", 1048576 "1MiB",
// 1610612736 "1.5GiB", 1000 "1000B". ParseSize reads every result back to
// the same number.
func FormatSize(n int64) string {
	units := []string{"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"}
	if n > 0 {
		for i, u := range units {
			shift := uint(60 - 10*i)
			unit := int64(1) << shift
			if n < unit {
				continue
			}
			// n/unit is exact in three decimals when n*1000 is a
			// multiple of unit; compute that without overflow.
			whole, rest := n/unit, n%unit
			if rest == 0 {
				return strconv.FormatInt(whole, 10) + u
			}
			frac := new(big.Int).Mul(big.NewInt(rest), big.NewInt(1000))
			q, m := new(big.Int).QuoRem(frac, big.NewInt(unit), new(big.Int))
			if m.Sign() == 0 {
				f := strings.TrimRight(fmt.Sprintf("%03d", q.Int64()), "0")
				return strconv.FormatInt(whole, 10) + "." + f + u
			}
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
