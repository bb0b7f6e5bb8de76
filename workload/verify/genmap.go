package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The generation map file: a header page, then one little-endian uint16
// per unit. See doc.go for the layout.
const (
	mapMagic     = "LBGENMAP"
	mapVersion   = 1
	mapHeaderLen = 4096
	maxTargetLen = 256
	maxDeviceLen = 1024
	// header field offsets
	hVersion   = 8
	hHeaderLen = 12
	hRunID     = 16
	hBase      = 24
	hLength    = 32
	hUnit      = 40
	hDevSize   = 48
	hCreated   = 56
	hUnits     = 64
	hTargetLen = 72
	hDeviceLen = 74
	hTarget    = 128
	hDevice    = hTarget + maxTargetLen
	hCRC       = mapHeaderLen - 4
	// pendingBit marks a unit whose last write was issued and not
	// acknowledged.
	pendingBit = 1 << 15
)

// MapDir is the directory of a results directory that holds the
// generation maps.
const MapDir = "verify"

// MapPath is where the generation map of target lives in results
// directory dir: dir/verify/<target>.genmap.
func MapPath(dir, target string) string {
	return filepath.Join(dir, MapDir, target+".genmap")
}

// Header describes the range a generation map covers and the run that
// wrote it, so that `lunbench verify` can check a device with nothing but
// the map file.
type Header struct {
	RunID uint64 // the run id every stamp carries
	// Base and Length are the byte range of the device the map covers;
	// Unit is the size of one tracked block (a multiple of SectorSize).
	// A partial unit at the end of the range is not tracked.
	Base, Length, Unit int64
	Target             string    // the scenario's target name (at most 256 bytes)
	Device             string    // the device path written (at most 1024 bytes)
	DeviceSize         int64     // the device's size in bytes when the run began
	Created            time.Time // when the map was created
}

// Units is the number of units the map tracks.
func (h Header) Units() int64 {
	if h.Unit <= 0 {
		return 0
	}
	return h.Length / h.Unit
}

// validate reports what is wrong with h, for a map file at path.
func (h Header) validate(path string) error {
	switch {
	case h.Unit <= 0 || h.Unit%SectorSize != 0:
		return fmt.Errorf("generation map %s: unit %d is not a positive multiple of %d", path, h.Unit, SectorSize)
	case h.Base < 0 || h.Base%SectorSize != 0:
		return fmt.Errorf("generation map %s: base %d is not a non-negative multiple of %d", path, h.Base, SectorSize)
	case h.Length < h.Unit:
		return fmt.Errorf("generation map %s: length %d is shorter than one unit (%d)", path, h.Length, h.Unit)
	case h.DeviceSize > 0 && h.Base+h.Units()*h.Unit > h.DeviceSize:
		return fmt.Errorf("generation map %s: range [%d, %d) ends past the device size %d", path, h.Base, h.Base+h.Length, h.DeviceSize)
	case len(h.Target) > maxTargetLen:
		return fmt.Errorf("generation map %s: target name of %d bytes, at most %d", path, len(h.Target), maxTargetLen)
	case len(h.Device) > maxDeviceLen:
		return fmt.Errorf("generation map %s: device path of %d bytes, at most %d", path, len(h.Device), maxDeviceLen)
	}
	return nil
}

// encode writes h into a header page.
func (h Header) encode() []byte {
	b := make([]byte, mapHeaderLen)
	le := binary.LittleEndian
	copy(b, mapMagic)
	le.PutUint32(b[hVersion:], mapVersion)
	le.PutUint32(b[hHeaderLen:], mapHeaderLen)
	le.PutUint64(b[hRunID:], h.RunID)
	le.PutUint64(b[hBase:], uint64(h.Base))
	le.PutUint64(b[hLength:], uint64(h.Length))
	le.PutUint64(b[hUnit:], uint64(h.Unit))
	le.PutUint64(b[hDevSize:], uint64(h.DeviceSize))
	le.PutUint64(b[hCreated:], uint64(h.Created.UnixNano()))
	le.PutUint64(b[hUnits:], uint64(h.Units()))
	le.PutUint16(b[hTargetLen:], uint16(len(h.Target)))
	le.PutUint16(b[hDeviceLen:], uint16(len(h.Device)))
	copy(b[hTarget:], h.Target)
	copy(b[hDevice:], h.Device)
	le.PutUint32(b[hCRC:], crc32.Checksum(b[:hCRC], castagnoli()))
	return b
}

// decodeHeader reads a header page of the map file at path.
func decodeHeader(b []byte, path string) (Header, error) {
	le := binary.LittleEndian
	if len(b) < mapHeaderLen {
		return Header{}, fmt.Errorf("generation map %s: %d bytes, shorter than its %d-byte header (truncated, or not a map)", path, len(b), mapHeaderLen)
	}
	if string(b[:len(mapMagic)]) != mapMagic {
		return Header{}, fmt.Errorf("generation map %s: not a lunbench generation map (magic %q, expected %q)", path, b[:len(mapMagic)], mapMagic)
	}
	if v := le.Uint32(b[hVersion:]); v != mapVersion {
		return Header{}, fmt.Errorf("generation map %s: format version %d, this lunbench reads version %d", path, v, mapVersion)
	}
	if c := crc32.Checksum(b[:hCRC], castagnoli()); c != le.Uint32(b[hCRC:]) {
		return Header{}, fmt.Errorf("generation map %s: header checksum 0x%08x, computed 0x%08x (damaged header)", path, le.Uint32(b[hCRC:]), c)
	}
	if n := le.Uint32(b[hHeaderLen:]); n != mapHeaderLen {
		return Header{}, fmt.Errorf("generation map %s: header length %d, expected %d", path, n, mapHeaderLen)
	}
	tl, dl := int(le.Uint16(b[hTargetLen:])), int(le.Uint16(b[hDeviceLen:]))
	if tl > maxTargetLen || dl > maxDeviceLen {
		return Header{}, fmt.Errorf("generation map %s: name lengths %d and %d exceed %d and %d", path, tl, dl, maxTargetLen, maxDeviceLen)
	}
	h := Header{
		RunID:      le.Uint64(b[hRunID:]),
		Base:       int64(le.Uint64(b[hBase:])),
		Length:     int64(le.Uint64(b[hLength:])),
		Unit:       int64(le.Uint64(b[hUnit:])),
		DeviceSize: int64(le.Uint64(b[hDevSize:])),
		Created:    time.Unix(0, int64(le.Uint64(b[hCreated:]))).UTC(),
		Target:     string(b[hTarget : hTarget+tl]),
		Device:     string(b[hDevice : hDevice+dl]),
	}
	if err := h.validate(path); err != nil {
		return Header{}, err
	}
	if n := le.Uint64(b[hUnits:]); n != uint64(h.Units()) {
		return Header{}, fmt.Errorf("generation map %s: header says %d units, its range and unit make %d", path, n, h.Units())
	}
	return h, nil
}

// Map is the generation map of one target range: per unit, the
// generation of its last acknowledged write and whether a later write is
// pending. It lives in a file mapped MAP_SHARED, so what the engine stored
// survives the process (the kernel writes the pages back) and, up to the
// last Sync, a host crash.
//
// Begin and Ack of one unit must come from one goroutine at a time (the
// engine gives each worker its own stripe of units); Run and Expect must not
// overlap writes to the same units, and rely on the caller's
// synchronisation (the engine pauses its writers through channels) for
// visibility. The map's memory is outside the Go heap, so the race detector
// does not see these accesses either way.
type Map struct {
	path     string
	f        *os.File
	data     []byte // the whole file, mapped
	ents     []byte // data[mapHeaderLen:], two bytes per unit
	h        Header
	readOnly bool
}

// CreateMap creates the map file at path (which must not exist) for range
// h, every unit never written, and maps it read-write. Its size is 4 KiB
// plus 2 bytes per unit (512 MiB per TiB of 4 KiB units), all of it
// allocated up front, so a full disk fails here, before any I/O.
func CreateMap(path string, h Header) (*Map, error) {
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	h.Created = h.Created.UTC()
	if err := h.validate(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create generation map: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create generation map: %w", err)
	}
	size := mapHeaderLen + 2*h.Units()
	fail := func(err error) (*Map, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create generation map %s: %w", path, err)
	}
	// Reserve every block now: a sparse map on a filesystem that fills up
	// mid-run faults with SIGBUS on the first store into a hole.
	if err := reserve(f, size); err != nil {
		return fail(fmt.Errorf("reserve %s for the map: %w", humanBytes(size), err))
	}
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return fail(err)
	}
	// The header and the file's size must be on disk before any unit is:
	// a map that a crash leaves without its header cannot be read.
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail(fmt.Errorf("mmap %d bytes: %w", size, err))
	}
	return &Map{path: path, f: f, data: data, ents: data[mapHeaderLen:], h: h}, nil
}

// OpenMap maps an existing map file read-only, for checking a device after
// the run (a crash or a reboot included). A file that is not a map, has a
// damaged header or is shorter than its header promises is an error that
// says which, never a panic.
func OpenMap(path string) (*Map, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open generation map: %w", err)
	}
	m, err := openMap(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

func openMap(path string, f *os.File) (*Map, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("generation map %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("generation map %s: not a regular file", path)
	}
	page := make([]byte, mapHeaderLen)
	n, err := f.ReadAt(page, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("generation map %s: %w", path, err)
	}
	h, err := decodeHeader(page[:n], path)
	if err != nil {
		return nil, err
	}
	want := mapHeaderLen + 2*h.Units()
	if st.Size() != want {
		return nil, fmt.Errorf("generation map %s: %d bytes, expected %d for %d units of %d bytes (truncated or damaged)", path, st.Size(), want, h.Units(), h.Unit)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(want), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("generation map %s: mmap %d bytes: %w", path, want, err)
	}
	return &Map{path: path, f: f, data: data, ents: data[mapHeaderLen:], h: h, readOnly: true}, nil
}

// Header returns the map's header.
func (m *Map) Header() Header { return m.h }

// Path returns the map's file name.
func (m *Map) Path() string { return m.path }

// index is the unit holding absolute byte offset off. The offset must lie in
// the map's range: the engine only writes there, and an offset outside is
// a bug in the caller (it panics like any index out of range).
func (m *Map) index(off int64) int64 { return 2 * ((off - m.h.Base) / m.h.Unit) }

// Begin marks the unit at absolute byte offset off as about to be written
// and returns the generation to stamp the write with: the pending one
// again if the unit's last write was never acknowledged (a failed write
// does not consume a generation), else the next one. It panics on a map
// opened read-only (a caller bug: the store would fault).
func (m *Map) Begin(off int64) uint32 {
	if m.readOnly {
		panic("verify: Begin on a read-only generation map " + m.path)
	}
	i := m.index(off)
	e := binary.LittleEndian.Uint16(m.ents[i:])
	g := uint32(e &^ pendingBit)
	if e&pendingBit == 0 || g == 0 {
		g = nextGen(g)
	}
	binary.LittleEndian.PutUint16(m.ents[i:], uint16(g)|pendingBit)
	return g
}

// Ack records that the write of generation gen to the unit at off was
// acknowledged: the unit now must hold gen, and is no longer pending.
func (m *Map) Ack(off int64, gen uint32) {
	if m.readOnly {
		panic("verify: Ack on a read-only generation map " + m.path)
	}
	binary.LittleEndian.PutUint16(m.ents[m.index(off):], uint16(gen&MaxGen))
}

// unknownEnt is the entry of a unit an unverified write overwrote: no
// generation (so no pass checks it) with the pending bit, a value Begin
// never stores. Its next verified write starts again at generation 1.
const unknownEnt = pendingBit

// Forget marks every unit that the unverified write of n bytes at absolute
// byte offset off overlaps as unknown: its content is no stamp of this run
// and is not checked, until a verified write stamps it again. The part of
// the write outside the map's range is ignored. It neither allocates nor
// locks: it is on the I/O path of an unverified phase.
func (m *Map) Forget(off, n int64) {
	if m.readOnly {
		panic("verify: Forget on a read-only generation map " + m.path)
	}
	lo := max(off, m.h.Base) - m.h.Base
	hi := min(off+n, m.h.Base+m.h.Length/m.h.Unit*m.h.Unit) - m.h.Base
	for u := lo / m.h.Unit; u*m.h.Unit < hi; u++ {
		binary.LittleEndian.PutUint16(m.ents[2*u:], unknownEnt)
	}
}

// Unknown reports whether the unit at off was last written unverified.
func (m *Map) Unknown(off int64) bool {
	return binary.LittleEndian.Uint16(m.ents[m.index(off):]) == unknownEnt
}

// Expect returns what the unit at off must hold: its generation (0: never
// written) and whether its last write is pending (then it may hold gen or
// gen-1).
func (m *Map) Expect(off int64) (gen uint32, pending bool) {
	e := binary.LittleEndian.Uint16(m.ents[m.index(off):])
	return uint32(e &^ pendingBit), e&pendingBit != 0
}

// Sync writes the map's dirty pages to its file and waits (msync). After a
// crash the map is as of the last Sync; verify then accepts generations
// newer than the map's (CheckOptions.AcceptNewer).
func (m *Map) Sync() error {
	if m.readOnly || m.data == nil {
		return nil
	}
	if err := unix.Msync(m.data, unix.MS_SYNC); err != nil {
		return fmt.Errorf("msync generation map %s: %w", m.path, err)
	}
	return nil
}

// Close syncs a writable map, unmaps it and closes its file. Using the map
// after Close panics.
func (m *Map) Close() error {
	if m.data == nil {
		return nil
	}
	err := m.Sync()
	if e := unix.Munmap(m.data); e != nil && err == nil {
		err = fmt.Errorf("munmap generation map %s: %w", m.path, e)
	}
	m.data, m.ents = nil, nil
	if e := m.f.Close(); e != nil && err == nil {
		err = fmt.Errorf("close generation map %s: %w", m.path, e)
	}
	return err
}

// reserve allocates size bytes for f. Where fallocate is not supported it
// writes zeros instead, which allocates as surely.
func reserve(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if err != unix.EOPNOTSUPP && err != unix.ENOSYS {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return err
		}
	}
	return nil
}

// humanBytes writes n in binary units for messages: 2.0 MiB.
func humanBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
