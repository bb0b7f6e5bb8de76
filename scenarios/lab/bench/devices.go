package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// devices makes the bench's targets and removes them again: zram devices
// it added, loop devices it attached, files it wrote. It touches no device
// it did not make.
type devices struct {
	work  string // scratch directory (backing files of disk targets)
	shm   string // tmpfs directory for the zram fallback's backing files
	root  bool
	zram  []int    // zram device numbers added with hot_add
	loops []string // loop devices attached
	made  map[string][]string
	// notes says what each device kind turned out to be.
	notes map[string]string
}

func newDevices(work string) *devices {
	return &devices{work: work, root: os.Geteuid() == 0, made: map[string][]string{}, notes: map[string]string{}}
}

const zramControl = "/sys/class/zram-control/hot_add"

// targets returns n targets of kind, size bytes each, filled with
// incompressible data so that reads hit real data (zram returns an empty
// slot without work). Targets are made once per kind and reused.
func (d *devices) targets(ctx context.Context, kind string, n int, size int64) ([]string, error) {
	if have := d.made[kind]; len(have) >= n {
		return have[:n], nil
	}
	var paths []string
	for i := len(d.made[kind]); i < n; i++ {
		p, err := d.make(ctx, kind, i, size)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	if err := fill(ctx, paths, size, filepath.Join(d.work, "fill.log")); err != nil {
		return nil, err
	}
	d.made[kind] = append(d.made[kind], paths...)
	return d.made[kind][:n], nil
}

// make makes target i of kind.
func (d *devices) make(ctx context.Context, kind string, i int, size int64) (string, error) {
	if !d.root {
		d.notes[kind] = "files on " + d.work + " (not root: no zram or loop devices)"
		return d.file(d.work, kind, i, size)
	}
	switch kind {
	case devDisk:
		f, err := d.file(d.work, kind, i, size)
		if err != nil {
			return "", err
		}
		d.notes[kind] = "loop devices with --direct-io=on over files on " + d.work
		return d.loop(ctx, f, "--direct-io=on")
	default:
		if p, err := d.addZram(ctx, size); err == nil {
			d.notes[kind] = "zram, " + strconv.FormatInt(size>>20, 10) + " MiB each"
			return p, nil
		} else if d.notes[kind] == "" {
			// No zram here: a loop device over a file in tmpfs is memory-
			// backed too (the loop driver copies through the page cache).
			d.notes[kind] = "NOT zram (" + err.Error() + "): loop devices over tmpfs files in " + d.shmDir()
		}
		f, err := d.file(d.shmDir(), kind, i, size)
		if err != nil {
			return "", err
		}
		return d.loop(ctx, f)
	}
}

func (d *devices) shmDir() string {
	if d.shm == "" {
		d.shm = filepath.Join("/dev/shm", filepath.Base(d.work))
	}
	return d.shm
}

// addZram adds a zram device of size bytes, loading the module if need be.
func (d *devices) addZram(ctx context.Context, size int64) (string, error) {
	if _, err := os.Stat(zramControl); err != nil {
		if out, err := exec.CommandContext(ctx, "modprobe", "zram", "num_devices=0").CombinedOutput(); err != nil {
			return "", fmt.Errorf("no %s and modprobe zram failed: %s", zramControl, strings.TrimSpace(string(out)))
		}
	}
	b, err := os.ReadFile(zramControl)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return "", fmt.Errorf("%s: %q", zramControl, b)
	}
	d.zram = append(d.zram, n)
	dev := "zram" + strconv.Itoa(n)
	if err := os.WriteFile("/sys/block/"+dev+"/disksize", []byte(strconv.FormatInt(size, 10)), 0); err != nil {
		return "", fmt.Errorf("%s disksize: %w", dev, err)
	}
	return "/dev/" + dev, nil
}

// file makes a backing file of size bytes in dir.
func (d *devices) file(dir, kind string, i int, size int64) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("%s%d.img", kind, i))
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return p, f.Truncate(size)
}

// loop attaches file to a free loop device.
func (d *devices) loop(ctx context.Context, file string, opts ...string) (string, error) {
	args := append([]string{"-f", "--show"}, opts...)
	out, err := exec.CommandContext(ctx, "losetup", append(args, file)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("losetup %s: %s", file, strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	d.loops = append(d.loops, dev)
	return dev, nil
}

// close removes everything d made, by name.
func (d *devices) close() error {
	var errs []error
	for _, l := range d.loops {
		if out, err := exec.Command("losetup", "-d", l).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("losetup -d %s: %s", l, strings.TrimSpace(string(out))))
		}
	}
	for _, n := range d.zram {
		dev := "/sys/block/zram" + strconv.Itoa(n)
		_ = os.WriteFile(dev+"/reset", []byte("1"), 0)
		if err := os.WriteFile("/sys/class/zram-control/hot_remove", []byte(strconv.Itoa(n)), 0); err != nil {
			errs = append(errs, fmt.Errorf("remove zram%d: %w", n, err))
		}
	}
	if d.shm != "" {
		errs = append(errs, os.RemoveAll(d.shm))
	}
	return errors.Join(errs...)
}

// fill writes incompressible data over every target, all at once.
func fill(ctx context.Context, paths []string, size int64, logPath string) error {
	args := []string{"--thread", "--direct=1", "--rw=write", "--bs=1M", "--size=" + strconv.FormatInt(size, 10)}
	args = append(args, fioWriteData...)
	for i, p := range paths {
		args = append(args, "--name=fill"+strconv.Itoa(i), "--filename="+p)
	}
	out, err := exec.CommandContext(ctx, "fio", args...).CombinedOutput()
	_ = os.WriteFile(logPath, out, 0o600)
	if err != nil {
		return fmt.Errorf("fill %s: %w (output in %s)", strings.Join(paths, " "), err, logPath)
	}
	return nil
}
