package workload

import "testing"

// TestPacer drives the pacer with synthetic completion times.
func TestPacer(t *testing.T) {
	const p = 1000
	cases := []struct {
		name         string
		now          []int64 // time Next is called
		wantIntended []int64
		wantSkipped  []int64
	}{
		{"on time: slots follow the grid", []int64{0, 500, 1500}, []int64{0, 1000, 2000}, []int64{0, 0, 0}},
		{"late less than a period keeps the slot", []int64{0, 1900}, []int64{0, 1000}, []int64{0, 0}},
		{"stall of 10 periods skips 9, no burst", []int64{0, 10_500, 10_600}, []int64{0, 10_000, 11_000}, []int64{0, 9, 0}},
		{"exactly one period late skips one", []int64{0, 2000}, []int64{0, 2000}, []int64{0, 1}},
	}
	for _, c := range cases {
		pc := NewPacer(0, p)
		for i, now := range c.now {
			in, sk := pc.Next(now)
			if in != c.wantIntended[i] || sk != c.wantSkipped[i] {
				t.Errorf("%s: call %d at %d: intended %d skipped %d, want %d %d", c.name, i, now, in, sk, c.wantIntended[i], c.wantSkipped[i])
			}
		}
	}
}
