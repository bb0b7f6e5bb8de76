#!/bin/sh
# overhead: what a live view costs the run it shows: the dashboard or the
# --metrics endpoint.
#
# usage: overhead.sh dashboard|metrics path/to/lunbench [N (default 3)] [WxH (default 80x24)]
#
# It runs a scenario (the built-in quickstart unless SCENARIO=file.yaml, for
# example one on a zram device, where no disk shared with anything else
# adds noise) N times with the view and N times without (--no-tui, no
# --metrics), side by side so that load from anything else on the machine
# falls on both alike: alternating which mode goes first (A B, then B A),
# or with PAIRED=1 both at the same time, each on its own file, which
# cancels load that changes from minute to minute.
#   dashboard  the dashboard in a private tmux server (a real terminal) at
#              WxH; then, without a workload, `lunbench watch` of the work
#              directory's filesystem for WATCH_S seconds (default 20) with
#              and without the dashboard: its drawing alone. N = 0 measures
#              only that.
#   metrics    --metrics on a loopback port, scraped every SCRAPE seconds
#              (default 1, fifteen times Prometheus's default rate).
# For each run it records every phase's IOPS (run.json) and the CPU time of
# the lunbench process (user+sys, from the shell's `times`). It prints per
# phase the median IOPS of each mode, the ratio of medians, the median of
# the per-round ratios and each mode's range, then the median CPU seconds
# of each mode and the view's CPU as a share of one core.
#
# needs: jq; tmux (dashboard); curl, python3 (metrics). Writes only under a
# temporary directory it removes.
set -eu
usage() { sed -n '5p' "$0" | sed 's/^# //' >&2; exit 2; }
MODE=${1:-}
case $MODE in dashboard | metrics) ;; *) usage ;; esac
[ $# -ge 2 ] || usage
LB=$(readlink -f "$2")
N=${3:-3}
SIZE=${4:-80x24}
W=${SIZE%x*}
H=${SIZE#*x}
SCENARIO=${SCENARIO:-quickstart}
SCRAPE=${SCRAPE:-1}
DESIGN=alternating
[ -z "${PAIRED:-}" ] || DESIGN="at the same time (PAIRED)"
need=jq
[ "$MODE" = dashboard ] && need="$need tmux" || need="$need curl python3"
for t in $need; do
	command -v $t >/dev/null || { echo "overhead: $t is missing (apt-get install $t)" >&2; exit 1; }
done
WORK=$(mktemp -d /var/tmp/lunbench-overhead.XXXXXX)
SOCK=lb-overhead-$$
cleanup() {
	[ "$MODE" != dashboard ] || tmux -L "$SOCK" kill-server 2>/dev/null || true
	# The scrapers still running (an interrupted round), by PID.
	for p in $(cat "$WORK"/scraper.* 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# cpu FILE: "0m12.340s 0m3.210s" (the children's line of `times`) -> seconds.
cpu() { awk '{ n = split($0, f, /[ ms]+/); s = 0; for (i = 1; i < n; i += 2) s += f[i] * 60 + f[i + 1]; print s }' "$1"; }

# intmux NAME CMD TIMES: run CMD in a tmux session of the private server at
# WxH, and wait for it; TIMES gets the children's line of `times`.
intmux() {
	tmux -L "$SOCK" new-session -d -s "$1" -x "$W" -y "$H" \
		"sh -c \"$2; times >'$3.all'; sed -n 2p '$3.all' >'$3.tmp'; mv '$3.tmp' '$3'\""
	while [ ! -s "$3" ]; do sleep 1; done
	tmux -L "$SOCK" kill-session -t "$1" 2>/dev/null || true
}

# one view|plain I: a run; leaves $WORK/MODE-I/ (results) and
# $WORK/MODE-I.cpu (CPU seconds of the lunbench process).
one() {
	out=$WORK/$1-$2
	cmd="'$LB' run '$SCENARIO' --results '$WORK/res-$1' --out '$out'"
	# `times` prints the shell's own times, then its children's; it must
	# run in the shell that waited for lunbench, not in a pipeline's subshell.
	case $1-$MODE in
	plain-*) sh -c "$cmd --no-tui >/dev/null 2>&1; times" | sed -n 2p >"$out.times" ;;
	view-dashboard) intmux "d$2" "$cmd" "$out.times" ;;
	view-metrics)
		# A free port: the kernel's pick for a listener that closes at once.
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		(while :; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep "$SCRAPE"; done) &
		scraper=$!
		echo "$scraper" >"$WORK/scraper.$2"
		sh -c "$cmd --no-tui --metrics 127.0.0.1:$port >/dev/null 2>&1; times" | sed -n 2p >"$out.times"
		kill "$scraper"
		rm -f "$WORK/scraper.$2"
		;;
	esac
	cpu "$out.times" >"$out.cpu"
}

i=1
while [ "$i" -le "$N" ]; do
	if [ -n "${PAIRED:-}" ]; then
		one view "$i" &
		one plain "$i" &
		wait
	elif [ $((i % 2)) = 1 ]; then
		# Alternate which mode goes first, so neither always gets the
		# warmer cache or the quieter minute.
		one view "$i"
		one plain "$i"
	else
		one plain "$i"
		one view "$i"
	fi
	echo "round $i/$N done" >&2
	i=$((i + 1))
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }
# iops MODE PHASE: that phase's IOPS in each run of MODE, one a line.
iops() { for j in $(seq 1 "$N"); do jq -r --arg p "$2" '[.phases[] | select(.phase == $p) | .iops] | add' "$WORK/$1-$j/run.json"; done; }

if [ "$N" -gt 0 ]; then
	case $MODE in
	dashboard) what="dashboard at ${W}x${H} in tmux" ;;
	metrics) what="--metrics scraped every ${SCRAPE}s" ;;
	esac
	echo "$SCENARIO, $N runs per mode $DESIGN, $what; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
	# The paired ratio is the median over rounds of view/plain in the same
	# round: less noisy than the ratio of medians when the runs of a round
	# share the machine's state.
	printf '%-16s %11s %11s %7s %7s   %s\n' phase "$MODE" "plain" ratio paired "IOPS range $MODE / plain (min-max)"
	for ph in $(jq -r '.phases[].phase' "$WORK/plain-1/run.json"); do
		v=$(iops view "$ph" | median)
		p=$(iops plain "$ph" | median)
		iops plain "$ph" >"$WORK/plain.iops"
		pr=$(iops view "$ph" | paste - "$WORK/plain.iops" | awk '{ print $1 / $2 }' | median)
		printf '%-16s %11.0f %11.0f %7.3f %7.3f   %s / %s\n' "$ph" "$v" "$p" "$(echo "$v $p" | awk '{ print $1 / $2 }')" "$pr" \
			"$(iops view "$ph" | spread)" "$(iops plain "$ph" | spread)"
	done
	cv=$(for j in $(seq 1 "$N"); do cat "$WORK/view-$j.cpu"; done | median)
	cp=$(for j in $(seq 1 "$N"); do cat "$WORK/plain-$j.cpu"; done | median)
	len=$(jq -r '((.end | sub("\\.[0-9]+"; "") | fromdate) - (.start | sub("\\.[0-9]+"; "") | fromdate))' "$WORK/plain-1/run.json")
	echo "CPU seconds per run (median): $MODE $cv, plain $cp; run length ${len}s"
	echo "$MODE CPU: $(echo "$cv $cp $len" | awk '{ printf "%.2f%% of one core", ($1 - $2) / $3 * 100 }')"
	echo "per-run figures (mode round cpu_s):"
	for f in "$WORK"/*-*.cpu; do b=$(basename "$f" .cpu); echo "  ${b%-*} ${b##*-} $(cat "$f")"; done
fi

[ "$MODE" = dashboard ] || exit 0
# The dashboard alone, without a workload beside it: `lunbench watch` of
# the filesystem holding $WORK for WATCH_S seconds, in tmux and with
# --no-tui, so the difference is the dashboard's drawing at 4 Hz.
# --foreground: the dashboard needs the terminal, which timeout's own
# process group would not have (tcell's first write would stop it, SIGTTOU).
WATCH_S=${WATCH_S:-20}
wcpu() { # view|plain -> CPU seconds of one watch
	f=$WORK/watch-$1
	case $1 in
	plain) sh -c "timeout -s INT $WATCH_S '$LB' watch --no-tui '$WORK' >/dev/null 2>&1; times" | sed -n 2p >"$f.times" ;;
	view) intmux w "timeout --foreground -s INT $WATCH_S '$LB' watch '$WORK'" "$f.times" ;;
	esac
	cpu "$f.times"
}
wd=$(wcpu view)
wn=$(wcpu plain)
echo "watch for ${WATCH_S}s: CPU dashboard ${wd}s, no-tui ${wn}s: the dashboard alone $(echo "$wd $wn $WATCH_S" | awk '{ printf "%.2f%% of one core", ($1 - $2) / $3 * 100 }')"
