#!/bin/sh
# What verify: true costs: 4k randwrite at QD32, the same phase with and
# without verify, side by side on one device. bench.sh calls it; it also runs
# alone. The goal (issue 18) is a ratio of at least 0.90.
#
# Target: $VERIFY_TARGET when set (a device or file it may overwrite), else
# a zram device it creates and removes (root), else a 1 GiB file under
# /var/tmp. Rounds alternate the order (off first, then on first) so that
# other load on the machine falls on both alike; the median of the rounds'
# ratios is the figure, with the spread.
#
# usage: verify-cost.sh path/to/lunbench [seconds per run] [rounds]
set -eu
LB=${1:?usage: verify-cost.sh path/to/lunbench [seconds] [rounds]}
SECS=${2:-10}
ROUNDS=${3:-4}
WORK=$(mktemp -d /var/tmp/lunbench-verifycost.XXXXXX)
. "$(dirname "$0")/target.sh"
trap lab_cleanup EXIT INT TERM
lab_target "${VERIFY_TARGET:-}" 1G 0
echo "verify-cost: 4k randwrite QD32 on $KIND; $SECS s a run, $ROUNDS rounds; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

# One run: the phase's IOPS, and lunbench's CPU (user + system, zram's
# compression included) per I/O over the middle of the phase, read from
# /proc, so that the read-back pass at the end of a verified phase does not
# count. -> "iops cpu_us_per_io"
lb_run() { # verify
	cat >"$WORK/s.yaml" <<YAML
name: verify-cost
targets:
  - {name: t, path: $TARGET, allow_write: true}
phases:
  - {name: p, rw: randwrite, bs: 4k, qd: 32, duration: ${SECS}s, ramp: 1s, verify: $1}
YAML
	rm -rf "$WORK/lb"
	python3 - "$LB" "$WORK/s.yaml" "$WORK/lb" "$SECS" <<'PY'
import json, os, subprocess, sys, time
lb, scenario, out, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
p = subprocess.Popen([lb, "run", scenario, "--no-tui", "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(2); c0, t0 = cpu(p.pid), time.monotonic()   # after the 1 s ramp
time.sleep(max(secs - 1.5, 0.5)); c1, t1 = cpu(p.pid), time.monotonic()
p.wait()
try:
    iops = json.load(open(os.path.join(out, "run.json")))["phases"][0]["iops"]
except (OSError, ValueError, KeyError, IndexError):
    iops = 0
print(iops, (c1 - c0) / (iops * (t1 - t0)) * 1e6 if iops else 0)
PY
}

printf '%-6s %12s %12s %8s %14s %14s\n' round "off IOPS" "on IOPS" ratio "off µs CPU/IO" "on µs CPU/IO"
: >"$WORK/ratios"
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) = 1 ]; then
		off=$(lb_run false) on=$(lb_run true)
	else
		on=$(lb_run true) off=$(lb_run false)
	fi
	set -- $off $on
	echo "$1 $2 $3 $4" >>"$WORK/ratios"
	printf '%-6s %12.0f %12.0f %8.3f %14.2f %14.2f\n' "$i" "$1" "$3" "$(awk "BEGIN{print ($1 > 0) ? $3 / $1 : 0}")" "$2" "$4"
	i=$((i + 1))
done
python3 - "$WORK/ratios" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
r = sorted(on / off for off, _, on, _ in rows if off)
c = sorted(con / coff for _, coff, _, con in rows if coff)
if r:
    print(f"verify cost 4k randwrite qd32: IOPS with verify / without, median {statistics.median(r):.3f} "
          f"(min {r[0]:.3f}, max {r[-1]:.3f}, {len(r)} rounds)")
if c:
    print(f"verify cost 4k randwrite qd32: CPU per I/O with verify / without, median {statistics.median(c):.3f} "
          f"(min {c[0]:.3f}, max {c[-1]:.3f})")
PY
