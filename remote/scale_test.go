package remote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lunbench/report"
)

// TestScale64 runs one phase over 64 hosts, each a real agent process of
// its own with its own file, and measures what the coordinator costs per
// host and second of run: CPU (this process's, the agents' excluded) and
// protocol bytes. The figures go in the README ("How far one coordinator
// goes"); the bounds here are loose, for a shared 2-core machine.
func TestScale64(t *testing.T) {
	if testing.Short() {
		t.Skip("64 agent processes for 10 s; not in -short")
	}
	hosts := 64
	if n, err := strconv.Atoi(os.Getenv("LUNBENCH_SCALE_HOSTS")); err == nil && n > 0 {
		hosts = n
	}
	const runFor = 10 * time.Second
	d := diskDir(t)
	var b strings.Builder
	fmt.Fprintf(&b, "name: scale\ninterval: 1s\nhosts:\n")
	for i := range hosts {
		fmt.Fprintf(&b, "  - {name: h%02d}\n", i)
	}
	b.WriteString("targets:\n")
	for i := range hosts {
		fmt.Fprintf(&b, "  - {name: t%02d, path: %s, size: 1MiB, host: h%02d}\n", i, filepath.Join(d, fmt.Sprintf("t%02d.dat", i)), i)
	}
	fmt.Fprintf(&b, "phases:\n  - {name: p, rw: randread, bs: 4k, qd: 1, rate_iops: 100, duration: %s}\n", runFor)
	sc := parse(t, b.String())
	tr := func(h Host) Transport { return &Local{Path: os.Args[0], Env: []string{agentEnv + "=1"}} }
	dir := filepath.Join(t.TempDir(), "res")
	var ru0, ru1, ruPhase, ch0, ch1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	unix.Getrusage(unix.RUSAGE_CHILDREN, &ch0)
	t0 := time.Now()
	var tPhase time.Time
	status := func(s string) {
		if strings.HasPrefix(s, "phase p started") {
			tPhase = time.Now()
			unix.Getrusage(unix.RUSAGE_SELF, &ruPhase)
		}
	}
	out, err := Run(context.Background(), Options{Scenario: sc, Dir: dir, Transport: tr, Version: report.Version, NoRender: true, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	unix.Getrusage(unix.RUSAGE_CHILDREN, &ch1)
	cpu := cpuOf(ru1) - cpuOf(ru0)
	phaseCPU, phaseWall := cpuOf(ru1)-cpuOf(ruPhase), time.Since(tPhase)
	agents := cpuOf(ch1) - cpuOf(ch0)
	var in, outB int64
	finished := 0
	for _, h := range out.Hosts {
		in += h.BytesIn
		outB += h.BytesOut
		if h.Status == "finished" {
			finished++
		}
	}
	if finished != hosts {
		t.Fatalf("%d of %d hosts finished", finished, hosts)
	}
	hostSec := float64(hosts) * runFor.Seconds()
	perHost := time.Duration(float64(cpu) / hostSec)
	t.Logf("%d hosts, %v phase, %v wall (start-up and results included): coordinator CPU %v = %.1f%% of one core over the wall time; %v CPU per host per second of run; protocol in %.1f KiB/s per host, out %.0f B/s per host",
		hosts, runFor, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(),
		perHost.Round(time.Microsecond), float64(in)/hostSec/1024, float64(outB)/hostSec)
	t.Logf("from the barrier on (phase and results): coordinator %v CPU over %v = %.1f%% of one core; %v per host per second. The %d agents together used %v CPU: the coordinator costs %.1f%% of what its agents do",
		phaseCPU.Round(time.Millisecond), phaseWall.Round(time.Millisecond), 100*phaseCPU.Seconds()/phaseWall.Seconds(),
		time.Duration(float64(phaseCPU)/hostSec).Round(time.Microsecond), hosts, agents.Round(time.Millisecond), 100*cpu.Seconds()/agents.Seconds())
	if perHost > 20*time.Millisecond {
		t.Errorf("coordinator CPU %v per host per second: a coordinator would not keep up with %d hosts", perHost, hosts)
	}
	var ops uint64
	for _, p := range out.Run.Phases {
		ops += p.Ops
	}
	if ops == 0 {
		t.Error("no I/O")
	}
}

// cpuOf is a rusage's user plus system time.
func cpuOf(ru unix.Rusage) time.Duration {
	return time.Duration(unix.TimevalToNsec(ru.Utime) + unix.TimevalToNsec(ru.Stime))
}
