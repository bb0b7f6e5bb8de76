#!/bin/sh
# lunbench against fio, side by side on the same target, for the numbers in
# the closing notes: 4k randread at qd 1 and qd 32, and 1 MiB sequential read.
#
# Target: a zram device (memory-backed, so the harness's own overhead shows)
# when run as root, else a 1 GiB file on the current filesystem. fio runs
# with each engine that can keep a queue (psync with numjobs = qd, libaio and
# io_uring with iodepth = qd) and the best one is the peer. fio times I/O with
# the TSC where the CPU flags allow; Go always uses clock_gettime, which is a
# real system call on VMs whose kernel marks the TSC unstable, so fio is also
# run with --clocksource=clock_gettime to show the engines on equal clocks.
#
# usage: bench.sh path/to/lunbench [seconds per test]
set -eu
LB=${1:?usage: bench.sh path/to/lunbench [seconds]}
SECS=${2:-10}
command -v fio >/dev/null || { echo "bench: fio is not installed (apt-get install fio)"; exit 1; }
WORK=$(mktemp -d /var/tmp/lunbench-bench.XXXXXX)
ZRAM=""
cleanup() {
	if [ -n "$ZRAM" ]; then
		echo 1 >"/sys/block/$ZRAM/reset" 2>/dev/null || true
		echo "${ZRAM#zram}" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" = 0 ] && [ -w /sys/class/zram-control/hot_add ]; then
	n=$(cat /sys/class/zram-control/hot_add)
	ZRAM=zram$n
	echo 2G >"/sys/block/$ZRAM/disksize"
	TARGET=/dev/$ZRAM
	# Fill it once so reads hit real pages rather than zram's empty-slot path.
	fio --name=fill --filename="$TARGET" --rw=write --bs=1M --direct=1 --size=2G --output=/dev/null
	KIND="zram ($TARGET, 2 GiB)"
else
	TARGET=$WORK/bench.dat
	fio --name=fill --filename="$TARGET" --rw=write --bs=1M --direct=1 --size=1G --output=/dev/null
	KIND="file ($TARGET, 1 GiB)"
fi
echo "target: $KIND; $SECS s per test; $(nproc) CPUs; $(uname -r)"

fio_rate() { # rw bs qd engine -> "iops bw_bytes"
	case $4 in
	psync) extra="--ioengine=psync --numjobs=$3 --group_reporting" ;;
	*) extra="--ioengine=$4 --iodepth=$3" ;;
	esac
	fio --name=peer --filename="$TARGET" --rw="$1" --bs="$2" --direct=1 --time_based --runtime="$SECS" \
		--ramp_time=1 $extra ${FIO_CLOCK:-} --output-format=json --output="$WORK/fio.json" >/dev/null 2>&1 || { echo "0 0"; return; }
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]["read"]; print(j["iops"], j["bw_bytes"])' "$WORK/fio.json"
}

lb_rate() { # rw bs qd -> "iops bw_bytes"
	cat >"$WORK/s.yaml" <<YAML
name: bench
targets:
  - {name: t, path: $TARGET}
phases:
  - {name: p, rw: $1, bs: $2, qd: $3, duration: ${SECS}s, ramp: 1s}
YAML
	"$LB" run "$WORK/s.yaml" --no-tui --out "$WORK/lb" >/dev/null
	python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["phases"][0]; print(p["iops"], p["bytes_per_sec"])' "$WORK/lb/run.json"
	rm -rf "$WORK/lb"
}

median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

printf '%-18s %-9s %12s %12s\n' test engine IOPS MiB/s
for t in "randread 4k 1" "randread 4k 32" "read 1M 8"; do
	set -- $t
	best_iops=0 best_eng=""
	for eng in psync libaio io_uring; do
		r=$(fio_rate "$1" "$2" "$3" $eng)
		iops=${r% *} bw=${r#* }
		printf '%-18s %-9s %12.0f %12.1f\n' "$1 $2 qd$3" $eng "$iops" "$(echo "$bw" | awk '{print $1/1048576}')"
		if awk "BEGIN{exit !($iops > $best_iops)}"; then best_iops=$iops best_eng=$eng; fi
	done
	# Alternate the best fio engine and lunbench three times, so that load
	# from anything else on the machine falls on both alike; the median
	# ratio of the pairs is the figure.
	ratios="" cratios=""
	for i in 1 2 3; do
		f=$(fio_rate "$1" "$2" "$3" $best_eng)
		g=$(FIO_CLOCK=--clocksource=clock_gettime fio_rate "$1" "$2" "$3" $best_eng)
		l=$(lb_rate "$1" "$2" "$3")
		fi_=${f% *} gi=${g% *} li=${l% *} lb=${l#* }
		ratio=$(awk "BEGIN{print $li/$fi_}")
		cratio=$(awk "BEGIN{print $li/$gi}")
		ratios="$ratios $ratio" cratios="$cratios $cratio"
		printf '%-18s %-9s %12.0f %12.1f   fio %s %0.f IOPS (ratio %.3f); same clock as lunbench %0.f IOPS (ratio %.3f)\n' \
			"$1 $2 qd$3" lunbench "$li" "$(echo "$lb" | awk '{print $1/1048576}')" "$best_eng" "$fi_" "$ratio" "$gi" "$cratio"
	done
	printf '%-18s median lunbench/fio(%s): %s; with fio on clock_gettime too: %s\n' "$1 $2 qd$3" "$best_eng" \
		"$(median3 $ratios)" "$(median3 $cratios)"
done

# Deep queues over many LUNs with real latency: lunbench's threads and
# io_uring engines and fio's io_uring and libaio on four loop devices
# (issue 18, section 5; root only).
sh "$(dirname "$0")/bench-uring.sh" "$LB" "$SECS"
