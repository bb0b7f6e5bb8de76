package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const (
	testRun   = 0x1234_5678_9abc_def0
	otherRun  = 0x0fed_cba9_8765_4321
	testUnit  = 4096
	testOff   = 2 * testUnit
	testWtime = 1_700_000_000_000_000_000
)

// stamped returns a unit stamped as the write of generation gen to off.
func stamped(off int64, gen uint32, wtime int64) []byte {
	b := make([]byte, testUnit)
	Stamp(b, off, gen, testRun, wtime)
	return b
}

// halves returns a unit whose first half is a and second half b (two
// writes of one unit, one torn across the other).
func halves(a, b []byte) []byte {
	u := append([]byte(nil), a...)
	copy(u[testUnit/2:], b[testUnit/2:])
	return u
}

func garbage(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, testUnit)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCheckClasses(t *testing.T) {
	ours := func(gen uint32) []byte { return stamped(testOff, gen, testWtime+int64(gen)) }
	foreign := make([]byte, testUnit)
	Stamp(foreign, testOff, 5, otherRun, testWtime)
	flipped := ours(5)
	flipped[100] ^= 1 // one bit of payload in sector 0
	flippedHeader := ours(5)
	flippedHeader[512+offGenRand] ^= 1 // sector 1's (masked) generation field
	cases := []struct {
		name    string
		buf     []byte
		gen     uint32
		pending bool
		newer   bool // CheckOptions.AcceptNewer (map from a crash)
		want    Class
		doubt   bool
		detail  string // a substring of the detail
	}{
		// The acknowledged generation, whole.
		{name: "ok", buf: ours(5), gen: 5, want: OK},
		// A write in flight at the fault that landed.
		{name: "pending new", buf: ours(5), gen: 5, pending: true, want: OK, doubt: true},
		// A write in flight that did not land: the previous generation.
		{name: "pending old", buf: ours(4), gen: 5, pending: true, want: OK, doubt: true},
		// A multi-sector write partially applied when it failed.
		{name: "pending mix", buf: halves(ours(4), ours(5)), gen: 5, pending: true, want: OK, doubt: true},
		// The first write to a unit, in flight: zeros were there before.
		{name: "pending first zeros", buf: make([]byte, testUnit), gen: 1, pending: true, want: OK, doubt: true},
		// The first write, in flight: whatever was there before, even garbage.
		{name: "pending first garbage", buf: garbage(1), gen: 1, pending: true, want: OK, doubt: true},
		// The first write, partially applied over old data.
		{name: "pending first torn", buf: halves(garbage(2), ours(1)), gen: 1, pending: true, want: OK, doubt: true},
		// After a wrap, generation 1 pending may find 32767.
		{name: "pending wrap", buf: ours(MaxGen), gen: 1, pending: true, want: OK, doubt: true},
		// Pending 5 may hold 4 or 5, not 3: the acknowledged 4 was lost.
		{name: "pending lost", buf: ours(3), gen: 5, pending: true, want: Lost, detail: "generation 3"},
		// Pending 5 after an acknowledged 4, and zeros: 4 vanished.
		{name: "pending unwritten", buf: make([]byte, testUnit), gen: 5, pending: true, want: Unwritten, detail: "8 sectors zero"},
		// The acknowledged write is not there, its predecessor is.
		{name: "lost", buf: ours(4), gen: 5, want: Lost, detail: "expected 5"},
		// 32767 is older than 1 after a wrap.
		{name: "lost across wrap", buf: ours(MaxGen), gen: 1, want: Lost},
		// 1 is newer than 32767 after a wrap: impossible in a live run.
		{name: "newer across wrap live", buf: ours(1), gen: MaxGen, want: Corrupt, detail: "newer"},
		// ... but after a crash the map may lag.
		{name: "newer across wrap crash", buf: ours(1), gen: MaxGen, newer: true, want: OK, doubt: true},
		// A newer generation in a live run.
		{name: "newer live", buf: ours(6), gen: 5, want: Corrupt, detail: "newer than the expected 5"},
		// A newer generation after a crash: the map lagged.
		{name: "newer crash", buf: ours(7), gen: 5, newer: true, want: OK, doubt: true},
		// A write in flight at the crash, partially applied, over a map that lagged.
		{name: "newer crash mixed", buf: halves(ours(6), ours(7)), gen: 5, newer: true, want: OK, doubt: true},
		// Crash semantics still catch a lost write.
		{name: "lost crash", buf: ours(4), gen: 5, newer: true, want: Lost},
		// Data written for another offset.
		{name: "misdirected", buf: stamped(testOff+5*testUnit, 5, testWtime), gen: 5, want: Misdirected, detail: "offset 28672"},
		// Misdirected even where the unit's write is in doubt.
		{name: "misdirected pending", buf: stamped(testOff+testUnit, 1, testWtime), gen: 1, pending: true, want: Misdirected},
		// Half the acknowledged write, half the one before.
		{name: "torn gens", buf: halves(ours(5), ours(4)), gen: 5, want: Torn, detail: "4 of 8 sectors"},
		// Half the acknowledged write, half zeros.
		{name: "torn zeros", buf: halves(ours(5), make([]byte, testUnit)), gen: 5, want: Torn, detail: "zeros"},
		// Two writes of the same generation (a failed one and its retry).
		{name: "torn wtime", buf: halves(stamped(testOff, 5, 1), stamped(testOff, 5, 2)), gen: 5, want: Torn, detail: "write times differ"},
		// A flipped payload bit.
		{name: "corrupt payload", buf: flipped, gen: 5, want: Corrupt, detail: "sector at byte 8192: header intact, payload differs from the one stamped from sector byte 100 on"},
		// A flipped header bit.
		{name: "corrupt header", buf: flippedHeader, gen: 5, want: Corrupt, detail: "sector at byte 8704: stamp checksum"},
		// Random data.
		{name: "corrupt garbage", buf: garbage(3), gen: 5, want: Corrupt, detail: "no stamp, non-zero data"},
		// A damaged sector in a pending unit is still corrupt.
		{name: "corrupt pending", buf: halves(ours(5), garbage(4)), gen: 5, pending: true, want: Corrupt},
		// Zeros where a write was acknowledged.
		{name: "unwritten zeros", buf: make([]byte, testUnit), gen: 5, want: Unwritten, detail: "8 sectors zero"},
		// A previous run's data.
		{name: "unwritten other run", buf: foreign, gen: 5, want: Unwritten, detail: "from run 0fedcba987654321"},
		// A buffer that is not whole sectors.
		{name: "bad length", buf: make([]byte, 1000), gen: 5, want: Corrupt, detail: "not a positive multiple"},
		// An empty buffer.
		{name: "empty", buf: nil, gen: 5, want: Corrupt},
		// An expected generation outside the map's range.
		{name: "bad expected gen", buf: ours(5), gen: 40000, want: Corrupt, detail: "outside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := check(c.buf, testOff, c.gen, c.pending, testRun, CheckOptions{AcceptNewer: c.newer}, new(padCache))
			if v.class != c.want || v.inDoubt != c.doubt || !strings.Contains(v.detail, c.detail) {
				t.Fatalf("got %v (in doubt %v) %q, want %v (in doubt %v) with %q", v.class, v.inDoubt, v.detail, c.want, c.doubt, c.detail)
			}
			if (v.class == OK) != (v.detail == "") {
				t.Fatalf("class %v with detail %q: problems need a detail, ok needs none", v.class, v.detail)
			}
			cl, d := Check(c.buf, testOff, c.gen, c.pending, testRun, CheckOptions{AcceptNewer: c.newer})
			if cl != v.class || d != v.detail {
				t.Fatalf("Check %v %q differs from check %v %q", cl, d, v.class, v.detail)
			}
		})
	}
}

// TestStampRoundTrip stamps buffers of several sizes and checks each sector
// alone and the whole buffer as one unit.
func TestStampRoundTrip(t *testing.T) {
	for _, n := range []int{512, 4096, 65536, 1 << 20} {
		buf := make([]byte, n)
		off := int64(7 << 20)
		Stamp(buf, off, 42, testRun, testWtime)
		if c, d := Check(buf, off, 42, false, testRun, CheckOptions{}); c != OK {
			t.Fatalf("%d bytes: %v %s", n, c, d)
		}
		for i := 0; i < n; i += SectorSize {
			if c, d := Check(buf[i:i+SectorSize], off+int64(i), 42, false, testRun, CheckOptions{}); c != OK {
				t.Fatalf("%d bytes, sector %d: %v %s", n, i/SectorSize, c, d)
			}
		}
	}
}

// TestStampPayload checks that stamped data neither compresses nor
// repeats: ZFS-backed targets compress and deduplicate. 1 MiB of one write,
// then the same range rewritten by 7 more writes (other generations and
// times), must not compress with zstd or gzip, and every one of the 16,384
// sectors must be distinct (whole sectors and payloads alike).
func TestStampPayload(t *testing.T) {
	const size, writes = 1 << 20, 8
	all := make([]byte, 0, size*writes)
	for w := range writes {
		buf := make([]byte, size)
		Stamp(buf, 0, uint32(w%3)+1, testRun, testWtime+int64(w/3))
		all = append(all, buf...)
	}
	one := all[:size]
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(one)
	w.Close()
	// A window over all the writes, so a repeat between any two counts.
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(8<<20))
	zs := enc.EncodeAll(all, nil)
	enc.Close()
	// Nothing may compress: the headers are masked by each sector's key
	// (format 2's compressed, its magic and run id repeating: 0.914 at
	// best), and the payload is random. ZFS keeps a record compressed
	// only if that saves at least 12.5%; a compressor that finds nothing
	// stores the data with a few bytes of framing.
	for _, c := range []struct {
		name    string
		in, out int
	}{{"gzip -9 of one 1 MiB write", len(one), gz.Len()}, {"zstd of 8 writes, 8 MiB window", len(all), len(zs)}} {
		ratio := float64(c.out) / float64(c.in)
		t.Logf("%s: %.3f", c.name, ratio)
		if ratio < 0.995 {
			t.Errorf("%s compresses to %.3f of its size", c.name, ratio)
		}
	}
	sectors := map[string]int{}
	payloads := map[string]int{}
	for i := 0; i < len(all); i += SectorSize {
		if j, dup := sectors[string(all[i:i+SectorSize])]; dup {
			t.Fatalf("sectors %d and %d are equal", j, i/SectorSize)
		}
		sectors[string(all[i:i+SectorSize])] = i / SectorSize
		p := string(all[i+offPayload : i+SectorSize])
		if j, dup := payloads[p]; dup {
			t.Fatalf("sectors %d and %d have the same payload", j, i/SectorSize)
		}
		payloads[p] = i / SectorSize
	}
}

// TestStamperMatchesStamp: a worker's Stamper writes the bytes StampN
// writes, full and compress-style.
func TestStamperMatchesStamp(t *testing.T) {
	st := NewStamper(testRun)
	for _, random := range []int{PayloadLen, 200, 8, 0} {
		a, b := make([]byte, 8192), make([]byte, 8192)
		StampN(a, testOff, 9, testRun, testWtime, random)
		st.StampN(b, testOff, 9, testWtime, random)
		if !bytes.Equal(a, b) {
			t.Fatalf("random %d: Stamper and StampN differ", random)
		}
	}
}

// TestFormat1Stamps checks units stamped by lunbench before format 2
// (testdata/format1-units.bin, written by that version's Stamp and StampN:
// a 4 KiB unit at testOff, generation 5, and the next unit with 120 random
// payload bytes): a results directory's map from then still verifies, and
// damage to such a unit is still found by its CRC32C.
func TestFormat1Stamps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "format1-units.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(b); got != stampMagicV1 {
		t.Fatalf("fixture magic %x is not format 1's", got)
	}
	for u := 0; u < 2; u++ {
		unit := b[u*testUnit : (u+1)*testUnit]
		if c, d := Check(unit, testOff+int64(u*testUnit), 5, false, testRun, CheckOptions{}); c != OK {
			t.Errorf("format-1 unit %d: %v %s", u, c, d)
		}
		if c, _ := Check(unit, testOff+int64(u*testUnit), 6, false, testRun, CheckOptions{}); c != Lost {
			t.Errorf("format-1 unit %d against generation 6: %v, want lost", u, c)
		}
		bad := append([]byte(nil), unit...)
		bad[700] ^= 0x10
		if c, d := Check(bad, testOff+int64(u*testUnit), 5, false, testRun, CheckOptions{}); c != Corrupt || !strings.Contains(d, "sector at byte "+strconv.Itoa(testOff+u*testUnit+512)+": stamp checksum") {
			t.Errorf("format-1 unit %d with a flipped bit: %v %q", u, c, d)
		}
	}
}

// TestStampDamage flips every byte of a format-3 sector in turn, full and
// compress-style: each change must be found (a stamp whose key does not
// match its fields, a sector that is no stamp, or a payload that is not
// what the header generates), never pass.
func TestStampDamage(t *testing.T) {
	for _, random := range []int{PayloadLen, 120, 0} {
		good := make([]byte, SectorSize)
		StampN(good, testOff, 5, testRun, testWtime, random)
		flipEach(t, good, "format 3, random "+strconv.Itoa(random))
	}
}

// TestFormat2Stamps checks units stamped by lunbench before format 3
// (testdata/format2-units.bin, written by that version's StampN: a 4 KiB
// unit at testOff, generation 5, and the next unit with 120 random payload
// bytes): they still verify, and a flip of any byte of their first sector
// is found.
func TestFormat2Stamps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "format2-units.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(b); got != stampMagic {
		t.Fatalf("fixture magic %x is not format 2's", got)
	}
	for u := 0; u < 2; u++ {
		unit := b[u*testUnit : (u+1)*testUnit]
		off := testOff + int64(u*testUnit)
		if c, d := Check(unit, off, 5, false, testRun, CheckOptions{}); c != OK {
			t.Errorf("format-2 unit %d: %v %s", u, c, d)
		}
		if c, _ := Check(unit, off, 6, false, testRun, CheckOptions{}); c != Lost {
			t.Errorf("format-2 unit %d against generation 6: %v, want lost", u, c)
		}
		if c, _ := Check(unit, off+testUnit, 5, false, testRun, CheckOptions{}); c != Misdirected {
			t.Errorf("format-2 unit %d at the next offset: %v, want misdirected", u, c)
		}
		flipEach(t, unit[:SectorSize], "format 2, unit "+strconv.Itoa(u))
	}
}

// flipEach flips each byte of the one-sector stamp good (of generation 5
// at testOff) in turn, and fails when Check passes any of them.
func flipEach(t *testing.T, good []byte, what string) {
	t.Helper()
	for i := range SectorSize {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if c, _ := Check(bad, testOff, 5, false, testRun, CheckOptions{}); c == OK {
			t.Fatalf("%s: flipping byte %d passes", what, i)
		}
	}
}

func TestGenDiff(t *testing.T) {
	cases := []struct {
		g, e uint32
		want int
	}{
		{5, 5, 0},                      // equal
		{4, 5, -1},                     // one older
		{6, 5, 1},                      // one newer
		{MaxGen, 1, -1},                // wrap: 32767 precedes 1
		{1, MaxGen, 1},                 // wrap: 1 follows 32767
		{2, MaxGen - 1, 3},             // wrap by three
		{1, 1 + MaxGen/2, -MaxGen / 2}, // half the circle away
	}
	for _, c := range cases {
		if got := genDiff(c.g, c.e); got != c.want {
			t.Errorf("genDiff(%d, %d) = %d, want %d", c.g, c.e, got, c.want)
		}
	}
	if nextGen(MaxGen) != 1 || nextGen(0) != 1 || nextGen(7) != 8 {
		t.Fatal("nextGen does not wrap 32767 -> 1")
	}
}

// TestHotPathAllocs: the engine calls Stamp, Begin, Ack and Check per I/O.
func TestHotPathAllocs(t *testing.T) {
	buf := make([]byte, 1<<20)
	m := newTestMap(t, t.TempDir(), 64<<20, testUnit)
	if n := testing.AllocsPerRun(100, func() {
		g := m.Begin(testOff)
		Stamp(buf, testOff, g, testRun, testWtime)
		m.Ack(testOff, g)
	}); n != 0 {
		t.Errorf("Begin+Stamp+Ack: %v allocations", n)
	}
	st := NewStamper(testRun)
	if n := testing.AllocsPerRun(100, func() { st.StampN(buf, testOff, 7, testWtime, PayloadLen) }); n != 0 {
		t.Errorf("Stamper.StampN: %v allocations", n)
	}
	// Generations above 255 too: fmt boxes small integers for free.
	Stamp(buf[:testUnit], testOff, 3000, testRun, testWtime)
	for _, pending := range []bool{false, true} {
		if n := testing.AllocsPerRun(100, func() { Check(buf[:testUnit], testOff, 3000, pending, testRun, CheckOptions{}) }); n != 0 {
			t.Errorf("Check of a good unit (pending %v): %v allocations", pending, n)
		}
	}
}

// FuzzCheck feeds Check arbitrary units: it must never panic, always give
// a known class, and give a detail exactly when the class is a problem.
func FuzzCheck(f *testing.F) {
	f.Add(stamped(testOff, 5, testWtime), int64(testOff), uint32(5), false, uint64(testRun), false)
	f.Add(stamped(testOff, 5, testWtime)[:512], int64(testOff), uint32(6), true, uint64(testRun), true)
	f.Add(garbage(9)[:1024], int64(0), uint32(1), true, uint64(0), false)
	f.Add([]byte{1, 2, 3}, int64(-1), uint32(1<<31), false, uint64(1), false)
	f.Fuzz(func(t *testing.T, buf []byte, off int64, gen uint32, pending bool, runID uint64, newer bool) {
		c, d := Check(buf, off, gen, pending, runID, CheckOptions{AcceptNewer: newer})
		if c >= NumClasses {
			t.Fatalf("class %d", c)
		}
		if (c == OK) != (d == "") {
			t.Fatalf("class %v with detail %q", c, d)
		}
	})
}
