package verify

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newTestMap creates a map over [0, length) in dir and closes it at the end
// of the test.
func newTestMap(t testing.TB, dir string, length, unit int64) *Map {
	t.Helper()
	m, err := CreateMap(MapPath(dir, "lun0"), Header{RunID: testRun, Length: length, Unit: unit, Target: "lun0", Device: "/dev/test", DeviceSize: length})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestHeaderRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := Header{
		RunID: 0xfeedface, Base: 1 << 20, Length: 10 << 20, Unit: 64 << 10,
		Target: "lun-0.a_b", Device: "/dev/disk/by-path/ip-198.18.0.1:3260-iscsi-iqn.2026-01.test:t0-lun-0",
		DeviceSize: 1 << 30, Created: time.Date(2026, 11, 23, 11, 0, 0, 123456789, time.UTC),
	}
	p := MapPath(dir, want.Target)
	if p != filepath.Join(dir, "verify", "lun-0.a_b.genmap") {
		t.Fatalf("MapPath = %s", p)
	}
	m, err := CreateMap(p, want)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Begin(want.Base + 3*want.Unit + 5)
	m.Ack(want.Base+3*want.Unit, g)
	m.Begin(want.Base + 159*want.Unit) // the last unit, left pending
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenMap(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.Header(); got != want {
		t.Fatalf("header\n got %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		unit    int64
		gen     uint32
		pending bool
	}{{3, 1, false}, {159, 1, true}, {0, 0, false}, {4, 0, false}} {
		if g, p := r.Expect(want.Base + c.unit*want.Unit); g != c.gen || p != c.pending {
			t.Errorf("unit %d: gen %d pending %v, want %d %v", c.unit, g, p, c.gen, c.pending)
		}
	}
}

// TestBeginAck walks one unit through failed writes, acknowledged writes
// and the wrap from 32767 to 1.
func TestBeginAck(t *testing.T) {
	m := newTestMap(t, t.TempDir(), 1<<20, 4096)
	const off = 4096 * 9
	steps := []struct {
		op      string // begin or ack
		gen     uint32 // what Begin returns, or what Ack stores
		pending bool   // Expect afterwards
	}{
		{"begin", 1, true},     // the first write
		{"begin", 1, true},     // it failed: the retry reuses 1
		{"ack", 1, false},      // acknowledged
		{"begin", 2, true},     // the next write
		{"ack", 2, false},      // acknowledged
		{"ack", MaxGen, false}, // fast-forward to the top
		{"begin", 1, true},     // 32767 wraps to 1, never 0
		{"ack", 1, false},
		{"begin", 2, true},
	}
	for i, s := range steps {
		switch s.op {
		case "begin":
			if g := m.Begin(off); g != s.gen {
				t.Fatalf("step %d: Begin = %d, want %d", i, g, s.gen)
			}
		case "ack":
			m.Ack(off, s.gen)
		}
		if g, p := m.Expect(off); g != s.gen || p != s.pending {
			t.Fatalf("step %d: Expect = %d %v, want %d %v", i, g, p, s.gen, s.pending)
		}
	}
	if g, p := m.Expect(off - 4096); g != 0 || p {
		t.Fatalf("neighbour unit touched: %d %v", g, p)
	}
}

func TestCreateMapErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.genmap")
	os.WriteFile(existing, nil, 0o644)
	cases := []struct {
		name string
		path string
		h    Header
		want string
	}{
		// A unit that is not whole sectors.
		{"unit", "a", Header{Length: 1 << 20, Unit: 1000}, "unit 1000"},
		// A range shorter than one unit.
		{"short", "b", Header{Length: 100, Unit: 4096}, "shorter than one unit"},
		// A base that is not sector-aligned.
		{"base", "c", Header{Base: 100, Length: 1 << 20, Unit: 4096}, "base 100"},
		// A range past the device's end.
		{"past end", "d", Header{Base: 4096, Length: 1 << 20, Unit: 4096, DeviceSize: 1 << 20}, "past the device size"},
		// A map that exists: a crash's map is never overwritten.
		{"exists", existing, Header{Length: 1 << 20, Unit: 4096}, "exists"},
		// A target name too long for the header.
		{"name", "e", Header{Length: 1 << 20, Unit: 4096, Target: strings.Repeat("x", 300)}, "target name"},
	}
	for _, c := range cases {
		p := c.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m, err := CreateMap(p, c.h)
		if err == nil {
			m.Close()
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestOpenMapBad: files that are not maps, or damaged ones, give an error
// naming the file and what was wrong, never a panic.
func TestOpenMapBad(t *testing.T) {
	dir := t.TempDir()
	good := newTestMap(t, dir, 1<<20, 4096)
	good.Close()
	valid, err := os.ReadFile(good.Path())
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), valid...)) }
	cases := []struct {
		name string
		data []byte // nil: no file at all
		want string
	}{
		// No such file.
		{"missing", nil, "no such file"},
		// An empty file, as a crash before the header was written leaves.
		{"empty", []byte{}, "shorter than its 4096-byte header"},
		// Some other file.
		{"text", []byte("hello, world\n"), "shorter than its 4096-byte header"},
		// A page of garbage.
		{"garbage", garbage(7)[:4096], "not a lunbench generation map"},
		// The header only: the units are missing.
		{"truncated", valid[:4096], "expected 4608 for 256 units"},
		// One byte short.
		{"short by one", valid[:len(valid)-1], "truncated or damaged"},
		// A flipped bit in the header.
		{"header bit", mod(func(b []byte) []byte { b[hUnit] ^= 1; return b }), "header checksum"},
		// A later format.
		{"version", mod(func(b []byte) []byte { b[hVersion] = 9; return b }), "format version 9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".genmap")
			if c.data != nil {
				if err := os.WriteFile(p, c.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := OpenMap(p)
			if err == nil {
				m.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("%v, want %q and the file name", err, c.want)
			}
		})
	}
	// A directory is not a map either.
	if _, err := OpenMap(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}

// TestReadOnlyMap: a map opened for checking refuses to be written with a
// message, rather than faulting on the read-only mapping.
func TestReadOnlyMap(t *testing.T) {
	m := newTestMap(t, t.TempDir(), 1<<20, 4096)
	m.Close()
	r, err := OpenMap(m.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer func() {
		if e := recover(); e == nil || !strings.Contains(e.(string), "read-only") {
			t.Fatalf("recovered %v", e)
		}
	}()
	r.Begin(0)
}

// TestMapSurvivesKill: what Begin and Ack stored is in the file even when
// the process is killed without Sync or Close (MAP_SHARED: the kernel owns
// the pages). The test runs itself as the child that is killed.
func TestMapSurvivesKill(t *testing.T) {
	if p := os.Getenv("LUNBENCH_VERIFY_CHILD_MAP"); p != "" {
		m, err := CreateMap(p, Header{RunID: testRun, Length: 1 << 20, Unit: 4096})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for u := range int64(100) {
			g := m.Begin(u * 4096)
			m.Ack(u*4096, g)
			m.Ack(u*4096, m.Begin(u*4096))
		}
		m.Begin(100 * 4096) // in flight when killed
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	p := filepath.Join(t.TempDir(), "child.genmap")
	child := exec.Command(os.Args[0], "-test.run=^TestMapSurvivesKill$")
	child.Env = append(os.Environ(), "LUNBENCH_VERIFY_CHILD_MAP="+p)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if line != "ready\n" {
		t.Fatalf("child said %q", line)
	}
	m, err := OpenMap(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range []struct {
		unit    int64
		gen     uint32
		pending bool
	}{
		{0, 2, false},   // written twice, acknowledged
		{99, 2, false},  // the last acknowledged unit
		{100, 1, true},  // the write in flight at the kill
		{101, 0, false}, // never written
	} {
		if g, pend := m.Expect(c.unit * 4096); g != c.gen || pend != c.pending {
			t.Errorf("unit %d: gen %d pending %v, want %d %v", c.unit, g, pend, c.gen, c.pending)
		}
	}
}

// TestForget marks the units an unverified write overlaps as unknown: a
// write covering part of a unit forgets the whole unit, a write past the
// map's range is clipped, untouched units keep their generation, and the
// unit's next verified write starts at generation 1.
func TestForget(t *testing.T) {
	const unit = 8192
	m := newTestMap(t, t.TempDir(), 16*unit+4096, unit) // 16 whole units and a tail
	for u := int64(0); u < 16; u++ {
		m.Ack(u*unit, m.Begin(u*unit))
	}
	tests := []struct {
		off, n int64
		forgot []int64 // units that must be unknown afterwards
	}{
		// Exactly one unit.
		{2 * unit, unit, []int64{2}},
		// 4 KiB in the middle of unit 5 and 4 KiB spanning units 6 and 7.
		{5*unit + 2048, 4096, []int64{5}},
		{7*unit - 2048, 4096, []int64{6, 7}},
		// The last unit and the tail outside the map: clipped, no panic.
		{15 * unit, 2 * unit, []int64{15}},
	}
	forgot := map[int64]bool{}
	for _, tt := range tests {
		m.Forget(tt.off, tt.n)
		for _, u := range tt.forgot {
			forgot[u] = true
		}
	}
	for u := int64(0); u < 16; u++ {
		gen, _ := m.Expect(u * unit)
		if m.Unknown(u*unit) != forgot[u] || (gen == 0) != forgot[u] {
			t.Errorf("unit %d: unknown %v gen %d, want unknown %v", u, m.Unknown(u*unit), gen, forgot[u])
		}
	}
	if g := m.Begin(2 * unit); g != 1 {
		t.Errorf("first verified write after Forget: generation %d, want 1", g)
	}
	if a := testing.AllocsPerRun(100, func() { m.Forget(3*unit, 4*unit) }); a != 0 {
		t.Errorf("Forget allocates %v times", a)
	}
}

// mountTinyTmpfs mounts a tmpfs of size bytes on a new directory and
// unmounts it at the end of the test. It skips without root.
func mountTinyTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("lbhost-tmpfs-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("lbhost-tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestCreateMapFullDisk is issue 11's SIGBUS: a map for a 4 GiB target
// (2 MiB of generations) on a 2 MiB filesystem was created sparse and
// crashed at the first store past the free space. CreateMap must fail
// with ENOSPC instead, and leave no file behind.
func TestCreateMapFullDisk(t *testing.T) {
	dir := mountTinyTmpfs(t, "2m")
	p := MapPath(dir, "lun0")
	_, err := CreateMap(p, Header{RunID: testRun, Length: 4 << 30, Unit: 4096, Target: "lun0", Device: "/dev/test", DeviceSize: 4 << 30})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "reserve 2.0 MiB for the map") {
		t.Fatalf("CreateMap on a full disk: %v, want ENOSPC while reserving 2.0 MiB", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("a failed map was left behind: %v", err)
	}
	// A map that fits is allocated whole: its blocks match its size.
	m := newTestMap(t, dir, 256<<20, 4096)
	var st syscall.Stat_t
	if err := syscall.Stat(m.path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 < st.Size {
		t.Fatalf("map of %d bytes has %d bytes allocated: sparse", st.Size, st.Blocks*512)
	}
}
