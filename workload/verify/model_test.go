package verify

import (
	"math/rand/v2"
	"testing"
)

// TestNoFalseAlarms drives one unit through random acknowledged writes and
// failed writes that landed whole, partly or not at all, across the wrap
// from 32767 to 1, and checks after every step that the device is ok
// against the live map, and against a copy of the map up to 50 steps old
// read with crash semantics (the map on disk lags by up to one Sync). A
// failed write may leave anything of itself: verify must never call that
// a problem (fio does).
func TestNoFalseAlarms(t *testing.T) {
	const off = 5 * testUnit
	for _, start := range []uint32{0, MaxGen - 40} {
		m := newTestMap(t, t.TempDir(), 8*testUnit, testUnit)
		dev := make([]byte, testUnit)
		buf := make([]byte, testUnit)
		wtime := int64(testWtime)
		if start > 0 {
			// Begin with an acknowledged write of generation start.
			Stamp(dev, off, start, testRun, wtime)
			m.Ack(off, start)
		}
		r := rand.New(rand.NewPCG(uint64(start), 9))
		type snap struct {
			gen     uint32
			pending bool
		}
		var synced []snap
		for step := range 3000 {
			g := m.Begin(off)
			wtime++
			Stamp(buf, off, g, testRun, wtime)
			what := "acknowledged"
			switch r.IntN(4) {
			case 0: // failed, nothing landed
				what = "failed, nothing landed"
			case 1: // failed, some sectors landed
				what = "failed, partly landed"
				for s := 0; s < testUnit; s += SectorSize {
					if r.IntN(2) == 0 {
						copy(dev[s:s+SectorSize], buf[s:s+SectorSize])
					}
				}
			case 2: // failed after landing whole (the ack was lost)
				what = "failed, landed whole"
				copy(dev, buf)
			default:
				copy(dev, buf)
				m.Ack(off, g)
			}
			gen, pending := m.Expect(off)
			synced = append(synced, snap{gen, pending})
			if len(synced) > 50 {
				synced = synced[1:]
			}
			if v := check(dev, off, gen, pending, testRun, CheckOptions{}, new(padCache)); v.class != OK {
				t.Fatalf("start %d step %d (%s, gen %d pending %v): live check %v: %s", start, step, what, gen, pending, v.class, v.detail)
			}
			old := synced[r.IntN(len(synced))]
			if v := check(dev, off, old.gen, old.pending, testRun, CheckOptions{AcceptNewer: true}, new(padCache)); v.class != OK {
				t.Fatalf("start %d step %d (%s): crash check against map (gen %d pending %v), now gen %d: %v: %s", start, step, what, old.gen, old.pending, gen, v.class, v.detail)
			}
		}
	}
}
