package workload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// image is a sparse in-memory disk image: zeros except where put wrote.
type image struct {
	size  int64
	parts []imagePart
}

type imagePart struct {
	off int64
	b   []byte
}

func newImage(size int64) *image { return &image{size: size} }

func (m *image) put(off int64, b []byte) *image {
	m.parts = append(m.parts, imagePart{off, b})
	return m
}

func (m *image) putString(off int64, s string) *image { return m.put(off, []byte(s)) }

func (m *image) ReadAt(p []byte, off int64) (int, error) {
	if off >= m.size {
		return 0, io.EOF
	}
	n := len(p)
	if off+int64(n) > m.size {
		n = int(m.size - off)
	}
	clear(p[:n])
	for _, part := range m.parts {
		lo, hi := max(part.off, off), min(part.off+int64(len(part.b)), off+int64(n))
		if lo < hi {
			copy(p[lo-off:hi-off], part.b[lo-part.off:hi-part.off])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// bytes returns the first n bytes of the image, to write it to a file.
func (m *image) bytes(n int) []byte {
	b := make([]byte, n)
	m.ReadAt(b, 0)
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// extSuperblock is the 1 KiB ext2/3/4 superblock (at byte 1024) with sane
// counts and the given feature flags.
func extSuperblock(compat, incompat, roCompat uint32) []byte {
	sb := make([]byte, 1024)
	binary.LittleEndian.PutUint32(sb[0:], 16384) // s_inodes_count
	binary.LittleEndian.PutUint32(sb[4:], 65536) // s_blocks_count_lo
	binary.LittleEndian.PutUint32(sb[24:], 2)    // s_log_block_size: 4 KiB
	binary.LittleEndian.PutUint16(sb[56:], 0xEF53)
	binary.LittleEndian.PutUint32(sb[76:], 1) // s_rev_level: dynamic
	binary.LittleEndian.PutUint32(sb[92:], compat)
	binary.LittleEndian.PutUint32(sb[96:], incompat)
	binary.LittleEndian.PutUint32(sb[100:], roCompat)
	return sb
}

// mbr is a boot sector with the given partition types in its four entries.
func mbr(types ...byte) []byte {
	b := make([]byte, 512)
	for i, ty := range types {
		e := b[446+16*i:]
		e[4] = ty
		binary.LittleEndian.PutUint32(e[8:], 2048)   // first LBA
		binary.LittleEndian.PutUint32(e[12:], 30720) // sectors
	}
	b[510], b[511] = 0x55, 0xAA
	return b
}

// bootSector is a FAT/NTFS-style boot sector: jump, OEM id, code, 0x55AA.
// The "partition table" area is filled with code bytes, as in real ones.
func bootSector(oem string, fsTypeAt int, fsType string) []byte {
	b := make([]byte, 512)
	copy(b, "\xeb\x52\x90")
	copy(b[3:], oem)
	if fsType != "" {
		copy(b[fsTypeAt:], fsType)
	}
	for i := 90; i < 510; i++ {
		b[i] = byte(i*31 + 7)
	}
	b[510], b[511] = 0x55, 0xAA
	return b
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

func TestDetectSignature(t *testing.T) {
	const size = 64 << 20
	// md 1.0 and 0.90 and the ZFS end labels sit at offsets computed from
	// the size; spelled out here as the formats define them.
	const (
		md10At  = (size/512 - 16) &^ 7 * 512
		md090At = size&^(64<<10-1) - 64<<10
		zfsL2At = size&^(256<<10-1) - 512<<10
	)
	tests := []struct {
		name     string
		img      *image
		wantName string // "" for no signature
		wantOff  int64
	}{
		// A zeroed LUN: nothing to protect.
		{"blank", newImage(size), "", 0},
		// A previous benchmark's random payload is not a signature.
		{"random data", newImage(size).put(0, randomBytes(4<<20, 1)), "", 0},
		// Too small to hold anything.
		{"tiny", newImage(100), "", 0},
		// ext4: extents, 64bit, flex_bg and metadata_csum (mkfs.ext4 defaults).
		{"ext4", newImage(size).put(1024, extSuperblock(0x3c, 0x2c2, 0x46b)), "ext4", 1080},
		// ext3: a journal, no ext4-only features.
		{"ext3", newImage(size).put(1024, extSuperblock(0x4|0x38, 0x2, 0x3)), "ext3", 1080},
		// ext3 after a crash: needs_recovery is still ext3.
		{"ext3 recover", newImage(size).put(1024, extSuperblock(0x4|0x38, 0x2|0x4, 0x3)), "ext3", 1080},
		// ext2: no journal.
		{"ext2", newImage(size).put(1024, extSuperblock(0x38, 0x2, 0x3)), "ext2", 1080},
		// An external ext3/4 journal device.
		{"jbd", newImage(size).put(1024, extSuperblock(0, 0x8, 0)), "jbd", 1080},
		// 0xEF53 at 1080 in otherwise random bytes is not ext.
		{"ext magic alone", newImage(size).put(1024, randomBytes(1024, 2)).put(1080, []byte{0x53, 0xEF}), "", 0},
		// XFS: "XFSB" at 0.
		{"xfs", newImage(size).putString(0, "XFSB"), "xfs", 0},
		// btrfs: superblock at 64 KiB, magic at +64.
		{"btrfs", newImage(size).putString(65600, "_BHRfS_M"), "btrfs", 65600},
		// mkswap with 4 KiB pages: magic in the last 10 bytes of page 0.
		{"swap 4k", newImage(size).putString(4086, "SWAPSPACE2"), "swap", 4086},
		// Old-style swap from a 64 KiB-page machine (arm64, ppc64).
		{"swap 64k", newImage(size).putString(65526, "SWAP-SPACE"), "swap", 65526},
		// LVM2 PV label in sector 1 (pvcreate's default).
		{"lvm2", newImage(size).putString(512, "LABELONE").putString(536, "LVM2 001"), "LVM2_member", 512},
		// "LABELONE" of another type is not LVM2.
		{"label not lvm", newImage(size).putString(512, "LABELONE").putString(536, "XYZ 001 "), "", 0},
		// An MBR with one Linux partition.
		{"mbr", newImage(size).put(0, mbr(0x83)), "dos", 510},
		// 0x55AA with an empty table: boot code only, nothing to protect.
		{"mbr empty", newImage(size).put(0, mbr()), "", 0},
		// A protective MBR whose GPT headers are gone.
		{"pmbr", newImage(size).put(0, mbr(0xEE)), "PMBR", 510},
		// GPT on a 512-byte-sector disk, behind its protective MBR.
		{"gpt", newImage(size).put(0, mbr(0xEE)).putString(512, "EFI PART"), "gpt", 512},
		// GPT on a 4Kn disk: LBA 1 is byte 4096.
		{"gpt 4k", newImage(size).putString(4096, "EFI PART"), "gpt", 4096},
		// Only the backup GPT header (last LBA) survives.
		{"gpt backup", newImage(size).putString(size-512, "EFI PART"), "gpt", size - 512},
		// ZFS: an uberblock in label 0's ring, little-endian (x86).
		{"zfs le", newImage(size).put(128<<10+3<<10, le64(0x00bab10c)), "zfs_member", 128<<10 + 3<<10},
		// ZFS written big-endian (SPARC), found in label 2 at the end.
		{"zfs be end", newImage(size).put(zfsL2At+128<<10, be64(0x00bab10c)), "zfs_member", zfsL2At + 128<<10},
		// LUKS1/LUKS2 header at 0.
		{"luks", newImage(size).putString(0, "LUKS\xba\xbe\x00\x02"), "crypto_LUKS", 0},
		// Only LUKS2's secondary header (at 16 KiB) survives.
		{"luks2 secondary", newImage(size).putString(16<<10, "SKUL\xba\xbe"), "crypto_LUKS", 16 << 10},
		// mdraid 1.2 (mdadm's default): at 4 KiB.
		{"md 1.2", newImage(size).put(4096, le32(0xa92b4efc)).put(4100, le32(1)), "linux_raid_member", 4096},
		// mdraid 1.1: at 0.
		{"md 1.1", newImage(size).put(0, le32(0xa92b4efc)).put(4, le32(1)), "linux_raid_member", 0},
		// mdraid 1.0: 8 KiB before the end, 4 KiB aligned.
		{"md 1.0", newImage(size).put(md10At, le32(0xa92b4efc)).put(md10At+4, le32(1)), "linux_raid_member", md10At},
		// mdraid 0.90 from a big-endian host, in the last 64 KiB block.
		{"md 0.90", newImage(size).put(md090At, be32(0xa92b4efc)).put(md090At+4, be32(0)), "linux_raid_member", md090At},
		// NTFS boot sector (0x55AA too, but not an MBR).
		{"ntfs", newImage(size).put(0, bootSector("NTFS    ", 0, "")), "ntfs", 3},
		// FAT32 boot sector.
		{"fat32", newImage(size).put(0, bootSector("mkfs.fat", 82, "FAT32   ")), "vfat", 82},
		// FAT16 boot sector.
		{"fat16", newImage(size).put(0, bootSector("MSWIN4.1", 54, "FAT16   ")), "vfat", 54},
		// A hybrid ISO image (an MBR too): the filesystem wins.
		{"iso9660", newImage(size).put(0, mbr(0x17)).putString(32769, "CD001"), "iso9660", 32769},
		// bcache: superblock at 4 KiB, magic at +24.
		{"bcache", newImage(size).putString(4120, bcacheMagic), "bcache", 4120},
		// Oracle ASMLib disk.
		{"oracleasm", newImage(size).putString(32, "ORCLDISK"), "oracleasm", 32},
		// Ceph BlueStore OSD.
		{"bluestore", newImage(size).putString(0, "bluestore block device\n"), "ceph_bluestore", 0},
		// VMware datastore LUN: the VMFS volume header at 1 MiB.
		{"vmfs", newImage(size).put(1<<20, le32(0xc001d00d)), "VMFS_volume_member", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, off, ok := DetectSignature(tt.img, tt.img.size)
			if ok != (tt.wantName != "") || name != tt.wantName || (ok && off != tt.wantOff) {
				t.Errorf("got (%q, %d, %v), want (%q, %d)", name, off, ok, tt.wantName, tt.wantOff)
			}
		})
	}
}

// failingReader fails every read, as a dying LUN does.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, unix.EIO }

func TestDetectSignatureReadError(t *testing.T) {
	if _, _, ok := DetectSignature(failingReader{}, 1<<30); ok {
		t.Error("found a signature on an unreadable device")
	}
	if _, _, err := detect(failingReader{}, 1<<30); !errors.Is(err, unix.EIO) {
		t.Errorf("detect returned %v, want EIO so that the guard refuses", err)
	}
}

// TestDetectSignatureRealTools formats files with the mkfs tools this
// machine has and checks the detector agrees; missing tools skip their row.
func TestDetectSignatureRealTools(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string // FILE is replaced by the image path
		want string
	}{
		// e2fsprogs' defaults.
		{"mkfs.ext4", []string{"mkfs.ext4", "-q", "-F", "FILE"}, "ext4"},
		// ext3: a journal, no extents.
		{"mkfs.ext3", []string{"mkfs.ext3", "-q", "-F", "FILE"}, "ext3"},
		// ext2.
		{"mkfs.ext2", []string{"mkfs.ext2", "-q", "-F", "FILE"}, "ext2"},
		// util-linux mkswap.
		{"mkswap", []string{"mkswap", "FILE"}, "swap"},
		// xfsprogs.
		{"mkfs.xfs", []string{"mkfs.xfs", "-q", "-f", "FILE"}, "xfs"},
		// btrfs-progs.
		{"mkfs.btrfs", []string{"mkfs.btrfs", "-q", "-f", "FILE"}, "btrfs"},
		// dosfstools, FAT32.
		{"mkfs.vfat", []string{"mkfs.vfat", "-F", "32", "FILE"}, "vfat"},
		// LUKS2 from cryptsetup (a plain file needs no device-mapper).
		{"cryptsetup", []string{"sh", "-c", "printf secret | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 FILE --key-file=-", "cryptsetup"}, "crypto_LUKS"},
		// An MBR from util-linux sfdisk.
		{"sfdisk", []string{"sh", "-c", "echo 'start=2048, type=83' | sfdisk -q FILE", "sfdisk"}, "dos"},
		// A GPT from util-linux sfdisk.
		{"sfdisk gpt", []string{"sh", "-c", "printf 'label: gpt\nstart=2048\n' | sfdisk -q FILE", "sfdisk"}, "gpt"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tool := tt.cmd[0]
			if tool == "sh" {
				tool = tt.cmd[len(tt.cmd)-1]
			}
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s not installed", tool)
			}
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".img")
			if err := CreateSparse(file, 300<<20); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(tt.cmd))
			for i, a := range tt.cmd {
				args[i] = strings.ReplaceAll(a, "FILE", file)
			}
			if tt.cmd[0] == "sh" {
				args = args[:3]
			}
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			name, off, ok := DetectSignature(f, 300<<20)
			if !ok || name != tt.want {
				t.Errorf("got (%q, %d, %v), want %q", name, off, ok, tt.want)
			}
		})
	}
}

// TestBlkidProbe checks the parsing against the blkid installed here.
func TestBlkidProbeSignature(t *testing.T) {
	for _, tool := range []string{"blkid", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	file := filepath.Join(t.TempDir(), "ext4.img")
	if err := CreateSparse(file, 32<<20); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.ext4", "-q", "-F", file)
	if sig, ok := blkidProbe(file); !ok || sig.name != "ext4" || sig.desc != "a filesystem (ext4)" {
		t.Errorf("blkid on ext4: %+v %v", sig, ok)
	}
	blank := filepath.Join(t.TempDir(), "blank.img")
	if err := CreateSparse(blank, 32<<20); err != nil {
		t.Fatal(err)
	}
	if sig, ok := blkidProbe(blank); ok {
		t.Errorf("blkid on a blank image: %+v", sig)
	}
}

func TestGuardWriteFixture(t *testing.T) {
	probe := func(sys SysRoot, p string) Device {
		d, err := ProbeDevice(p, sys)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	file := Device{Path: "/var/tmp/lun.img", Resolved: "/var/tmp/lun.img", Kind: KindFile}
	tests := []struct {
		name    string
		d       Device
		sys     SysRoot
		destroy string
		want    string // the whole message; "" when the write is allowed
		found   string
	}{
		// A blank, unused loop device may be written.
		{"blank loop", probe(fixture("loop"), "/dev/loop3"), fixture("loop"), "", "", ""},
		// The whole disk of a mounted partition.
		{"mounted partition", probe(fixture("loop"), "/dev/loop4"), fixture("loop"), "",
			"refusing to write /dev/loop4: it is mounted at /mnt/bench data (loop4p1) and destroying a mounted filesystem is never allowed; unmount it first", "mounted"},
		// --destroy-data does not unlock a mounted filesystem, and says so.
		{"mounted with destroy", probe(fixture("loop"), "/dev/loop4"), fixture("loop"), "/dev/loop4",
			"refusing to write /dev/loop4: it is mounted at /mnt/bench data (loop4p1) and destroying a mounted filesystem is never allowed; --destroy-data never overrides that; unmount it first", "mounted"},
		// The mounted partition itself.
		{"mounted itself", probe(fixture("loop"), "/dev/loop4p1"), fixture("loop"), "",
			"refusing to write /dev/loop4p1: it is mounted at /mnt/bench data and destroying a mounted filesystem is never allowed; unmount it first", "mounted"},
		// Active swap.
		{"swap", probe(fixture("loop"), "/dev/loop5"), fixture("loop"), "",
			"refusing to write /dev/loop5: it is in use as swap (loop5); swapoff it first", "swap"},
		// A multipath path device: dm-multipath holds it.
		{"held", probe(fixture("held"), "/dev/sdf"), fixture("held"), "",
			"refusing to write /dev/sdf: it is held by dm-0 (mpatha): device-mapper, LVM or md is built on it; benchmark the holder instead, or remove it first", "held"},
		// Held, and --destroy-data names it: still refused.
		{"held with destroy", probe(fixture("held"), "/dev/sdf"), fixture("held"), "/dev/sdf",
			"refusing to write /dev/sdf: it is held by dm-0 (mpatha): device-mapper, LVM or md is built on it; --destroy-data never overrides that; benchmark the holder instead, or remove it first", "held"},
		// The multipath map itself is the thing to benchmark.
		{"multipath map", probe(fixture("held"), "/dev/mapper/mpatha"), fixture("held"), "", "", ""},
		// A RAID member: the walk goes up md0 to the LVM volumes on it and
		// finds the mounted one, three layers up.
		{"md member under mounted LVM", probe(fixture("stack"), "/dev/sdh"), fixture("stack"), "/dev/sdh",
			"refusing to write /dev/sdh: it is held by md0 [holders dm-2 (vg0-lv0) [mounted at /srv], dm-3 (vg0-lv1)]: device-mapper, LVM or md is built on it; --destroy-data never overrides that; benchmark the holder instead, or remove it first", "held"},
		// The md array itself, under the volume group.
		{"md under LVM", probe(fixture("stack"), "/dev/md0"), fixture("stack"), "",
			"refusing to write /dev/md0: it is held by dm-2 (vg0-lv0) [mounted at /srv], dm-3 (vg0-lv1): device-mapper, LVM or md is built on it; benchmark the holder instead, or remove it first", "held"},
		// An unmounted volume beside a mounted one on the same md0: its
		// sibling shares the disks, not the blocks, so it may be written.
		{"volume beside a mounted one", probe(fixture("stack"), "/dev/mapper/vg0-lv1"), fixture("stack"), "", "", ""},
		// Files are not the guard's business.
		{"file", file, SysRoot{}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := GuardWrite(tt.d, tt.destroy, tt.sys)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
			var u *UnsafeTargetError
			if !errors.As(err, &u) || u.Found != tt.found {
				t.Errorf("errors.As = %v, Found %q, want %q", u != nil, u.Found, tt.found)
			}
		})
	}
}

// copyTree copies a fixture tree, symlinks as symlinks, so a test can
// write a disk image into one of its /dev files.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, out)
		case e.IsDir():
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestGuardWriteSignature(t *testing.T) {
	root := copyTree(t, filepath.Join("testdata", "safety", "loop"))
	sys := SysRoot{Root: root}
	img := newImage(64<<20).put(1024, extSuperblock(0x3c, 0x2c2, 0x46b)).bytes(8192)
	if err := os.WriteFile(filepath.Join(root, "dev", "loop3"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "dev", "disk", "by-id"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../loop3", filepath.Join(root, "dev", "disk", "by-id", "lun3")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string // as the user names the device
		destroy string
		want    string // "" when allowed
	}{
		// An ext4 filesystem: refused, and told how to go ahead.
		{"ext4", "/dev/loop3", "",
			"refusing to write /dev/loop3: it carries an ext4 filesystem signature (found at byte 1080); to overwrite it anyway pass --destroy-data=/dev/loop3"},
		// --destroy-data naming it exactly allows it.
		{"destroy", "/dev/loop3", "/dev/loop3", ""},
		// --destroy-data naming another device does not.
		{"destroy other", "/dev/loop3", "/dev/loop33",
			"refusing to write /dev/loop3: it carries an ext4 filesystem signature (found at byte 1080); to overwrite it anyway pass --destroy-data=/dev/loop3"},
		// Named through a link: the hint uses the user's name.
		{"by link", "/dev/disk/by-id/lun3", "",
			"refusing to write /dev/disk/by-id/lun3 (loop3): it carries an ext4 filesystem signature (found at byte 1080); to overwrite it anyway pass --destroy-data=/dev/disk/by-id/lun3"},
		// Named through a link, destroy given as the resolved path.
		{"by link destroy resolved", "/dev/disk/by-id/lun3", "/dev/loop3", ""},
		// Named through a link, destroy given as the link.
		{"by link destroy link", "/dev/disk/by-id/lun3", "/dev/disk/by-id/lun3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ProbeDevice(tt.path, sys)
			if err != nil {
				t.Fatal(err)
			}
			err = GuardWrite(d, tt.destroy, sys)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
			var u *UnsafeTargetError
			if !errors.As(err, &u) || u.Found != "ext4" {
				t.Errorf("errors.As = %v, Found %q", u != nil, u.Found)
			}
		})
	}
}

func TestParseBlkidSignature(t *testing.T) {
	tests := []struct {
		name     string
		out      string
		wantName string
		wantDesc string
		wantOff  int64
	}{
		// A filesystem, with where blkid saw its magic.
		{"filesystem", "DEVNAME=/dev/loop3\nUUID=0f0e\nVERSION=1.0\nBLOCK_SIZE=4096\nTYPE=ext4\nUSAGE=filesystem\nSBMAGIC=S\xef\nSBMAGIC_OFFSET=0x438\n",
			"ext4", "a filesystem (ext4)", 1080},
		// A partition table.
		{"partition table", "DEVNAME=/dev/sdf\nPTUUID=1234\nPTTYPE=gpt\nPTMAGIC=EFI PART\nPTMAGIC_OFFSET=0x200\n",
			"gpt", "a partition table (gpt)", 512},
		// A type without an offset.
		{"no offset", "TYPE=jfs\nUSAGE=filesystem\n", "jfs", "a filesystem (jfs)", -1},
		// Nothing (blkid prints only DEVNAME, or nothing).
		{"nothing", "DEVNAME=/dev/loop3\n", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, ok := parseBlkid([]byte(tt.out))
			if ok != (tt.wantName != "") || sig.name != tt.wantName || (ok && (sig.desc != tt.wantDesc || sig.offset != tt.wantOff)) {
				t.Errorf("got %+v %v, want %q %q %d", sig, ok, tt.wantName, tt.wantDesc, tt.wantOff)
			}
		})
	}
}

// --- Root tests: real loop devices. ---

// needRoot skips unless the test can create loop devices with the tools.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates loop devices")
	}
	for _, tool := range append([]string{"losetup"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// newLoop backs a new loop device with a 64 MiB file on a disk filesystem
// (loop --direct-io needs O_DIRECT on the backing file) and detaches it,
// by the name losetup gave, when the test ends. init, if set, writes the
// file's first bytes before it is attached (a partition table). partscan
// asks the kernel to create loopNpM partition devices.
func newLoop(t *testing.T, init []byte, partscan bool) string {
	t.Helper()
	file := filepath.Join(diskTempDir(t), "lun.img")
	if err := CreateSparse(file, 64<<20); err != nil {
		t.Fatal(err)
	}
	if init != nil {
		f, err := os.OpenFile(file, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt(init, 0)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--direct-io=on", "-f", "--show"}
	if partscan {
		args = append(args, "-P")
	}
	out, err := exec.Command("losetup", append(args, file)...).CombinedOutput()
	if err != nil {
		t.Skipf("this machine cannot attach loop devices: losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^/dev/loop[0-9]+$`).MatchString(dev) {
		t.Fatalf("losetup printed %q, not a loop device", dev)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

// mount mounts dev on a new directory and unmounts it when the test ends
// (before the loop device is detached: cleanups run last-in first-out).
func mount(t *testing.T, dev string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, "mount", dev, dir)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestProbeDeviceLoopRoot(t *testing.T) {
	needRoot(t)
	dev := newLoop(t, nil, false)
	d, err := ProbeDevice(dev, SysRoot{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindBlock || d.Size != 64<<20 || d.LogicalBlock != 512 || d.KernelName != filepath.Base(dev) || d.Major != 7 || d.Resolved != dev {
		t.Errorf("got %+v; want a 64 MiB block device %s (major 7) with 512-byte logical blocks", d, filepath.Base(dev))
	}
	if d.PhysicalBlock < d.LogicalBlock {
		t.Errorf("physical block %d < logical %d", d.PhysicalBlock, d.LogicalBlock)
	}
}

func TestGuardWriteLoopRoot(t *testing.T) {
	needRoot(t, "mkfs.ext4", "mount", "umount")

	t.Run("mounted ext4", func(t *testing.T) {
		dev := newLoop(t, nil, false)
		run(t, "mkfs.ext4", "-q", "-F", dev)
		mnt := mount(t, dev)
		d, err := ProbeDevice(dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		err = GuardWrite(d, "", SysRoot{})
		var u *UnsafeTargetError
		if !errors.As(err, &u) || u.Found != "mounted" || !strings.Contains(err.Error(), "mounted at "+mnt) {
			t.Errorf("GuardWrite: %v", err)
		}
		// Even when the user says to destroy it.
		if err := GuardWrite(d, dev, SysRoot{}); !errors.As(err, &u) || u.Found != "mounted" {
			t.Errorf("GuardWrite with destroy: %v", err)
		}
		// The kernel refuses the O_EXCL open; the message says why.
		f, err := OpenTarget(d, true)
		if err == nil {
			f.Close()
			t.Fatal("opened a mounted device for writing")
		}
		want := "refusing to write " + dev + ": device is in use (mounted or held by another driver: mounted at " + mnt + ")"
		if err.Error() != want || !errors.As(err, &u) || !errors.Is(err, unix.EBUSY) {
			t.Errorf("OpenTarget(write):\ngot  %v\nwant %s", err, want)
		}
		// Reading a mounted device is harmless and allowed.
		f, err = OpenTarget(d, false)
		if err != nil {
			t.Fatalf("OpenTarget(read): %v", err)
		}
		f.Close()
	})

	t.Run("unmounted ext4", func(t *testing.T) {
		dev := newLoop(t, nil, false)
		run(t, "mkfs.ext4", "-q", "-F", dev)
		d, err := ProbeDevice(dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		want := "refusing to write " + dev + ": it carries an ext4 filesystem signature (found at byte 1080); to overwrite it anyway pass --destroy-data=" + dev
		if err := GuardWrite(d, "", SysRoot{}); err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
		if err := GuardWrite(d, "/dev/loop-not-this-one", SysRoot{}); err == nil {
			t.Error("allowed with --destroy-data naming another device")
		}
		if err := GuardWrite(d, dev, SysRoot{}); err != nil {
			t.Errorf("refused with --destroy-data=%s: %v", dev, err)
		}
		f, err := OpenTarget(d, true)
		if err != nil {
			t.Fatalf("OpenTarget(write) of an unmounted device: %v", err)
		}
		f.Close()
	})

	t.Run("blank", func(t *testing.T) {
		dev := newLoop(t, nil, false)
		d, err := ProbeDevice(dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		if err := GuardWrite(d, "", SysRoot{}); err != nil {
			t.Fatalf("refused a blank device: %v", err)
		}
		w, err := OpenTarget(d, true)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		out := directio.AlignedBlock(4096)
		copy(out, randomBytes(4096, 3))
		if _, err := w.WriteAt(out, 1<<20); err != nil {
			t.Fatalf("O_DIRECT write: %v", err)
		}
		r, err := OpenTarget(d, false)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		in := directio.AlignedBlock(4096)
		if _, err := r.ReadAt(in, 1<<20); err != nil {
			t.Fatalf("O_DIRECT read: %v", err)
		}
		if !bytes.Equal(in, out) {
			t.Error("read back differs from what was written")
		}
		// While this writer holds it O_EXCL, a second writer is refused.
		if f, err := OpenTarget(d, true); err == nil {
			f.Close()
			t.Error("a second O_EXCL open succeeded")
		} else if !strings.Contains(err.Error(), "opened exclusively by another program") {
			t.Errorf("second writer: %v", err)
		}
	})

	t.Run("mounted partition", func(t *testing.T) {
		// An MBR with one Linux partition from sector 2048 to the end.
		table := mbr(0x83)
		binary.LittleEndian.PutUint32(table[446+12:], 64<<20/512-2048)
		dev := newLoop(t, table, true)
		part := dev + "p1"
		if _, err := os.Stat(part); err != nil {
			// Kernels built without CONFIG_MSDOS_PARTITION (this
			// firecracker VM's) do not scan the table; partx adds the
			// partition with BLKPG instead. Detaching removes it.
			if _, lerr := exec.LookPath("partx"); lerr == nil {
				exec.Command("partx", "-a", dev).Run()
			}
		}
		if _, err := os.Stat(part); err != nil {
			t.Skipf("no partition device for %s (kernel partition scan and partx both failed): %v", dev, err)
		}
		run(t, "mkfs.ext4", "-q", "-F", part)
		mnt := mount(t, part)
		d, err := ProbeDevice(dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		want := "refusing to write " + dev + ": it is mounted at " + mnt + " (" + filepath.Base(part) + ") and destroying a mounted filesystem is never allowed; unmount it first"
		if err := GuardWrite(d, "", SysRoot{}); err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})

	t.Run("swap signature", func(t *testing.T) {
		if _, err := exec.LookPath("mkswap"); err != nil {
			t.Skip("needs mkswap")
		}
		dev := newLoop(t, nil, false)
		run(t, "mkswap", dev)
		d, err := ProbeDevice(dev, SysRoot{})
		if err != nil {
			t.Fatal(err)
		}
		var u *UnsafeTargetError
		if err := GuardWrite(d, "", SysRoot{}); !errors.As(err, &u) || u.Found != "swap" || !strings.Contains(err.Error(), "a swap area signature") {
			t.Errorf("GuardWrite: %v", err)
		}
	})
}
