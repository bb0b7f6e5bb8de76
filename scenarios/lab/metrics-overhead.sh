#!/bin/sh
# metrics-overhead: what --metrics costs the run it exports.
#
# Runs a scenario (the built-in quickstart unless SCENARIO=file.yaml) N
# times with --metrics on a loopback port, scraped every SCRAPE seconds
# (default 1, fifteen times Prometheus's default rate), and N times
# without, alternating which goes first, as dashboard-overhead.sh does, so
# that load from anything else on the machine falls on both alike; with
# PAIRED=1 the two runs of a round go at the same time, each on its own
# file, which cancels load that changes from minute to minute. It
# prints per phase the median IOPS of each mode, the ratio of medians and
# the median of the per-round ratios, and the CPU seconds of each mode.
#
# usage: metrics-overhead.sh path/to/lunbench [N (default 3)]
# needs: curl, jq. Writes only under a temporary directory it removes.
set -eu
LB=$(readlink -f "${1:?usage: metrics-overhead.sh path/to/lunbench [N]}")
N=${2:-3}
SCENARIO=${SCENARIO:-quickstart}
SCRAPE=${SCRAPE:-1}
DESIGN=alternating
[ -z "${PAIRED:-}" ] || DESIGN="at the same time (PAIRED)"
for t in curl jq; do
	command -v $t >/dev/null || { echo "metrics-overhead: $t is missing (apt-get install $t)" >&2; exit 1; }
done
WORK=$(mktemp -d /var/tmp/lbrep-metrics-overhead.XXXXXX)
cleanup() {
	# The scrapers still running (an interrupted round), by PID.
	for p in $(cat "$WORK"/scraper.* 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# one MODE I: a run; leaves $WORK/MODE-I/run.json and $WORK/MODE-I.cpu.
one() {
	out=$WORK/$1-$2
	case $1 in
	plain)
		sh -c "'$LB' run '$SCENARIO' --no-tui --results '$WORK/res-plain' --out '$out' >/dev/null 2>&1; times" | sed -n 2p >"$out.times"
		;;
	metrics)
		# A free port: the kernel's pick for a listener that closes at once.
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		(while :; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep "$SCRAPE"; done) &
		scraper=$!
		echo "$scraper" >"$WORK/scraper.$2"
		sh -c "'$LB' run '$SCENARIO' --no-tui --metrics 127.0.0.1:$port --results '$WORK/res-metrics' --out '$out' >/dev/null 2>&1; times" | sed -n 2p >"$out.times"
		kill "$scraper"
		rm -f "$WORK/scraper.$2"
		;;
	esac
	awk '{ n = split($0, f, /[ ms]+/); s = 0; for (i = 1; i < n; i += 2) s += f[i] * 60 + f[i + 1]; print s }' "$out.times" >"$out.cpu"
}

i=1
while [ "$i" -le "$N" ]; do
	if [ -n "${PAIRED:-}" ]; then
		one metrics "$i" &
		one plain "$i" &
		wait
	elif [ $((i % 2)) = 1 ]; then
		one metrics "$i"
		one plain "$i"
	else
		one plain "$i"
		one metrics "$i"
	fi
	echo "round $i/$N done" >&2
	i=$((i + 1))
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
iops() { for j in $(seq 1 "$N"); do jq -r --arg p "$2" '[.phases[] | select(.phase == $p) | .iops] | add' "$WORK/$1-$j/run.json"; done; }
echo "$SCENARIO, $N runs per mode $DESIGN, scraped every ${SCRAPE}s; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %13s %11s %7s %7s\n' phase "metrics IOPS" "plain IOPS" ratio paired
for ph in $(jq -r '.phases[].phase' "$WORK/plain-1/run.json"); do
	m=$(iops metrics "$ph" | median)
	p=$(iops plain "$ph" | median)
	iops plain "$ph" >"$WORK/plain.iops"
	pr=$(iops metrics "$ph" | paste - "$WORK/plain.iops" | awk '{ print $1 / $2 }' | median)
	printf '%-16s %13.0f %11.0f %7.3f %7.3f\n' "$ph" "$m" "$p" "$(echo "$m $p" | awk '{ print $1 / $2 }')" "$pr"
done
cm=$(for j in $(seq 1 "$N"); do cat "$WORK/metrics-$j.cpu"; done | median)
cp=$(for j in $(seq 1 "$N"); do cat "$WORK/plain-$j.cpu"; done | median)
echo "CPU seconds per run (median): metrics $cm, plain $cp"
