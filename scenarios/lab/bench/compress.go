package main

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// checkSize is how much each writer writes in the compression check.
const checkSize = 64 << 20

// compressCheck shows that both tools write incompressible data, so that
// zram does the same work for each: each writer covers a scratch target in
// 4 KiB writes, then its first 8 MiB are read back and DEFLATE-compressed,
// and on zram the device's own ratio (mm_stat) is read too.
func compressCheck(ctx context.Context, lb string, d *devices) ([]string, error) {
	dev, err := d.make(ctx, "check", 0, checkSize)
	if err != nil {
		return nil, err
	}
	yaml := fmt.Sprintf("name: bench-check\ntargets:\n  - {name: t, path: %s, allow_write: true}\n"+
		"phases:\n  - {name: w, rw: write, bs: 4k, qd: 1, bytes: %d}\n", dev, checkSize)
	scen := filepath.Join(d.work, "check.yaml")
	if err := os.WriteFile(scen, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	fioBase := []string{"--name=check", "--filename=" + dev, "--direct=1", "--rw=write", "--bs=4k",
		"--size=" + strconv.Itoa(checkSize), "--output=/dev/null"}
	writers := []struct {
		name string
		cmd  []string
	}{
		{"fio, default buffers", append([]string{"fio"}, fioBase...)},
		{"fio, as the bench runs it", append(append([]string{"fio"}, fioBase...), fioWriteData...)},
		{"lunbench", []string{lb, "run", scen, "--no-tui", "--out", filepath.Join(d.work, "check-lb")}},
	}
	var lines []string
	for _, w := range writers {
		if out, err := exec.CommandContext(ctx, w.cmd[0], w.cmd[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("compression check, %s: %w: %s", w.name, err, strings.TrimSpace(string(out)))
		}
		ratio, err := deflateRatio(dev, 8<<20)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("%-26s DEFLATE %5.1f%% of the size", w.name+":", ratio*100)
		if z, ok := zramRatio(dev); ok {
			line += fmt.Sprintf(", zram stores %5.1f%%", z*100)
		}
		lines = append(lines, line)
	}
	return lines, os.RemoveAll(filepath.Join(d.work, "check-lb"))
}

// deflateRatio is the compressed size of path's first n bytes over n.
func deflateRatio(path string, n int64) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var out bytes.Buffer
	zw, _ := flate.NewWriter(&out, flate.DefaultCompression)
	if _, err := io.Copy(zw, io.LimitReader(f, n)); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return float64(out.Len()) / float64(n), nil
}

// zramRatio is compr_data_size / orig_data_size from a zram device's
// mm_stat (Documentation/admin-guide/blockdev/zram.rst: the first two
// fields).
func zramRatio(dev string) (float64, bool) {
	if !strings.HasPrefix(filepath.Base(dev), "zram") {
		return 0, false
	}
	b, err := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/mm_stat")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	orig, err1 := strconv.ParseFloat(f[0], 64)
	compr, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || orig == 0 {
		return 0, false
	}
	return compr / orig, true
}
