package collect

import (
	"bufio"
	"context"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// iostatIntervals is how many one-second intervals are compared.
const iostatIntervals = 6

// loopSize is the size of the file behind the test's loop device.
const loopSize = 256 << 20

// TestIostatAgreement checks the sampler against sysstat's iostat on a real
// loop device under load.
//
// Setup: a 256 MiB file on a real filesystem under /var/tmp (tmpfs has no
// O_DIRECT), attached with losetup --direct-io=on; four goroutines keep
// O_DIRECT I/O going to it, 70% 4 KiB reads and 30% 16 KiB writes at random
// offsets; `iostat -x -d -y 1 N loopX` runs alongside (LC_ALL=C).
//
// Alignment: iostat reads its counters, prints the interval's report and
// flushes. The moment its report's header line arrives the sampler is
// called, so both read /proc/diskstats within about a millisecond of each
// other, once a second. iostat's first report covers a second that began
// before its start, which the sampler did not see: the first report only
// gives the sampler its baseline, and reports 2..N+1 are compared with the
// sampler's rows 1..N.
//
// What is compared, as written to diskstats.csv: for r/s, w/s, rkB/s, wkB/s, r_await, w_await, aqu-sz
// and %util, the mean over the N intervals (for rates the same as the
// total over the window), within 5% of iostat's value plus 0.005, the
// rounding of iostat's two decimals. The largest single-interval deviation
// is logged too. Remaining differences come from iostat measuring the
// interval in hundredths of a second from /proc/uptime.
func TestIostatAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a loop device for several seconds")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to attach a loop device")
	}
	iostat, err := exec.LookPath("iostat")
	if err != nil {
		t.Skip("iostat (sysstat) not installed")
	}
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		t.Skip("losetup not installed")
	}
	if v, err := exec.Command(iostat, "-V").CombinedOutput(); err == nil {
		t.Logf("%s", strings.SplitN(string(v), "\n", 2)[0])
	}

	dev := attachLoop(t, losetup, "/var/tmp", loopSize)
	name := filepath.Base(dev)

	ctx, stop := context.WithCancel(t.Context())
	var load sync.WaitGroup
	for i := range 4 {
		load.Go(func() { driveLoad(ctx, t, dev, loopSize, uint64(i)) })
	}
	defer func() { stop(); load.Wait() }()
	time.Sleep(300 * time.Millisecond) // let the queue settle

	s, err := NewSampler(Host{}, dev)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	cmd := exec.CommandContext(ctx, iostat, "-x", "-d", "-y", "1", strconv.Itoa(iostatIntervals+1), name)
	// POSIXLY_CORRECT, even empty, would switch iostat to blocks/s.
	cmd.Env = []string{"LC_ALL=C"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "POSIXLY_CORRECT" && k != "LC_ALL" && k != "LANG" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Our rows go through diskstats.csv, and the file is what is compared.
	csvPath := filepath.Join(t.TempDir(), "diskstats.csv")
	csvFile, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	w := NewDiskStatsCSV(csvFile)
	var theirs []map[string]float64
	var header []string
	ourRows := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && strings.HasPrefix(f[0], "Device"):
			// A report just printed: read our counters now.
			rows, err := s.Sample(time.Now)
			if err != nil {
				t.Fatal(err)
			}
			header = f
			for _, r := range rows {
				if r.Device == name {
					ourRows++
				}
			}
			if err := w.Write(rows); err != nil {
				t.Fatal(err)
			}
		case len(f) > 0 && f[0] == name && header != nil:
			vals := map[string]float64{}
			for i := 1; i < len(f) && i < len(header); i++ {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					t.Fatalf("iostat column %s: %v", header[i], err)
				}
				vals[strings.Replace(header[i], "avgqu-sz", "aqu-sz", 1)] = v
			}
			theirs = append(theirs, vals)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("iostat: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	csvFile.Close()
	if len(theirs) != iostatIntervals+1 || ourRows != iostatIntervals {
		t.Fatalf("got %d iostat reports and %d rows of ours, want %d and %d (the first report is our baseline)",
			len(theirs), ourRows, iostatIntervals+1, iostatIntervals)
	}
	theirs = theirs[1:]
	ours := readDiskStatsCSV(t, csvPath, name)

	for _, c := range []string{"r/s", "w/s", "rkB/s", "wkB/s", "r_await", "w_await", "aqu-sz", "%util"} {
		var tsum, osum, worst float64
		for i := range theirs {
			tv, ok := theirs[i][c]
			if !ok {
				t.Fatalf("iostat has no column %s", c)
			}
			ov := ours[i][c]
			tsum += tv
			osum += ov
			if tv != 0 {
				worst = math.Max(worst, math.Abs(ov-tv)/math.Abs(tv))
			}
		}
		n := float64(len(theirs))
		tmean, omean := tsum/n, osum/n
		diff := math.Abs(omean - tmean)
		rel := 0.0
		if tmean != 0 {
			rel = diff / math.Abs(tmean)
		}
		t.Logf("%-8s iostat %10.3f  diskstats.csv %10.3f  mean differs %5.2f%%  worst interval %5.2f%%", c, tmean, omean, rel*100, worst*100)
		if tmean == 0 {
			t.Errorf("%s: iostat saw no activity; the load did not run", c)
		}
		if diff > 0.05*math.Abs(tmean)+0.005 {
			t.Errorf("%s: lunbench %.3f vs iostat %.3f: more than 5%% apart", c, omean, tmean)
		}
	}
}

// readDiskStatsCSV returns the figures of device's rows in a diskstats.csv.
func readDiskStatsCSV(t *testing.T, path, device string) []map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]float64
	for _, r := range recs[1:] {
		if r[2] != device {
			continue
		}
		m := map[string]float64{}
		for i, col := range recs[0] {
			if v, err := strconv.ParseFloat(r[i], 64); err == nil {
				m[col] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// attachLoop creates a file of size bytes under dir and attaches it to a
// free loop device with direct I/O; both go away at cleanup. It skips the
// test where dir is on tmpfs.
func attachLoop(t *testing.T, losetup, dir string, size int64) string {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Skipf("statfs %s: %v", dir, err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is tmpfs: no O_DIRECT, not a real disk", dir)
	}
	f, err := os.CreateTemp(dir, "lunbench-iostat-*.img")
	if err != nil {
		t.Fatal(err)
	}
	img := f.Name()
	t.Cleanup(func() { os.Remove(img) })
	// Allocated, not sparse, so reads reach the disk.
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		f.Close()
		t.Skipf("fallocate on %s: %v", dir, err)
	}
	f.Close()
	out, err := exec.Command(losetup, "--direct-io=on", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	// Write only to the device that holds our file.
	backing, err := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/loop/backing_file")
	if err != nil || strings.TrimSpace(string(backing)) != img {
		t.Fatalf("%s is backed by %q, not our %s", dev, backing, img)
	}
	return dev
}

// driveLoad keeps one O_DIRECT I/O in flight on dev until ctx ends: 70%
// 4 KiB reads, 30% 16 KiB writes, at random 4 KiB-aligned offsets.
func driveLoad(ctx context.Context, t *testing.T, dev string, size, seed uint64) {
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Errorf("open %s: %v", dev, err)
		return
	}
	defer unix.Close(fd)
	// mmap gives the page-aligned buffer O_DIRECT wants.
	buf, err := unix.Mmap(-1, 0, 16<<10, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Errorf("mmap: %v", err)
		return
	}
	defer unix.Munmap(buf)
	rng := rand.New(rand.NewPCG(seed, 0x10b))
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	blocks := (size - uint64(len(buf))) / 4096
	for ctx.Err() == nil {
		off := int64(rng.Uint64N(blocks) * 4096)
		if rng.IntN(10) < 7 {
			_, err = unix.Pread(fd, buf[:4096], off)
		} else {
			_, err = unix.Pwrite(fd, buf, off)
		}
		if err != nil {
			t.Errorf("I/O on %s at %d: %v", dev, off, err)
			return
		}
	}
}
