package verify

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

// MaxGen is the largest generation: the map keeps 15 bits of it, and
// after MaxGen the next write's generation is 1 (0 means never written).
const MaxGen = 1<<15 - 1

// CheckOptions tunes how Check judges a unit.
type CheckOptions struct {
	// AcceptNewer accepts a generation newer than the map's. Set it when
	// the map was read back after a crash (OpenMap): the map on disk lags
	// the writes by up to one Sync, so a unit may legitimately hold a
	// later generation than the map says, or a mix of it and the map's
	// one (a write in flight at the crash). In a live run a newer
	// generation cannot happen and is corrupt.
	AcceptNewer bool
}

// genDiff is g - e on the generation circle 1..MaxGen, in
// (-MaxGen/2, MaxGen/2]: negative means g is older than e.
func genDiff(g, e uint32) int {
	d := (int(g) - int(e)) % MaxGen
	if d < 0 {
		d += MaxGen
	}
	if d > MaxGen/2 {
		d -= MaxGen
	}
	return d
}

// nextGen is the generation after g.
func nextGen(g uint32) uint32 {
	if g >= MaxGen {
		return 1
	}
	return g + 1
}

// verdict is Check's answer plus whether the unit was accepted only because
// its last write is in doubt (pending, or newer than a lagging map).
type verdict struct {
	class   Class
	detail  string
	inDoubt bool
}

// Check classifies one unit read back from device offset off (buf holds the
// unit's bytes, a multiple of SectorSize) against the generation the map
// expects (gen, pending; see Map.Expect) for run runID:
//
//   - ok: every sector is a valid stamp of this run for its own offset with
//     the expected generation, all from the same write (same gen and write
//     time). If pending (a write was issued and not acknowledged), each
//     sector may hold gen or gen-1, mixed, and with gen-1 == 0 any content
//     at all stands for "what was there before".
//   - misdirected: a valid stamp of this run naming another offset (the
//     detail names it). Reported even in a pending unit: no write of this
//     run was ever meant for this place.
//   - lost: this unit's own stamps, all older than expected (15-bit
//     modular comparison).
//   - torn: sectors of one unit from different writes (some expected, some
//     older, zero or foreign) where no write was in doubt.
//   - unwritten: every sector zero or a valid stamp of another run.
//   - corrupt: our magic with a bad checksum, non-zero garbage, or a
//     generation newer than expected (unless opts.AcceptNewer).
//
// Check never panics on any content or length of buf.
func Check(buf []byte, off int64, gen uint32, pending bool, runID uint64, opts CheckOptions) (Class, string) {
	var pads padCache
	v := check(buf, off, gen, pending, runID, opts, &pads)
	return v.class, v.detail
}

// Checker checks the units of one run as Check does, keeping the pad of
// the run whose stamps it saw last instead of making it each call (59
// multiplies, a sixth of checking a good 4 KiB unit). A worker keeps one;
// it is not for concurrent use.
type Checker struct {
	runID uint64
	pads  padCache
}

// NewChecker returns a Checker for run runID.
func NewChecker(runID uint64) *Checker { return &Checker{runID: runID} }

// Check is the package's Check for c's run. A good unit costs no
// allocation.
func (c *Checker) Check(buf []byte, off int64, gen uint32, pending bool, opts CheckOptions) (Class, string) {
	v := check(buf, off, gen, pending, c.runID, opts, &c.pads)
	return v.class, v.detail
}

// unitTally is what a unit's sectors hold. For each kind of problem it
// keeps the first sector's offset (-1: none) and what that sector held, for
// the detail message.
type unitTally struct {
	sectors int

	// Content from before this run's writes.
	zero, foreign int    // zero sectors; valid stamps of another run
	foreignRun    uint64 // the first other run's id
	priorAt       int64  // first zero, foreign or (with anyPrior) older sector

	// Our stamps within the accepted generations: the first one's
	// identity, whether all agree with it, and whether any is newer than
	// the map (accepted after a crash).
	accepted   int
	firstGen   uint32
	firstWtime int64
	mixed      bool
	anyNewer   bool

	// Our stamps for this offset, older than accepted.
	older      int
	olderAt    int64
	olderGen   uint32
	olderWtime int64

	// Problems, worst first: a stamp naming another offset (misFor, with
	// generation misGen); a valid stamp with generation 0 or > MaxGen; a
	// generation newer than expected in a live run; our magic with a bad
	// checksum; no magic and not zero.
	misAt, misFor          int64
	misGen                 uint32
	badGenAt               int64
	badGen                 uint32
	newerAt                int64
	newerGen               uint32
	badCRCAt               int64
	storedCRC, computedCRC uint64
	// A stamp whose header checks but whose payload is not
	// what the header generates: badDataByte is the first sector byte
	// that differs.
	badDataAt, badDataByte int64
	garbageAt              int64
}

// check is Check, also saying whether the unit passed only as in doubt.
func check(buf []byte, off int64, gen uint32, pending bool, runID uint64, opts CheckOptions, pads *padCache) verdict {
	if len(buf) == 0 || len(buf)%SectorSize != 0 {
		return verdict{class: Corrupt, detail: fmt.Sprintf("unit buffer of %d bytes is not a positive multiple of %d", len(buf), SectorSize)}
	}
	if gen > MaxGen {
		return verdict{class: Corrupt, detail: fmt.Sprintf("expected generation %d is outside 0..%d", gen, MaxGen)}
	}
	// anyPrior: the unit's content before this run's first write to it is
	// acceptable, whatever it is. gen 1 pending covers both a first write
	// and the write after a wrap from MaxGen, which the map cannot tell
	// apart.
	anyPrior := gen == 0 || (pending && gen == 1)
	lo := 0 // lowest accepted genDiff
	if pending && gen > 1 {
		lo = -1
	}
	t := unitTally{garbageAt: -1, badCRCAt: -1, misAt: -1, olderAt: -1, newerAt: -1, priorAt: -1, badGenAt: -1, badDataAt: -1}
	for i := 0; i < len(buf); i += SectorSize {
		s := (*[SectorSize]byte)(buf[i : i+SectorSize])
		at := off + int64(i)
		t.sectors++
		h, ok := t.intact(s, at, pads)
		if !ok {
			continue
		}
		if h.runID != runID {
			if t.foreign == 0 {
				t.foreignRun = h.runID
			}
			t.foreign++
			if t.priorAt < 0 {
				t.priorAt = at
			}
			continue
		}
		g := h.gen
		if h.off != at {
			if t.misAt < 0 {
				t.misAt, t.misFor, t.misGen = at, h.off, g
			}
			continue
		}
		if g == 0 || g > MaxGen {
			// Stamp never writes these: a valid check over an impossible
			// generation is a bug upstream, not a device fault, but the
			// block still cannot be trusted.
			if t.badGenAt < 0 {
				t.badGenAt, t.badGen = at, g
			}
			continue
		}
		w := h.wtime
		d := genDiff(g, gen)
		switch {
		case d > 0 && !opts.AcceptNewer:
			if t.newerAt < 0 {
				t.newerAt, t.newerGen = at, g
			}
		case d < lo && anyPrior:
			// Older than anything this run acknowledged here: prior
			// content (the generation before a wrap).
			if t.priorAt < 0 {
				t.priorAt = at
			}
		case d < lo:
			t.older++
			if t.olderAt < 0 {
				t.olderAt, t.olderGen, t.olderWtime = at, g, w
			}
		default:
			if d > 0 {
				t.anyNewer = true
			}
			if t.accepted == 0 {
				t.firstGen, t.firstWtime = g, w
			} else if g != t.firstGen || w != t.firstWtime {
				t.mixed = true
			}
			t.accepted++
		}
	}
	return t.classify(gen, pending, anyPrior)
}

// castagnoli is CRC32C: hardware-accelerated on amd64 and arm64, which the
// plain IEEE table is not to the same degree. crc32.MakeTable returns a
// shared table without allocating after the first call, but a package
// variable would be mutable state, so callers ask for it each time. The map
// header and format-1 stamps use it.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// padCache keeps the pad Check generated last: a unit's sectors, and
// usually all a check sees, come from one run, which needs it once.
type padCache struct {
	ok     bool
	runID  uint64
	values [padWords]uint64
}

func (c *padCache) get(runID uint64) *[padWords]uint64 {
	if !c.ok || c.runID != runID {
		makePad(&c.values, runID)
		c.ok, c.runID = true, runID
	}
	return &c.values
}

// intact reports whether sector s (at device byte at) is a whole stamp of
// any format, and its header if so, tallying what it holds instead when it
// is not: zeros, garbage, a stamp whose check fails, or a payload that is
// not what its header generates.
func (t *unitTally) intact(s *[SectorSize]byte, at int64, pads *padCache) (header, bool) {
	if h, k, ok := readHeader3(s); ok {
		if c := h.key(); c != k {
			t.badCheck(at, k, c)
			return header{}, false
		}
		pad := pads.get(h.runID)
		return h, t.payloadOK(at, payloadMismatch3(s, pad, k, h.random))
	}
	switch binary.LittleEndian.Uint64(s[offMagic:]) {
	case stampMagic:
		h := readHeader2(s)
		stored := binary.LittleEndian.Uint32(s[offCheck2:])
		k := seed2(h)
		if c := headerCheck(k, h.random); c != stored {
			t.badCheck(at, uint64(stored), uint64(c))
			return header{}, false
		}
		return h, t.payloadOK(at, payloadMismatch2(s, pads.get(h.runID), k))
	case stampMagicV1:
		stored := binary.LittleEndian.Uint32(s[offCheck2:])
		if c := crc32.Checksum(s[:offCheck2], castagnoli()); c != stored {
			t.badCheck(at, uint64(stored), uint64(c))
			return header{}, false
		}
		return readHeader2(s), true
	}
	if allZero(s[:]) {
		t.zero++
		if t.priorAt < 0 {
			t.priorAt = at
		}
	} else if t.garbageAt < 0 {
		t.garbageAt = at
	}
	return header{}, false
}

// badCheck tallies a stamp whose header check fails: the check it holds
// (format 3: its key) and the one its fields give.
func (t *unitTally) badCheck(at int64, stored, computed uint64) {
	if t.badCRCAt < 0 {
		t.badCRCAt, t.storedCRC, t.computedCRC = at, stored, computed
	}
}

// payloadOK tallies a stamp whose payload differs from its header's from
// sector byte b (-1: it does not) and says whether it is intact.
func (t *unitTally) payloadOK(at int64, b int) bool {
	if b < 0 {
		return true
	}
	if t.badDataAt < 0 {
		t.badDataAt, t.badDataByte = at, int64(b)
	}
	return false
}

// classify turns the tally into a verdict, worst finding first.
func (t *unitTally) classify(gen uint32, pending, anyPrior bool) verdict {
	switch {
	case t.misAt >= 0:
		return verdict{class: Misdirected, detail: fmt.Sprintf("sector at byte %d holds data written for offset %d (generation %d)", t.misAt, t.misFor, t.misGen)}
	case t.badGenAt >= 0:
		return verdict{class: Corrupt, detail: fmt.Sprintf("sector at byte %d: valid stamp with impossible generation %d", t.badGenAt, t.badGen)}
	case t.newerAt >= 0:
		return verdict{class: Corrupt, detail: fmt.Sprintf("sector at byte %d holds generation %d, newer than the expected %d", t.newerAt, t.newerGen, gen)}
	case anyPrior:
		// Garbage, bad checksums, zeros, other runs: all may be what was
		// there before the first write.
		return verdict{class: OK, inDoubt: pending}
	case t.badCRCAt >= 0:
		return verdict{class: Corrupt, detail: fmt.Sprintf("sector at byte %d: stamp checksum 0x%08x, computed 0x%08x", t.badCRCAt, t.storedCRC, t.computedCRC)}
	case t.badDataAt >= 0:
		return verdict{class: Corrupt, detail: fmt.Sprintf("sector at byte %d: header intact, payload differs from the one stamped from sector byte %d on", t.badDataAt, t.badDataByte)}
	case t.garbageAt >= 0:
		return verdict{class: Corrupt, detail: fmt.Sprintf("sector at byte %d: no stamp, non-zero data", t.garbageAt)}
	}
	switch {
	case t.accepted == 0 && t.older == 0:
		return verdict{class: Unwritten, detail: t.priorDetail(expected(gen, pending))}
	case t.accepted == 0:
		d := fmt.Sprintf("holds generation %d written %s, expected %s", t.olderGen, time.Unix(0, t.olderWtime).UTC().Format(time.RFC3339Nano), expected(gen, pending))
		if t.older < t.sectors {
			d += fmt.Sprintf(" (%d of %d sectors older, the rest zero or another run's)", t.older, t.sectors)
		}
		return verdict{class: Lost, detail: d}
	case t.accepted < t.sectors:
		first := t.olderAt
		what := fmt.Sprintf("generation %d", t.olderGen)
		if first < 0 || (t.priorAt >= 0 && t.priorAt < first) {
			first, what = t.priorAt, "zeros or another run's data"
		}
		return verdict{class: Torn, detail: fmt.Sprintf("%d of %d sectors hold %s; sector at byte %d holds %s", t.accepted, t.sectors, expected(gen, pending), first, what)}
	case t.mixed && !pending && !t.anyNewer:
		return verdict{class: Torn, detail: fmt.Sprintf("sectors from different writes of generation %d: write times differ", gen)}
	}
	return verdict{class: OK, inDoubt: pending || t.anyNewer}
}

// expected names what a unit should hold, for details. Only problems call
// it: formatting allocates, and a good unit must not.
func expected(gen uint32, pending bool) string {
	if pending {
		return fmt.Sprintf("%d or %d (write in doubt)", gen-1, gen)
	}
	return fmt.Sprint(gen)
}

// priorDetail describes a unit holding nothing of this run.
func (t *unitTally) priorDetail(want string) string {
	d := fmt.Sprintf("no stamp of this run, expected generation %s:", want)
	if t.zero > 0 {
		d += fmt.Sprintf(" %d sectors zero", t.zero)
	}
	if t.foreign > 0 {
		if t.zero > 0 {
			d += ","
		}
		d += fmt.Sprintf(" %d sectors from run %016x", t.foreign, t.foreignRun)
	}
	return d
}

// allZero reports whether every byte of s is zero, eight at a time.
func allZero(s []byte) bool {
	for len(s) >= 8 {
		if binary.LittleEndian.Uint64(s) != 0 {
			return false
		}
		s = s[8:]
	}
	for _, b := range s {
		if b != 0 {
			return false
		}
	}
	return true
}
