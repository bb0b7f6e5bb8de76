package workload

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/klauspost/compress/zstd"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// compressRatios compresses data record by record, as ZFS compresses each
// record (volblocksize) on its own, with zstd (klauspost/compress, default
// level) and with DEFLATE (the standard library's, gzip's algorithm), and
// returns input over output for each.
func compressRatios(t testing.TB, data []byte, record int) (zstdRatio, deflateRatio float64) {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var zOut, fOut int
	var fb bytes.Buffer
	fw, err := flate.NewWriter(&fb, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+record <= len(data); off += record {
		rec := data[off : off+record]
		zOut += len(enc.EncodeAll(rec, nil))
		fb.Reset()
		fw.Reset(&fb)
		fw.Write(rec)
		fw.Close()
		fOut += fb.Len()
	}
	in := float64(len(data) / record * record)
	return in / float64(zOut), in / float64(fOut)
}

// writes returns n blocks of bs as a worker of phase p would write them:
// stamped ids for plain phases, sector stamps for verified ones.
func writes(p *scenarios.Phase, n int, verified bool) []byte {
	rng := WorkerRNG(11, 0, 0, 0)
	p.Verify = verified
	w := &worker{buf: make([]byte, p.BS), bs: p.BS, rng: rng}
	fillRandom(w.buf, rng)
	w.shapePayload(p, rng)
	out := make([]byte, 0, n*int(p.BS))
	for i := range n {
		if verified {
			verify.StampN(w.buf, int64(i)*p.BS, 1, 42, 1e18, w.payload.stampRandom)
		} else {
			w.stampPayload()
		}
		out = append(out, w.buf...)
	}
	return out
}

// TestCompressRatio checks that compress: R gives data a real compressor
// shrinks to about 1/R, for plain and verified phases, at 4 KiB and 128 KiB
// records; and that the default stays incompressible.
func TestCompressRatio(t *testing.T) {
	tests := []struct {
		ratio    float64
		verified bool
		bs       int64
	}{
		{0, false, 4096},      // default: incompressible
		{1.5, false, 4096},    // mild
		{2, false, 4096},      // the example, 4 KiB records
		{2, false, 128 << 10}, // ZFS's default recordsize
		{4, false, 128 << 10}, // highly compressible
		{2, true, 4096},       // verified: stamps stay, payload shrinks
		{4, true, 128 << 10},  // verified, larger ratio
		{4, true, 4096},       // the most verify: true allows
	}
	for _, tc := range tests {
		p := &scenarios.Phase{RW: scenarios.Write, BS: tc.bs, Compress: tc.ratio}
		data := writes(p, int((8<<20)/tc.bs), tc.verified)
		z, f := compressRatios(t, data, int(tc.bs))
		want := max(tc.ratio, 1)
		t.Logf("compress %g verified=%v bs=%s: zstd %.3f, deflate %.3f", tc.ratio, tc.verified, scenarios.FormatSize(tc.bs), z, f)
		// zstd's frame and block headers cost a few bytes per record.
		if math.Abs(z-want)/want > 0.12 {
			t.Errorf("compress %g verified=%v bs=%d: zstd ratio %.3f, want %.2f ± 12%%", tc.ratio, tc.verified, tc.bs, z, want)
		}
	}
}

// TestDedupeShare checks that dedupe: D makes D% of written blocks byte for
// byte equal to an earlier one, and that without it none is.
func TestDedupeShare(t *testing.T) {
	for _, pct := range []int{0, 30, 75} {
		p := &scenarios.Phase{RW: scenarios.RandWrite, BS: 4096, DedupePct: pct}
		const n = 20000
		data := writes(p, n, false)
		dups := duplicateBlocks(data, 4096)
		got := float64(dups) / n
		t.Logf("dedupe %d%%: %.2f%% of %d blocks repeat an earlier one", pct, got*100, n)
		if math.Abs(got-float64(pct)/100) > 0.015 {
			t.Errorf("dedupe %d%%: %.3f of blocks are duplicates", pct, got)
		}
	}
}

// duplicateBlocks counts the blocks of data equal to an earlier block.
func duplicateBlocks(data []byte, bs int) int {
	seen := map[[32]byte]bool{}
	dups := 0
	for off := 0; off+bs <= len(data); off += bs {
		h := sha256.Sum256(data[off : off+bs])
		if seen[h] {
			dups++
		}
		seen[h] = true
	}
	return dups
}

// TestReductionEndToEnd writes files through the engine with compress: 2
// (plain and verified) and dedupe: 30%, reads what landed on disk and
// measures it with zstd and by hashing blocks.
func TestReductionEndToEnd(t *testing.T) {
	dir := diskTempDir(t)
	tests := []struct {
		name, phase string
		ratio       float64 // zstd ratio wanted over 128 KiB records, 0 to skip
		dedupe      float64 // duplicate 4 KiB blocks wanted, -1 to skip
	}{
		{"compress", "{name: p, rw: write, bs: 128k, qd: 2, bytes: 16MiB, compress: 2.0}", 2, -1},
		{"compress-verified", "{name: p, rw: write, bs: 128k, qd: 2, bytes: 16MiB, compress: 2.0, verify: true}", 2, -1},
		{"dedupe", "{name: p, rw: write, bs: 4k, qd: 4, bytes: 16MiB, dedupe: 30%}", 0, 0.30},
		{"default", "{name: p, rw: write, bs: 128k, qd: 2, bytes: 16MiB}", 1, 0},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, "lbwl-"+tc.name+".dat")
		src := "name: r\ntargets: [{name: f, path: " + path + ", size: 16MiB, allow_write: true}]\nphases:\n  - " + tc.phase + "\n"
		_, res := runScenario(t, src)
		for _, v := range res.Verify {
			if v.Problems() != 0 || v.Blocks == 0 {
				t.Errorf("%s: verify %s: %d blocks %v", tc.name, v.When, v.Blocks, v.Counts)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		z, f := compressRatios(t, data, 128<<10)
		dups := float64(duplicateBlocks(data, 4096)) / float64(len(data)/4096)
		t.Logf("%s: on disk zstd %.3f, deflate %.3f (128 KiB records); %.1f%% duplicate 4 KiB blocks", tc.name, z, f, dups*100)
		if tc.ratio > 0 && math.Abs(z-tc.ratio)/tc.ratio > 0.12 {
			t.Errorf("%s: zstd ratio on disk %.3f, want %s ± 12%%", tc.name, z, strconv.FormatFloat(tc.ratio, 'g', -1, 64))
		}
		if tc.dedupe >= 0 && math.Abs(dups-tc.dedupe) > 0.02 {
			t.Errorf("%s: %.3f of blocks are duplicates, want %.2f", tc.name, dups, tc.dedupe)
		}
	}
}

// BenchmarkStampPayload times shaping one write: 4 KiB half compressible
// (plain, with dedupe), and incompressible (the default) at 4 KiB and 1 MiB.
func BenchmarkStampPayload(b *testing.B) {
	for _, tc := range []struct {
		name     string
		bs       int64
		compress float64
		dedupe   int
	}{
		{"4k/compress=2/dedupe=0", 4096, 2, 0},   // half of each sector random
		{"4k/compress=2/dedupe=30", 4096, 2, 30}, // and repeats
		{"4k", 4096, 1, 0},                       // incompressible
		{"1M", 1 << 20, 1, 0},                    // sequential writes
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := &scenarios.Phase{RW: scenarios.RandWrite, BS: tc.bs, DedupePct: tc.dedupe, Compress: tc.compress}
			rng := WorkerRNG(1, 0, 0, 0)
			w := &worker{buf: make([]byte, tc.bs), bs: tc.bs, rng: rng}
			w.shapePayload(p, rng)
			b.SetBytes(tc.bs)
			b.ReportAllocs()
			for b.Loop() {
				w.stampPayload()
			}
		})
	}
}
