#!/bin/sh
# lunbench's latency percentiles against fio's, side by side on one device:
# 4k randread at QD1, lunbench's p50/p99 (its HDR histogram, 1 ns to 1 h at
# 3 significant digits) against fio psync's completion latency (clat) p50/p99
# (fio's own histogram, within about 1.6%). bench.sh calls it; it also runs
# alone.
#
# Expect the ratios within about 10%: both time the same pread from just
# before to just after the system call, and lunbench adds Go's system call
# path (entersyscall/exitsyscall, about 0.1 to 0.25 µs) to each I/O, which
# at zram's 2 to 3 µs is several percent.
#
# Target: $LAT_TARGET when set (a device or file it may read), else a zram
# device it creates, fills with incompressible data and removes (root), else
# a 1 GiB file so filled under /var/tmp. Rounds alternate the order (fio first, then
# lunbench first) so that other load on the machine falls on both alike; the
# medians over the rounds are compared.
#
# usage: latency-vs-fio.sh path/to/lunbench [seconds per run] [rounds]
set -eu
LB=${1:?usage: latency-vs-fio.sh path/to/lunbench [seconds] [rounds]}
SECS=${2:-10}
ROUNDS=${3:-4}
command -v fio >/dev/null || { echo "latency-vs-fio: fio is not installed (apt-get install fio)"; exit 1; }
WORK=$(mktemp -d /var/tmp/lunbench-latency.XXXXXX)
. "$(dirname "$0")/target.sh"
trap lab_cleanup EXIT INT TERM
lab_target "${LAT_TARGET:-}" 1G 1
echo "latency-vs-fio: 4k randread QD1 on $KIND; $SECS s a run, $ROUNDS rounds; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

fio_lat() { # -> "p50_us p99_us iops"
	fio --name=peer --filename="$TARGET" --rw=randread --bs=4k --direct=1 --ioengine=psync --thread \
		--numjobs=1 --time_based --runtime="$SECS" --ramp_time=1 --percentile_list=50:99 \
		--output-format=json --output="$WORK/fio.json" >/dev/null 2>&1 || { echo "0 0 0"; return; }
	python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["jobs"][0]["read"]; p=r["clat_ns"]["percentile"]
print(p["50.000000"]/1e3, p["99.000000"]/1e3, r["iops"])' "$WORK/fio.json"
}

lb_lat() { # -> "p50_us p99_us iops"
	cat >"$WORK/s.yaml" <<YAML
name: latency
targets:
  - {name: t, path: $TARGET}
phases:
  - {name: p, rw: randread, bs: 4k, qd: 1, duration: ${SECS}s, ramp: 1s}
YAML
	"$LB" run "$WORK/s.yaml" --no-tui --out "$WORK/lb" >/dev/null 2>&1 || { echo "0 0 0"; return; }
	python3 -c 'import json,sys
p=json.load(open(sys.argv[1]))["phases"][0]; l=p["latency"]
print(l["p50_ns"]/1e3, l["p99_ns"]/1e3, p["iops"])' "$WORK/lb/run.json"
	rm -rf "$WORK/lb"
}

printf '%-6s %-9s %10s %10s %10s\n' round tool "p50 µs" "p99 µs" IOPS
: >"$WORK/fio.txt"
: >"$WORK/lb.txt"
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) = 1 ]; then order="fio lunbench"; else order="lunbench fio"; fi
	for tool in $order; do
		if [ "$tool" = fio ]; then r=$(fio_lat); echo "$r" >>"$WORK/fio.txt"; else r=$(lb_lat); echo "$r" >>"$WORK/lb.txt"; fi
		set -- $r
		printf '%-6s %-9s %10.3f %10.3f %10.0f\n' "$i" "$tool" "$1" "$2" "$3"
	done
	i=$((i + 1))
done
python3 - "$WORK/fio.txt" "$WORK/lb.txt" <<'PY'
import statistics, sys
def cols(path):
    rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
    return [statistics.median(c) for c in zip(*rows)]
f, l = cols(sys.argv[1]), cols(sys.argv[2])
for name, i in (("p50", 0), ("p99", 1)):
    ratio = l[i] / f[i] if f[i] else float("nan")
    print(f"latency qd1 4k randread {name}: lunbench {l[i]:.3f} µs, fio psync clat {f[i]:.3f} µs, "
          f"ratio {ratio:.3f}, difference {l[i] - f[i]:+.3f} µs")
print(f"latency qd1 4k randread IOPS: lunbench {l[2]:.0f}, fio {f[2]:.0f}, ratio {l[2] / f[2]:.3f}")
PY
