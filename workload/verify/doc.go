// Package verify proves that acknowledged writes survive a fault.
//
// Every 512-byte sector lunbench writes in a phase with verify: true
// carries a stamp over pseudo-random payload derived from the stamp's
// values (Stamp), so any sector can be checked alone; a generation map
// (Map) remembers, per unit of the target range, the generation of the last
// acknowledged write and whether a later one is pending; a verify pass
// (Run) reads the written units back and classifies each one (Check): ok,
// lost, misdirected, torn, corrupt or unwritten.
//
// # Stamp layout
//
// Each sector, little-endian (format 3):
//
//	offset  size  field
//	     0     8  key: splitmix64's finaliser over (offset, generation and
//	              random count, run id, time); also the header's check
//	     8     8  magic "LUNBSTM3"  XOR mask 0
//	    16     8  byte offset of this sector on the device  XOR mask 1
//	    24     8  run id  XOR mask 2
//	    32     8  write time, Unix nanoseconds  XOR mask 3
//	    40     8  generation (1..32767) | random count << 32  XOR mask 4
//	    48   464  payload: the run's pad XOR the sector's key stream, then zeros
//
// The masks are the key through one xor-shift, times five odd constants,
// so every header byte changes from sector to sector; the random count is
// how many payload bytes are random (464, or a multiple of 8 below). The
// pad is 58 words of wyrand seeded from the run id, made once per run
// (Stamper); the key stream is the Weyl sequence key + i·φ. Word i of the
// payload is pad[i] XOR key[i]: a load, an add, an xor and a store per
// eight bytes, four words a step with AVX2 (fill_amd64.s).
//
// The whole sector is incompressible and unique per sector ever written,
// so compressing and deduplicating targets (ZFS-backed COMSTAR,
// NexentaStor, zram) store it as they would real data and spend on it what
// they spend on real data. Format 2's headers were in clear: the magic,
// run id and time repeated every 512 bytes, and LZO in zram spent twice
// its time on such data as on random data. A phase with compress: writes
// only the first part of the payload random and the rest zeros (StampN).
// Checking a sector needs only the sector: Check unmasks the header,
// recomputes the key from its fields (a 64-bit check over the header),
// regenerates the payload and compares every byte (any change is found).
//
// Format 2 had magic "LUNBSTM2" at 0, then offset, run id, time,
// generation and random count in clear, a 468-byte payload at 40 and a
// 32-bit header check at 508; format 1 had magic "LUNBSTMP", the payload
// at 36..507 (a wyrand stream) and a CRC32C of bytes 0..507 at 508. Check
// still accepts both, so a results directory written then still verifies.
//
// # Generation map
//
// The map file (RUNDIR/verify/<target>.genmap, see MapPath) is a 4096-byte
// header page, then one little-endian uint16 per unit: the low 15 bits are
// the generation mod 32768 (0 never written; after 32767 comes 1), the top
// bit is set while a write is issued and not yet acknowledged (the unit may
// then hold that generation or the one before). The header page:
//
//	offset  size  field
//	     0     8  magic "LBGENMAP"
//	     8     4  format version (1)
//	    12     4  header length (4096)
//	    16     8  run id
//	    24     8  base: first byte of the range
//	    32     8  length of the range in bytes
//	    40     8  unit in bytes (a multiple of 512)
//	    48     8  device size in bytes
//	    56     8  created, Unix nanoseconds
//	    64     8  number of units (length / unit)
//	    72     2  target name length
//	    74     2  device path length
//	   128   256  target name
//	   384  1024  device path
//	  4092     4  CRC32C of bytes 0..4091
//
// The file is mapped MAP_SHARED, so the kernel keeps it and writes it back
// even if lunbench dies, and the engine msyncs it about once a second, so
// after a host crash it lags the device by at most that much; `lunbench
// verify` therefore accepts generations newer than the map's.
//
// Memory and disk: 2 bytes per unit. A 1 TiB range at 4 KiB units is 2^28
// units, a 512 MiB map; at 64 KiB units, 32 MiB. Pages of the map that are
// never touched cost neither memory nor disk (the file is sparse).
package verify
