#!/bin/sh
# dashboard-overhead: what the live dashboard costs the run it shows.
#
# Runs the built-in quickstart alternately (or, with PAIRED=1 in the
# environment, at the same time) with the dashboard (inside a
# private tmux server, so there is a real terminal) and with --no-tui, N
# times each, side by side so that load from anything else on the machine
# falls on both alike. For each run it records every phase's IOPS (run.json)
# and the process's CPU time (user+sys of the child, from the shell's
# `times`). It prints the median per mode, the IOPS ratio dashboard/no-tui
# per phase, and the dashboard's CPU cost as a share of one core:
# (median CPU with - median CPU without) / run length.
#
# usage: dashboard-overhead.sh path/to/lunbench [N (default 3; 0: watch only)] [WxH (default 80x24)]
# needs: tmux, jq. Writes only under a temporary directory it removes.
set -eu
LB=$(readlink -f "${1:?usage: dashboard-overhead.sh path/to/lunbench [N] [WxH]}")
N=${2:-3}
# SCENARIO=file.yaml runs another scenario than the quickstart, for example
# one on a zram device, where no disk shared with anything else adds noise.
SCENARIO=${SCENARIO:-quickstart}
DESIGN=alternating
[ -z "${PAIRED:-}" ] || DESIGN="at the same time (PAIRED)"
SIZE=${3:-80x24}
W=${SIZE%x*}
H=${SIZE#*x}
for t in tmux jq; do
	command -v $t >/dev/null || { echo "dashboard-overhead: $t is missing (apt-get install $t)" >&2; exit 1; }
done
WORK=$(mktemp -d /var/tmp/lunbench-overhead.XXXXXX)
SOCK=lb-overhead-$$
cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# one MODE I: a quickstart run; leaves $WORK/MODE-I/ (results) and
# $WORK/MODE-I.cpu (CPU seconds of the lunbench process).
one() {
	out=$WORK/$1-$2
	# `times` prints the shell's own times, then its children's; it must run in
	# the shell that waited for lunbench, not in a pipeline's subshell.
	cmd="'$LB' run '$SCENARIO' --results '$WORK/res-$1' --out '$out'"
	case $1 in
	notui)
		sh -c "$cmd --no-tui >/dev/null 2>&1; times" | sed -n 2p >"$out.times"
		;;
	dash)
		tmux -L "$SOCK" new-session -d -s "d$2" -x "$W" -y "$H" \
			"sh -c \"$cmd; times >'$out.times.all'; sed -n 2p '$out.times.all' >'$out.times.tmp'; mv '$out.times.tmp' '$out.times'\""
		while [ ! -s "$out.times" ]; do sleep 1; done
		tmux -L "$SOCK" kill-session -t "d$2" 2>/dev/null || true
		;;
	esac
	# "0m12.340s 0m3.210s" -> seconds
	awk '{ n = split($0, f, /[ ms]+/); s = 0; for (i = 1; i < n; i += 2) s += f[i] * 60 + f[i + 1]; print s }' \
		"$out.times" >"$out.cpu"
}

# N = 0 measures the watch part only.
i=1
while [ "$i" -le "$N" ]; do
	if [ -n "${PAIRED:-}" ]; then
		# Both at once, each on its own file: whatever else loads the
		# machine loads both alike, second by second.
		one dash "$i" &
		one notui "$i" &
		wait
	elif [ $((i % 2)) = 1 ]; then
		# Alternate which mode goes first, so neither always gets the warmer cache.
		one dash "$i"
		one notui "$i"
	else
		one notui "$i"
		one dash "$i"
	fi
	echo "round $i/$N done" >&2
	i=$((i + 1))
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

[ "$N" -gt 0 ] && {
echo "$SCENARIO, $N runs per mode $DESIGN, dashboard at ${W}x${H} in tmux; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
# iops MODE PHASE: that phase's IOPS in each run of MODE, one a line.
iops() { for j in $(seq 1 "$N"); do jq -r --arg p "$2" '[.phases[] | select(.phase == $p) | .iops] | add' "$WORK/$1-$j/run.json"; done; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }
# The paired ratio is the median over rounds of dash/no-tui in the same
# round: less noisy than the ratio of medians when runs of a round share
# the machine's state.
printf '%-16s %11s %11s %7s %7s   %s\n' phase "dash IOPS" "no-tui IOPS" ratio paired "range dash / no-tui (min-max)"
for ph in $(jq -r '.phases[].phase' "$WORK/notui-1/run.json"); do
	d=$(iops dash "$ph" | median)
	n=$(iops notui "$ph" | median)
	iops notui "$ph" >"$WORK/notui.iops"
	pr=$(iops dash "$ph" | paste - "$WORK/notui.iops" | awk '{ print $1 / $2 }' | median)
	printf '%-16s %11.0f %11.0f %7.3f %7.3f   %s / %s\n' "$ph" "$d" "$n" "$(echo "$d $n" | awk '{ print $1 / $2 }')" "$pr" \
		"$(iops dash "$ph" | spread)" "$(iops notui "$ph" | spread)"
done
cd_=$(for j in $(seq 1 "$N"); do cat "$WORK/dash-$j.cpu"; done | median)
cn=$(for j in $(seq 1 "$N"); do cat "$WORK/notui-$j.cpu"; done | median)
len=$(jq -r '((.end | sub("\\.[0-9]+"; "") | fromdate) - (.start | sub("\\.[0-9]+"; "") | fromdate))' "$WORK/notui-1/run.json")
echo "CPU seconds per run (median): dashboard $cd_, no-tui $cn; run length ${len}s"
echo "dashboard CPU: $(echo "$cd_ $cn $len" | awk '{ printf "%.2f%% of one core", ($1 - $2) / $3 * 100 }')"
}
# --foreground: the dashboard needs the terminal, which timeout's own
# process group would not have (tcell's first write would stop it, SIGTTOU).
# The dashboard alone, without a workload beside it: `lunbench watch` of
# the filesystem holding $WORK for WATCH_S seconds, in tmux and with
# --no-tui, so the difference is the dashboard's drawing at 4 Hz.
WATCH_S=${WATCH_S:-20}
wcpu() { # mode -> CPU seconds of one watch
	f=$WORK/watch-$1
	case $1 in
	notui) sh -c "timeout -s INT $WATCH_S '$LB' watch --no-tui '$WORK' >/dev/null 2>&1; times" | sed -n 2p >"$f.times" ;;
	dash)
		tmux -L "$SOCK" new-session -d -s w -x "$W" -y "$H" \
			"sh -c \"timeout --foreground -s INT $WATCH_S '$LB' watch '$WORK'; times >'$f.all'; sed -n 2p '$f.all' >'$f.tmp'; mv '$f.tmp' '$f.times'\""
		while [ ! -s "$f.times" ]; do sleep 1; done
		tmux -L "$SOCK" kill-session -t w 2>/dev/null || true
		;;
	esac
	awk '{ n = split($0, f, /[ ms]+/); s = 0; for (i = 1; i < n; i += 2) s += f[i] * 60 + f[i + 1]; print s }' "$f.times"
}
wd=$(wcpu dash)
wn=$(wcpu notui)
echo "watch for ${WATCH_S}s: CPU dashboard ${wd}s, no-tui ${wn}s: the dashboard alone $(echo "$wd $wn $WATCH_S" | awk '{ printf "%.2f%% of one core", ($1 - $2) / $3 * 100 }')"
echo "per-run figures (mode round cpu_s):"
for f in "$WORK"/*.cpu; do [ -e "$f" ] || continue; b=$(basename "$f" .cpu); echo "  ${b%-*} ${b##*-} $(cat "$f")"; done
