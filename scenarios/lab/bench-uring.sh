#!/bin/sh
# Deep queues across many LUNs: lunbench's threads and io_uring engines, and
# fio's io_uring and libaio, on four devices with real latency, at QD 32,
# 128 and 256 per device (4k randread). For each: IOPS over the four
# devices, CPU per I/O (the process's user+system CPU time over the measured
# window / I/Os in it) and the most OS threads the process had.
#
# Devices: loop devices with --direct-io=on over files on the VM's disk, so
# every I/O goes to the disk under the filesystem (no page cache). The files
# are written once in full, so reads hit real blocks rather than the
# filesystem's unwritten-extent shortcut.
#
# Windows: each tool runs SECS+3 s; CPU time and threads are read from
# /proc/PID/stat and /proc/PID/status from 2 s after the start (setup and
# ramp done) to SECS+2 s (before lunbench writes its report), and the I/Os
# in that window are taken from the tool's IOPS. Rounds alternate the order
# of the four runs, and the median of the rounds is printed.
#
# usage: bench-uring.sh path/to/lunbench [seconds per run] [rounds]
# Needs root (losetup) and fio. BENCH_PREFIX names everything it creates.
set -eu
LB=${1:?usage: bench-uring.sh path/to/lunbench [seconds] [rounds]}
SECS=${2:-10}
ROUNDS=${3:-3}
SIZE_MB=${BENCH_URING_MB:-512}
PREFIX=${BENCH_PREFIX:-lbu$$}
command -v fio >/dev/null || { echo "bench-uring: fio is not installed (apt-get install fio)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-uring: skipped: loop devices need root"; exit 0; }
WORK=$(mktemp -d "/var/tmp/$PREFIX-bench.XXXXXX")
DEVS=""
cleanup() {
	for d in $DEVS; do losetup -d "$d" 2>/dev/null || true; done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for i in 1 2 3 4; do
	f=$WORK/$PREFIX-lun$i.dat
	fio --name=fill --filename="$f" --rw=write --bs=1M --direct=1 --size=${SIZE_MB}M --output=/dev/null
	d=$(losetup --direct-io=on -f --show "$f")
	DEVS="$DEVS $d"
done
set -- $DEVS
echo "devices: $* (loop, direct-io, over ${SIZE_MB} MiB files on $(df --output=source "$WORK" | tail -1)); $SECS s per run; $(nproc) CPUs; $(uname -r)"

# measure CMD...: runs CMD, samples it, prints "cpu_seconds threads" for
# the window [2 s, SECS+2 s].
measure() {
	python3 - "$SECS" "$@" <<'PY'
import os, subprocess, sys, time
secs = float(sys.argv[1]); cmd = sys.argv[2:]
tick = os.sysconf("SC_CLK_TCK")
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def cpu():
    f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def threads():
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("Threads:"):
            return int(l.split()[1])
t0 = time.monotonic(); c0 = None; c1 = 0; th = 0
while p.poll() is None:
    el = time.monotonic() - t0
    try:
        if c0 is None and el >= 2:
            c0 = cpu()
        if c0 is not None and el < secs + 2:
            c1 = cpu(); th = max(th, threads())
    except (FileNotFoundError, ProcessLookupError):
        break
    if el >= secs + 2 and c0 is not None and c1:
        p.wait(); break
    time.sleep(0.1)
p.wait()
print("%.3f %d" % (c1 - (c0 or 0), th))
PY
}

# lb ENGINE QD: lunbench on the four devices; prints "iops cpu threads".
lb() {
	{
		echo "name: bench-uring"
		echo "targets:"
		n=0
		for d in $DEVS; do n=$((n + 1)); echo "  - {name: lun$n, path: $d}"; done
		echo "phases:"
		echo "  - {name: p, rw: randread, bs: 4k, qd: $2, duration: $((SECS + 1))s, ramp: 2s, engine: $1}"
	} >"$WORK/s.yaml"
	rm -rf "$WORK/lb"
	m=$(measure "$LB" run "$WORK/s.yaml" --no-tui --out "$WORK/lb")
	iops=$(python3 -c 'import json,sys; print(sum(p["iops"] for p in json.load(open(sys.argv[1]))["phases"] if p["phase"]=="p"))' "$WORK/lb/run.json")
	echo "$iops $m"
}

# fio_run ENGINE QD: one fio process, one thread per device; prints "iops cpu threads".
fio_run() {
	jobs=""
	for d in $DEVS; do jobs="$jobs --name=$(basename "$d") --filename=$d"; done
	m=$(measure fio --thread --rw=randread --bs=4k --direct=1 --ioengine="$1" --iodepth="$2" --time_based \
		--runtime=$((SECS + 1)) --ramp_time=2 --group_reporting --output-format=json --output="$WORK/fio.json" $jobs)
	iops=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"])' "$WORK/fio.json")
	echo "$iops $m"
}

run_one() { # tool qd -> "iops cpu threads"
	case $1 in
	lb-threads) lb threads "$2" ;;
	lb-uring) lb io_uring "$2" ;;
	fio-uring) fio_run io_uring "$2" ;;
	fio-libaio) fio_run libaio "$2" ;;
	esac
}

# Per-run rows go to $WORK/rows: qd tool iops cpu_s threads cpu_us_per_io.
: >"$WORK/rows"
for qd in 32 128 256; do
	for r in $(seq 1 "$ROUNDS"); do
		order=${BENCH_TOOLS:-lb-threads lb-uring fio-uring fio-libaio}
		[ $((r % 2)) = 0 ] && order=$(printf '%s\n' $order | tac | tr '\n' ' ')
		for tool in $order; do
			set -- $(run_one "$tool" "$qd")
			echo "$qd $tool $1 $2 $3 $(awk "BEGIN{if ($1 > 0) print $2 * 1e6 / ($1 * $SECS); else print 0}")" >>"$WORK/rows"
		done
	done
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
tools = ["lb-threads", "lb-uring", "fio-uring", "fio-libaio"]
print("%-5s %-11s %10s %14s %8s %22s" % ("qd", "engine", "IOPS", "CPU µs/I/O", "threads", "vs lb-threads IOPS/CPU"))
for qd in ("32", "128", "256"):
    med = {}
    for t in tools:
        rs = [r for r in rows if r[0] == qd and r[1] == t]
        if not rs:
            continue
        iops = statistics.median(float(r[2]) for r in rs)
        cpu = statistics.median(float(r[5]) for r in rs)
        th = max(int(r[4]) for r in rs)
        spread = max(float(r[2]) for r in rs) - min(float(r[2]) for r in rs)
        med[t] = (iops, cpu)
        base = med.get("lb-threads")
        rel = "%.2f / %.2f" % (iops / base[0], cpu / base[1]) if base and base[0] and base[1] else "-"
        print("%-5s %-11s %10.0f %14.2f %8d %22s   (IOPS spread %.0f over %d rounds)" % ("4x" + qd, t, iops, cpu, th, rel, spread, len(rs)))
PY
