package workload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// UnsafeTargetError is why lunbench refuses to write a block device: it is
// mounted, held by another driver, or carries data (a filesystem, a volume
// manager label, a partition table). Find it with errors.As.
type UnsafeTargetError struct {
	// Device is the device as the user named it.
	Device string
	// Reason says what was found and what to do about it, in one clause.
	Reason string
	// Found is the short name of what was found: a signature type as
	// blkid names it ("ext4", "LVM2_member", "gpt"), "mounted", "swap",
	// "held" (holders, or a loop device over it), "locked" (a file another
	// process has locked) or "in use".
	Found string
	// Err is the underlying error, if any (EBUSY from the kernel).
	Err error
}

func (e *UnsafeTargetError) Error() string {
	return "refusing to write " + e.Device + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *UnsafeTargetError) Unwrap() error { return e.Err }

// GuardWrite decides whether the target d may be written. It refuses a
// block device when it (or one of its partitions) is mounted, used as swap,
// held by device-mapper, LVM or md, or backs a loop device (and says what
// is built on those in turn, up the whole stack), and when it carries a
// signature of existing data. destroy (--destroy-data) lifts only the last
// refusal, and only when it names the device exactly as the user did or as
// its resolved path. It refuses a regular file that backs a loop device or
// that another process holds locked; the scenario's allow_write gates the
// rest.
func GuardWrite(d Device, destroy string, sys SysRoot) error {
	if d.Kind == KindFile {
		return guardFile(d, sys)
	}
	if d.Kind != KindBlock {
		return nil
	}
	allowed := destroy != "" && (destroy == d.Path || destroy == d.Resolved)
	never := ""
	if allowed {
		never = "; --destroy-data never overrides that"
	}
	u := d.usage(sys)
	if len(u.mounts) > 0 {
		return &UnsafeTargetError{Device: d.display(), Found: "mounted",
			Reason: fmt.Sprintf("it is mounted at %s and destroying a mounted filesystem is never allowed%s; unmount it first", strings.Join(u.mounts, ", "), never)}
	}
	if len(u.swaps) > 0 {
		return &UnsafeTargetError{Device: d.display(), Found: "swap",
			Reason: fmt.Sprintf("it is in use as swap (%s)%s; swapoff it first", strings.Join(u.swaps, ", "), never)}
	}
	if len(u.holders) > 0 {
		return &UnsafeTargetError{Device: d.display(), Found: "held",
			Reason: fmt.Sprintf("it is held by %s: device-mapper, LVM or md is built on it%s; benchmark the holder instead, or remove it first", strings.Join(u.holders, ", "), never)}
	}
	if len(u.loops) > 0 {
		return &UnsafeTargetError{Device: d.display(), Found: "held",
			Reason: fmt.Sprintf("it backs loop device %s: writing it rewrites that device and whatever lives on it%s; unmount and detach it first (losetup -d)", strings.Join(u.loops, ", "), never)}
	}
	if lower := lowerUse(sys, d.usageName(sys), 0); len(lower) > 0 {
		return &UnsafeTargetError{Device: d.display(), Found: "held",
			Reason: fmt.Sprintf("it is built on %s: writing it writes there too%s; free that first, or benchmark what uses it", strings.Join(lower, ", "), never)}
	}
	if allowed {
		return nil
	}
	sig, found, err := readSignature(d, sys)
	if err != nil {
		return &UnsafeTargetError{Device: d.display(), Found: "unreadable", Err: err,
			Reason: fmt.Sprintf("cannot read it to check for existing data (%v); to overwrite it anyway pass --destroy-data=%s", err, d.Path)}
	}
	if !found {
		return nil
	}
	where := fmt.Sprintf("found at byte %d", sig.offset)
	if sig.offset < 0 {
		where = "reported by blkid -p"
	}
	return &UnsafeTargetError{Device: d.display(), Found: sig.name,
		Reason: fmt.Sprintf("it carries %s signature (%s); to overwrite it anyway pass --destroy-data=%s", sig.desc, where, d.Path)}
}

// usage is what the system is doing with a block device and its partitions.
type usage struct {
	mounts  []string // "/mnt/x", or "/mnt/data (loop4p1)" for a partition
	swaps   []string
	holders []string // "dm-0 (mpatha)"
	// loops are loop devices backed by the device: "/dev/loop6 (mounted
	// at /mnt/up)".
	loops []string
}

// describe lists what was found for the EBUSY message.
func (u usage) describe() string {
	var parts []string
	if len(u.holders) > 0 {
		parts = append(parts, "holders "+strings.Join(u.holders, ", "))
	}
	if len(u.mounts) > 0 {
		parts = append(parts, "mounted at "+strings.Join(u.mounts, ", "))
	}
	if len(u.swaps) > 0 {
		parts = append(parts, "swap "+strings.Join(u.swaps, ", "))
	}
	if len(u.loops) > 0 {
		parts = append(parts, "backs loop device "+strings.Join(u.loops, ", "))
	}
	return strings.Join(parts, "; ")
}

// found is UnsafeTargetError.Found for an EBUSY open.
func (u usage) found() string {
	switch {
	case len(u.mounts) > 0:
		return "mounted"
	case len(u.swaps) > 0:
		return "swap"
	case len(u.holders) > 0, len(u.loops) > 0:
		return "held"
	}
	return "in use"
}

// usage looks for mounts, swap, holders and loop devices over d and over
// its partitions: writing a whole disk destroys what lives on its
// partitions too.
func (d Device) usage(sys SysRoot) usage {
	return blockUsage(sys, d.usageName(sys), d.Major, d.Minor, "", 0)
}

// usageName is the device's kernel name, from sysfs if the probe left it
// out.
func (d Device) usageName(sys SysRoot) string {
	if d.KernelName != "" {
		return d.KernelName
	}
	if l, err := os.Readlink(sys.path(fmt.Sprintf("/sys/dev/block/%d:%d", d.Major, d.Minor))); err == nil {
		return path.Base(l)
	}
	return ""
}

// blockUsage is usage for the block device called name (its kernel name)
// with number major:minor, leaving out the holder or loop device called
// except (the device the walk came down from). depth counts the devices
// walked through to get here, so that a stack (a loop over a loop over a
// disk) is followed to its end and a cycle cannot recurse forever.
func blockUsage(sys SysRoot, name string, major, minor uint32, except string, depth int) usage {
	// names maps each kernel name (the device and its partitions) to its
	// device number, as mountinfo gives it.
	names := map[string]string{}
	devnums := map[string]string{fmt.Sprintf("%d:%d", major, minor): name}
	if name != "" {
		names[name] = fmt.Sprintf("%d:%d", major, minor)
		ents, _ := os.ReadDir(sys.path("/sys/class/block/" + name))
		for _, e := range ents {
			p := "/sys/class/block/" + name + "/" + e.Name()
			if !fileExists(sys.path(p + "/partition")) {
				continue
			}
			num := sys.attr(p + "/dev")
			names[e.Name()] = num
			devnums[num] = e.Name()
		}
	}
	var u usage
	u.mounts = mountsOf(sys, name, names, devnums)
	u.swaps = swapsOf(sys, names)
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		u.holders = append(u.holders, holdersOf(sys, n, name, except, depth)...)
		u.loops = append(u.loops, loopsOn(sys, n, name, names[n], except, depth)...)
	}
	return u
}

// mountsOf lists where the device or one of its partitions is mounted.
func mountsOf(sys SysRoot, name string, names, devnums map[string]string) []string {
	var mounts []string
	seen := map[string]bool{}
	for _, m := range readMountinfo(sys) {
		who, ok := devnums[m.devnum]
		if !ok && strings.HasPrefix(m.source, "/dev/") {
			// btrfs and some others report an anonymous device number;
			// their source still names the device.
			if res, err := sys.resolve(m.source); err == nil {
				if _, isOurs := names[path.Base(res)]; isOurs {
					who, ok = path.Base(res), true
				}
			}
		}
		if !ok || seen[m.mountpoint] {
			continue
		}
		seen[m.mountpoint] = true
		if who != name {
			mounts = append(mounts, fmt.Sprintf("%s (%s)", m.mountpoint, who))
		} else {
			mounts = append(mounts, m.mountpoint)
		}
	}
	return mounts
}

// swapsOf lists the device or partitions that are active swap.
func swapsOf(sys SysRoot, names map[string]string) []string {
	f, err := os.Open(sys.path("/proc/swaps"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var swaps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "/dev/") {
			continue // the header, or a swap file
		}
		if res, err := sys.resolve(unescapeMount(fields[0])); err == nil {
			if _, isOurs := names[path.Base(res)]; isOurs {
				swaps = append(swaps, path.Base(res))
			}
		}
	}
	return swaps
}

// holdersOf lists the holders of n (the device name or one of its
// partitions), each with what is built on it in turn: "dm-0 (mpatha)",
// "dm-1 [mounted at /srv]".
func holdersOf(sys SysRoot, n, name, except string, depth int) []string {
	var out []string
	ents, _ := os.ReadDir(sys.path("/sys/class/block/" + n + "/holders"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == except {
			continue
		}
		h := e.Name()
		if dm := sys.attr("/sys/class/block/" + h + "/dm/name"); dm != "" {
			h += " (" + dm + ")"
		}
		if n != name {
			h += " on " + n
		}
		if maj, mi, ok := parseDevNum(sys.attr("/sys/class/block/" + e.Name() + "/dev")); ok && depth < maxStack {
			if d := blockUsage(sys, e.Name(), maj, mi, "", depth+1).describe(); d != "" {
				h += " [" + d + "]"
			}
		}
		out = append(out, h)
	}
	return out
}

// loopsOn lists the loop devices whose backing file is the block device n
// (the device or one of its partitions, number devnum): the kernel does not
// list those as holders, yet writing n rewrites them.
func loopsOn(sys SysRoot, n, name, devnum, except string, depth int) []string {
	maj, mi, ok := parseDevNum(devnum)
	if !ok {
		return nil
	}
	st := unix.Stat_t{Mode: unix.S_IFBLK, Rdev: unix.Mkdev(maj, mi)}
	var out []string
	for _, l := range loopsOver(&st, sys) {
		if l.name == except {
			continue
		}
		desc, _ := loopUse(l, sys, depth)
		if n != name {
			desc += " on " + n
		}
		out = append(out, desc)
	}
	return out
}

// signature is a kind of existing data found on a device.
type signature struct {
	name   string // as blkid names it: ext4, LVM2_member, gpt
	desc   string // for messages, with its article: "an ext4 filesystem"
	offset int64  // byte offset of the magic; -1 if unknown
}

// DetectSignature looks for the on-disk signatures of common filesystems,
// volume managers, RAID and encryption layers and partition tables in the
// image r of size bytes. It reads only where those formats keep their
// magic numbers: the first few MiB and the last MiB. name is the type as
// blkid(8) would report it (ext4, xfs, btrfs, swap, LVM2_member, dos, gpt,
// zfs_member, crypto_LUKS, linux_raid_member, ntfs, vfat, iso9660, bcache,
// ...) and offset the byte where the magic was found. Read errors count as
// "nothing there"; GuardWrite, which must not mistake an unreadable device
// for a blank one, reports them instead.
func DetectSignature(r io.ReaderAt, size int64) (name string, offset int64, ok bool) {
	sig, ok, _ := detect(r, size)
	return sig.name, sig.offset, ok
}

// sigReader reads small pieces of an image, remembering the first real
// error (reading past the end is not one: the image is just short).
type sigReader struct {
	r    io.ReaderAt
	size int64
	err  error
}

// at returns the n bytes at off, or nil when they are not all there.
func (s *sigReader) at(off int64, n int) []byte {
	if off < 0 || n <= 0 || off+int64(n) > s.size {
		return nil
	}
	b := make([]byte, n)
	got, err := s.r.ReadAt(b, off)
	if got == n {
		return b
	}
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return nil
}

func (s *sigReader) is(off int64, magic string) bool {
	b := s.at(off, len(magic))
	return b != nil && string(b) == magic
}

func (s *sigReader) le16(off int64) (uint16, bool) {
	b := s.at(off, 2)
	if b == nil {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b), true
}

func (s *sigReader) le32(off int64) uint32 {
	b := s.at(off, 4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// Magic numbers, with the layout that places them in comments next to
// their probes. Each is a constant so the detector has no mutable state.
const (
	mdMagic     = 0xa92b4efc
	zfsUberMag  = 0x00bab10c
	bcacheMagic = "\xc6\x85\x73\xf6\x4e\x1a\x45\xca\x82\x65\xf5\x7f\x48\xba\x6d\x81"
	kib         = 1 << 10
	mib         = 1 << 20
)

// detect runs the probes in order: specific superblocks before partition
// tables, because FAT, NTFS and hybrid ISO images carry an MBR-like 0x55AA
// too, and a GPT disk carries a protective MBR.
func detect(r io.ReaderAt, size int64) (signature, bool, error) {
	s := &sigReader{r: r, size: size}
	probes := []func(*sigReader) (signature, bool){
		probeLUKS, probeXFS, probeNTFS, probeFAT, probeExt, probeBtrfs,
		probeISO, probeSwap, probeLVM, probeMD, probeBcache, probeZFS,
		probeOracleASM, probeBluestore, probeVMFS, probeGPT, probeMBR,
	}
	for _, p := range probes {
		if sig, ok := p(s); ok {
			return sig, true, nil
		}
	}
	return signature{}, false, s.err
}

// probeLUKS: "LUKS\xba\xbe" at 0 (LUKS1 and LUKS2); LUKS2 keeps a second
// header, "SKUL\xba\xbe", at one of a fixed set of offsets.
func probeLUKS(s *sigReader) (signature, bool) {
	if s.is(0, "LUKS\xba\xbe") {
		return signature{"crypto_LUKS", "a LUKS encryption header", 0}, true
	}
	for off := int64(16 * kib); off <= 4*mib; off *= 2 {
		if s.is(off, "SKUL\xba\xbe") {
			return signature{"crypto_LUKS", "a LUKS2 secondary header", off}, true
		}
	}
	return signature{}, false
}

// probeXFS: the superblock starts at 0 with "XFSB".
func probeXFS(s *sigReader) (signature, bool) {
	if s.is(0, "XFSB") {
		return signature{"xfs", "an XFS filesystem", 0}, true
	}
	return signature{}, false
}

// probeNTFS: the boot sector's OEM id at byte 3.
func probeNTFS(s *sigReader) (signature, bool) {
	if s.is(3, "NTFS    ") {
		return signature{"ntfs", "an NTFS filesystem", 3}, true
	}
	return signature{}, false
}

// probeFAT: the boot sector's file system type string, at 54 for FAT12/16
// and at 82 for FAT32.
func probeFAT(s *sigReader) (signature, bool) {
	for _, m := range []string{"FAT12   ", "FAT16   ", "FAT     "} {
		if s.is(54, m) {
			return signature{"vfat", "a FAT filesystem", 54}, true
		}
	}
	if s.is(82, "FAT32   ") {
		return signature{"vfat", "a FAT32 filesystem", 82}, true
	}
	return signature{}, false
}

// probeExt: the superblock is at 1024 with s_magic 0xEF53 at +56. The
// magic is only two bytes, so a few other fields must be sane too, lest
// random data (a previous benchmark's) look like a filesystem. The feature
// flags tell ext2, ext3 and ext4 apart the way blkid does.
func probeExt(s *sigReader) (signature, bool) {
	const sb = 1024
	m, ok := s.le16(sb + 56)
	if !ok || m != 0xEF53 {
		return signature{}, false
	}
	inodes, blocks := s.le32(sb+0), s.le32(sb+4)
	logBlock, rev := s.le32(sb+24), s.le32(sb+76)
	if inodes == 0 || blocks == 0 || logBlock > 6 || rev > 1 {
		return signature{}, false
	}
	compat, incompat, roCompat := s.le32(sb+92), s.le32(sb+96), s.le32(sb+100)
	const (
		compatJournal      = 0x4
		incompatJournalDev = 0x8
		// What ext3 supports (EXT3_FEATURE_*_SUPP); anything more is ext4.
		ext3Incompat = 0x2 | 0x4 | 0x10 // filetype, recover, meta_bg
		ext3RoCompat = 0x1 | 0x2 | 0x4  // sparse_super, large_file, btree_dir
	)
	switch {
	case incompat&incompatJournalDev != 0:
		return signature{"jbd", "an ext3/4 external journal", sb + 56}, true
	case roCompat&^ext3RoCompat != 0 || incompat&^ext3Incompat != 0:
		return signature{"ext4", "an ext4 filesystem", sb + 56}, true
	case compat&compatJournal != 0:
		return signature{"ext3", "an ext3 filesystem", sb + 56}, true
	}
	return signature{"ext2", "an ext2 filesystem", sb + 56}, true
}

// probeBtrfs: the primary superblock is at 64 KiB with its magic at +64.
func probeBtrfs(s *sigReader) (signature, bool) {
	if s.is(64*kib+64, "_BHRfS_M") {
		return signature{"btrfs", "a btrfs filesystem", 64*kib + 64}, true
	}
	return signature{}, false
}

// probeISO: the first volume descriptor is at 32 KiB: a type byte, then
// "CD001".
func probeISO(s *sigReader) (signature, bool) {
	if s.is(32*kib+1, "CD001") {
		return signature{"iso9660", "an ISO 9660 filesystem", 32*kib + 1}, true
	}
	return signature{}, false
}

// probeSwap: mkswap puts its magic in the last 10 bytes of the first page,
// whose size depends on the architecture; hibernation images reuse it.
func probeSwap(s *sigReader) (signature, bool) {
	for _, ps := range []int64{4 * kib, 8 * kib, 16 * kib, 64 * kib} {
		off := ps - 10
		switch {
		case s.is(off, "SWAPSPACE2"), s.is(off, "SWAP-SPACE"):
			return signature{"swap", "a swap area", off}, true
		case s.is(off, "S1SUSPEND"), s.is(off, "S2SUSPEND"), s.is(off, "ULSUSPEND"), s.is(off, "LINHIB0001"):
			return signature{"swsuspend", "a hibernation image", off}, true
		}
	}
	return signature{}, false
}

// probeLVM: a PV label ("LABELONE", type "LVM2 001" at +24) sits in one of
// the first four sectors.
func probeLVM(s *sigReader) (signature, bool) {
	for sec := int64(0); sec < 4; sec++ {
		off := sec * 512
		if s.is(off, "LABELONE") && s.is(off+24, "LVM2 001") {
			return signature{"LVM2_member", "an LVM2 physical volume", off}, true
		}
	}
	return signature{}, false
}

// probeMD: md superblocks 1.1 (at 0), 1.2 (at 4 KiB) and 1.0 (8 KiB before
// the end, 4 KiB aligned) are little-endian; 0.90 (in the last 64 KiB-aligned
// 64 KiB) is in the writer's byte order.
func probeMD(s *sigReader) (signature, bool) {
	v1 := func(off int64, desc string) (signature, bool) {
		if s.le32(off) == mdMagic && s.le32(off+4) == 1 {
			return signature{"linux_raid_member", desc, off}, true
		}
		return signature{}, false
	}
	if sig, ok := v1(0, "an mdraid 1.1 superblock"); ok {
		return sig, true
	}
	if sig, ok := v1(4*kib, "an mdraid 1.2 superblock"); ok {
		return sig, true
	}
	if s.size >= 64*kib {
		if sig, ok := v1(((s.size/512-16)&^7)*512, "an mdraid 1.0 superblock"); ok {
			return sig, true
		}
	}
	if s.size >= 128*kib {
		off := s.size&^(64*kib-1) - 64*kib
		if b := s.at(off, 8); b != nil {
			le := binary.LittleEndian.Uint32(b) == mdMagic && binary.LittleEndian.Uint32(b[4:]) == 0
			be := binary.BigEndian.Uint32(b) == mdMagic && binary.BigEndian.Uint32(b[4:]) == 0
			if le || be {
				return signature{"linux_raid_member", "an mdraid 0.90 superblock", off}, true
			}
		}
	}
	return signature{}, false
}

// probeBcache: the superblock is at 4 KiB, its 16-byte magic at +24.
func probeBcache(s *sigReader) (signature, bool) {
	if s.is(4*kib+24, bcacheMagic) {
		return signature{"bcache", "a bcache superblock", 4*kib + 24}, true
	}
	return signature{}, false
}

// probeZFS: a vdev carries four 256 KiB labels, two at the start and two
// at the (256 KiB-aligned) end; each ends in a 128 KiB ring of uberblocks
// that start with 0x00bab10c in the writer's byte order. Slots are 1 KiB
// or larger powers of two, so a 1 KiB stride finds them all.
func probeZFS(s *sigReader) (signature, bool) {
	labels := []int64{0, 256 * kib}
	if end := s.size &^ (256*kib - 1); end >= 1*mib {
		labels = append(labels, end-512*kib, end-256*kib)
	}
	for _, l := range labels {
		ring := s.at(l+128*kib, 128*kib)
		for i := 0; ring != nil && i+8 <= len(ring); i += kib {
			if binary.LittleEndian.Uint64(ring[i:]) == zfsUberMag || binary.BigEndian.Uint64(ring[i:]) == zfsUberMag {
				return signature{"zfs_member", "a ZFS pool label", l + 128*kib + int64(i)}, true
			}
		}
	}
	return signature{}, false
}

// probeOracleASM: ASMLib marks its disks with "ORCLDISK" at 32.
func probeOracleASM(s *sigReader) (signature, bool) {
	if s.is(32, "ORCLDISK") {
		return signature{"oracleasm", "an Oracle ASM disk label", 32}, true
	}
	return signature{}, false
}

// probeBluestore: a Ceph OSD's block device starts with its label.
func probeBluestore(s *sigReader) (signature, bool) {
	if s.is(0, "bluestore block device") {
		return signature{"ceph_bluestore", "a Ceph BlueStore label", 0}, true
	}
	return signature{}, false
}

// probeVMFS: an ESXi datastore LUN has its LVM header (0xc001d00d) at
// 1 MiB and the filesystem (0x2fabf15e) at 19 MiB.
func probeVMFS(s *sigReader) (signature, bool) {
	if s.le32(1*mib) == 0xc001d00d {
		return signature{"VMFS_volume_member", "a VMware VMFS volume", 1 * mib}, true
	}
	if s.le32(0x1300000) == 0x2fabf15e {
		return signature{"VMFS", "a VMware VMFS filesystem", 0x1300000}, true
	}
	return signature{}, false
}

// probeGPT: the header ("EFI PART") is in LBA 1, which is byte 512 on
// 512-byte-sector disks and 4096 on 4Kn ones; its backup is in the last LBA.
func probeGPT(s *sigReader) (signature, bool) {
	for _, off := range []int64{512, 4096} {
		if s.is(off, "EFI PART") {
			return signature{"gpt", "a GPT partition table", off}, true
		}
	}
	for _, lba := range []int64{512, 4096} {
		if off := s.size - lba; off > 4096 && s.is(off, "EFI PART") {
			return signature{"gpt", "a GPT partition table (backup header)", off}, true
		}
	}
	return signature{}, false
}

// probeMBR: 0x55AA at 510 alone is any boot sector; an MBR also has four
// 16-byte entries at 446 whose boot flags are 0x00 or 0x80, and at least
// one in use. Type 0xEE is a GPT's protective MBR.
func probeMBR(s *sigReader) (signature, bool) {
	b := s.at(0, 512)
	if b == nil || b[510] != 0x55 || b[511] != 0xAA {
		return signature{}, false
	}
	used, protective := false, false
	for i := 0; i < 4; i++ {
		e := b[446+16*i : 446+16*(i+1)]
		if e[0] != 0x00 && e[0] != 0x80 {
			return signature{}, false
		}
		if e[4] != 0 {
			used = true
			protective = protective || e[4] == 0xEE
		}
	}
	switch {
	case protective:
		return signature{"PMBR", "a GPT protective MBR", 510}, true
	case used:
		return signature{"dos", "an MBR (dos) partition table", 510}, true
	}
	return signature{}, false
}

// readSignature looks for existing data on d, read-only. It reads with
// O_DIRECT so that it sees what is on the LUN, not a stale page cache, and
// asks blkid -p as a second opinion when it finds nothing itself.
func readSignature(d Device, sys SysRoot) (signature, bool, error) {
	p := sys.target(firstNonEmpty(d.Resolved, d.Path))
	f, err := directio.OpenFile(p, os.O_RDONLY, 0)
	direct := err == nil
	if errors.Is(err, unix.EINVAL) {
		f, err = os.Open(p)
	}
	if err != nil {
		return signature{}, false, bareErr(err)
	}
	defer f.Close()
	size := d.Size
	if size <= 0 {
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return signature{}, false, err
		}
	}
	var r io.ReaderAt = f
	if direct {
		r = alignedReader{f, max(directio.AlignSize, d.LogicalBlock)}
	}
	sig, ok, err := detect(r, size)
	if ok || err != nil {
		return sig, ok, err
	}
	if sys.live() {
		if sig, ok := blkidProbe(p); ok {
			return sig, true, nil
		}
	}
	return signature{}, false, nil
}

// alignedReader serves ReadAt from an O_DIRECT file, which only reads
// whole aligned blocks into aligned memory.
type alignedReader struct {
	f     *os.File
	align int64 // a multiple of the logical block size
}

func (a alignedReader) ReadAt(p []byte, off int64) (int, error) {
	align := a.align
	start := off &^ (align - 1)
	end := (off + int64(len(p)) + align - 1) &^ (align - 1)
	buf := directio.AlignedBlock(int(end - start))
	n, err := a.f.ReadAt(buf, start)
	avail := int64(n) - (off - start)
	if avail <= 0 {
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	c := copy(p, buf[off-start:off-start+min(avail, int64(len(p)))])
	if c < len(p) {
		if err == nil {
			err = io.EOF
		}
		return c, err
	}
	return c, nil
}

// blkidProbe runs blkid's low-level probe. Exit status 2 means nothing was
// found; 8 means more than one signature, which is reason enough to stop.
// blkid is an optional second opinion: if it is missing or fails, the
// answer is ours alone.
func blkidProbe(dev string) (signature, bool) {
	bin, err := exec.LookPath("blkid")
	if err != nil {
		return signature{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-p", "-o", "export", dev).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 8 {
		return signature{"ambivalent", "more than one signature (blkid: ambivalent result; see wipefs " + dev + ")", -1}, true
	}
	if err != nil {
		return signature{}, false
	}
	return parseBlkid(out)
}

// parseBlkid reads `blkid -p -o export` output (KEY=value lines).
func parseBlkid(out []byte) (signature, bool) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	offset := func(key string) int64 {
		if n, err := strconv.ParseInt(kv[key], 0, 64); err == nil {
			return n
		}
		return -1
	}
	if t := kv["TYPE"]; t != "" {
		return signature{t, "a " + firstNonEmpty(kv["USAGE"], "data") + " (" + t + ")", offset("SBMAGIC_OFFSET")}, true
	}
	if t := kv["PTTYPE"]; t != "" {
		return signature{t, "a partition table (" + t + ")", offset("PTMAGIC_OFFSET")}, true
	}
	return signature{}, false
}
