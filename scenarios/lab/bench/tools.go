package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// setup is what a run of one case needs besides the case.
type setup struct {
	targets []string      // device paths, at least the case's Targets
	size    int64         // bytes of each target the case uses
	secs    time.Duration // measured time
	ramp    time.Duration // warm-up, not measured
	dir     string        // a scratch directory for the run's files
}

// result is what one run of one tool measured.
type result struct {
	iops, mibps float64
	// start and end bound the tool's measured window (wall clock).
	start, end time.Time
	// cpuPerMIO is CPU-seconds per million I/Os over the window;
	// threads the most OS threads the process had in it.
	cpuPerMIO float64
	threads   int
	// approx: too few samples fell inside the window (see window).
	approx bool
	// p50 and p99 are the completion latency percentiles (ns) of a
	// one-target case: lunbench's from submission to completion, fio's
	// clat; 0 when the run has no single figure (several targets).
	p50, p99 float64
}

// fioDir is one direction of a fio job's JSON output.
type fioDir struct {
	IOPS    float64 `json:"iops"`
	BWBytes float64 `json:"bw_bytes"`
	// Runtime (ms) is the group's measured time in this direction
	// (job_runtime sums the jobs' times instead).
	Runtime int64 `json:"runtime"`
	Clat    struct {
		Percentile map[string]float64 `json:"percentile"`
	} `json:"clat_ns"`
}

// fioWriteData makes fio's writes incompressible: a fresh random buffer for
// every I/O. fio's default buffers (random once, then scrambled) leave runs
// that zram's compressor handles differently from random data, and zram
// must do the same work for both tools.
var fioWriteData = []string{"--refill_buffers", "--buffer_compress_percentage=0", "--scramble_buffers=0"}

// fioArgs is fio's command line for the case: one job section per target,
// all in one group, each thread in the fio process (--thread) so that the
// scheduler sees one process as it does for lunbench.
func fioArgs(c benchCase, s setup, out string) []string {
	rw := map[string]string{"read": "read", "write": "write", "randread": "randread", "randwrite": "randwrite"}[c.RW]
	args := []string{
		"--thread", "--direct=1", "--time_based", "--group_reporting",
		"--runtime=" + secs(s.secs), "--ramp_time=" + secs(s.ramp),
		"--rw=" + rw, "--bs=" + c.BS, "--ioengine=" + c.Fio,
		"--output-format=json", "--output=" + out,
	}
	if c.Fio == "psync" {
		args = append(args, "--numjobs="+strconv.Itoa(c.QD))
	} else {
		args = append(args, "--iodepth="+strconv.Itoa(c.QD))
	}
	if c.sequential() && c.Fio == "psync" {
		// lunbench gives each of a target's qd workers its own share of
		// the range to walk; fio's jobs would all walk the same blocks.
		share := s.size / int64(c.QD)
		share -= share % (1 << 20)
		args = append(args, "--size="+strconv.FormatInt(share, 10), "--offset_increment="+strconv.FormatInt(share, 10))
	} else {
		args = append(args, "--size="+strconv.FormatInt(s.size, 10), "--norandommap", "--randrepeat=0")
	}
	if c.writes() {
		args = append(args, fioWriteData...)
	}
	for i := 0; i < c.Targets; i++ {
		args = append(args, "--name=t"+strconv.Itoa(i), "--filename="+s.targets[i])
	}
	return args
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// scenarioYAML is lunbench's scenario for the case.
func scenarioYAML(c benchCase, s setup) string {
	var b strings.Builder
	b.WriteString("name: bench\ntargets:\n")
	for i := 0; i < c.Targets; i++ {
		fmt.Fprintf(&b, "  - {name: t%d, path: %s, length: %d, allow_write: %v}\n", i, s.targets[i], s.size, c.writes())
	}
	fmt.Fprintf(&b, "phases:\n  - {name: p, rw: %s, bs: %s, qd: %d, duration: %s",
		c.RW, c.BS, c.QD, s.secs)
	if s.ramp > 0 {
		fmt.Fprintf(&b, ", ramp: %s", s.ramp)
	}
	if c.Verify {
		b.WriteString(", verify: true")
	}
	if c.Engine != "" {
		fmt.Fprintf(&b, ", engine: %s", c.Engine)
	}
	b.WriteString("}\n")
	return b.String()
}

// fioResult reads fio's JSON output: the group's IOPS and bandwidth, and
// its measured window (fio stamps the output when the jobs end and reports
// how long they ran, ramp excluded).
func fioResult(path string) (result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return result{}, err
	}
	// fio prints notes before the JSON on some errors; start at the brace.
	if i := strings.IndexByte(string(raw), '{'); i > 0 {
		raw = raw[i:]
	}
	var out struct {
		TimestampMS int64 `json:"timestamp_ms"`
		Jobs        []struct {
			Error int    `json:"error"`
			Read  fioDir `json:"read"`
			Write fioDir `json:"write"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return result{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(out.Jobs) == 0 {
		return result{}, fmt.Errorf("%s: no jobs", path)
	}
	var r result
	var runtime int64
	for _, j := range out.Jobs {
		if j.Error != 0 {
			return result{}, fmt.Errorf("%s: a job failed with error %d", path, j.Error)
		}
		r.iops += j.Read.IOPS + j.Write.IOPS
		r.mibps += (j.Read.BWBytes + j.Write.BWBytes) / (1 << 20)
		runtime = max(runtime, j.Read.Runtime, j.Write.Runtime)
	}
	if j := out.Jobs[0]; len(out.Jobs) == 1 {
		// One group (--group_reporting): its clat percentiles, of the
		// direction that did the I/O.
		d := j.Read
		if j.Write.IOPS > j.Read.IOPS {
			d = j.Write
		}
		r.p50, r.p99 = d.Clat.Percentile["50.000000"], d.Clat.Percentile["99.000000"]
	}
	r.end = time.UnixMilli(out.TimestampMS)
	r.start = r.end.Add(-time.Duration(runtime) * time.Millisecond)
	return r, nil
}

// lunbenchResult reads run.json: the phase's IOPS and bandwidth summed over
// targets and ops, and its measured window.
func lunbenchResult(dir string) (result, error) {
	path := filepath.Join(dir, "run.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return result{}, err
	}
	var run struct {
		Phases []struct {
			IOPS        float64   `json:"iops"`
			BytesPerSec float64   `json:"bytes_per_sec"`
			Start       time.Time `json:"start"`
			End         time.Time `json:"end"`
			Latency     struct {
				P50 float64 `json:"p50_ns"`
				P99 float64 `json:"p99_ns"`
			} `json:"latency"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(raw, &run); err != nil {
		return result{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(run.Phases) == 0 {
		return result{}, fmt.Errorf("%s: no phase results", path)
	}
	var r result
	if len(run.Phases) == 1 {
		// One target doing one op: its percentiles.
		r.p50, r.p99 = run.Phases[0].Latency.P50, run.Phases[0].Latency.P99
	}
	for _, p := range run.Phases {
		r.iops += p.IOPS
		r.mibps += p.BytesPerSec / (1 << 20)
		if r.start.IsZero() || p.Start.Before(r.start) {
			r.start = p.Start
		}
		if p.End.After(r.end) {
			r.end = p.End
		}
	}
	return r, nil
}
