package report

import (
	"testing"
	"time"
)

// TestPathMove finds the sample at which a map's traffic left a leg.
func TestPathMove(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// legs returns one second's rows for sdb and sdc.
	legs := func(s int, b, c float64) []pathSample {
		return []pathSample{{at: sec(s), dev: "sdb", kBs: b}, {at: sec(s), dev: "sdc", kBs: c}}
	}
	var rr, ab []pathSample
	for s := 1; s <= 20; s++ {
		switch {
		case s <= 10: // round-robin over both legs
			rr = append(rr, legs(s, 500, 500)...)
		case s <= 13: // sdc pulled: nothing completes while the checker notices
			rr = append(rr, legs(s, 0, 0)...)
		default: // everything on sdb
			rr = append(rr, legs(s, 1000, 0)...)
		}
		// active/passive: sdb carries it all, then sdc takes over at 12 s
		if s <= 11 {
			ab = append(ab, legs(s, 1000, 0)...)
		} else {
			ab = append(ab, legs(s, 0, 1000)...)
		}
	}
	tests := []struct {
		name     string
		rows     []pathSample
		want     time.Duration // 0: no move
		from, to string
	}{
		// Round-robin map loses a leg: the survivor carries I/O from 14 s.
		{"round robin", rr, 4 * time.Second, "sdc", "sdb"},
		// Failover policy: traffic switches from sdb to sdc at 12 s.
		{"failover", ab, 2 * time.Second, "sdb", "sdc"},
		// No per-path rows (a file target): nothing to say.
		{"no paths", nil, 0, "", ""},
	}
	for _, tt := range tests {
		m := pathMove(tt.rows, sec(10), sec(30))
		switch {
		case tt.want == 0 && m != nil:
			t.Errorf("%s: move %+v, want none", tt.name, m)
		case tt.want == 0:
		case m == nil:
			t.Errorf("%s: no move found", tt.name)
		case m.After != tt.want || m.From[0] != tt.from || m.To[0] != tt.to:
			t.Errorf("%s: %+v, want after %v from %s to %s", tt.name, m, tt.want, tt.from, tt.to)
		}
	}
}
