#!/bin/bash
# The hostile cases of issue 11, run against a real lunbench binary: one
# row per case with the exit code and the first line of the message, as a
# Markdown table. Everything is made under a fresh temp directory and
# removed at the end; the full-disk cases mount small tmpfs there (root
# only, skipped otherwise) and unmount them by path.
#
# usage: hostile.sh path/to/lunbench
set -u
LB=$(readlink -f "${1:?usage: hostile.sh path/to/lunbench}")
W=$(mktemp -d /var/tmp/lbhost-hostile.XXXXXX)
MOUNTS=()
cleanup() {
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	[ -n "${KPID:-}" ] && kill -9 "$KPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
cd "$W" || exit 1
truncate -s 1M small.dat

# scen NAME TARGET-KEYS PHASE-KEYS: a one-target, one-phase scenario.
scen() {
	printf 'name: h\ntargets:\n  - name: a\n%sphases:\n  - name: p\n    bs: 4k\n    duration: 2s\n%s' "$2" "$3" >"$1.yaml"
	echo "$1.yaml"
}
# row CASE CMD...: runs CMD, prints | case | exit | first line of stderr |.
row() {
	local name=$1
	shift
	"$@" >out.txt 2>err.txt
	local code=$?
	local msg
	msg=$(grep -v '^lunbench: scenario is not valid:$' err.txt | head -1 | sed "s|$W/||g; s/|/\\\\|/g")
	echo "| $name | $code | ${msg:-$(grep -m1 'verdict' out.txt)} |"
}
mnt() { mkdir -p "$1" && mount -t tmpfs -o "size=$2" lbhost-hostile "$1" && MOUNTS+=("$W/$1"); }

echo "| case | exit | message |"
echo "| --- | --- | --- |"
R="    rw: read
"
row "rate_iops: 1e-300" "$LB" run "$(scen r1 "    path: $W/small.dat
" "$R    rate_iops: 1e-300
")" --no-tui
row "rate_iops: 1e-10" "$LB" run "$(scen r2 "    path: $W/small.dat
" "$R    rate_iops: 1e-10
")" --no-tui
row "rate_iops: 5e9" "$LB" run "$(scen r3 "    path: $W/small.dat
" "$R    rate_iops: 5e9
")" --no-tui
row "rate: 8EiB/s" "$LB" run "$(scen r4 "    path: $W/small.dat
" "$R    rate: 8EiB/s
")" --no-tui
row "scenario /dev/zero" "$LB" run /dev/zero --no-tui
row "scenario of 5 MB on stdin" bash -c "head -c 5000000 /dev/zero | tr '\\0' '#' | '$LB' run - --no-tui"
row "target is a directory" "$LB" run "$(scen t1 "    path: $W
" "$R")" --no-tui
row "target /dev/null" "$LB" run "$(scen t2 "    path: /dev/null
" "$R")" --no-tui
row "target /dev/zero" "$LB" run "$(scen t3 "    path: /dev/zero
" "$R")" --no-tui
row "path with a NUL byte" "$LB" run "$(scen t4 '    path: "/tmp/x\0y"
    size: 1MiB
' "$R")" --no-tui
row "path with a newline" "$LB" run "$(scen t5 '    path: "/tmp/x\ny"
    size: 1MiB
' "$R")" --no-tui
row "offset past the end" "$LB" run "$(scen t6 "    path: $W/small.dat
    offset: 2MiB
" "$R")" --no-tui
row "verify with fewer blocks than qd" "$LB" run "$(scen t7 "    path: $W/small.dat
    allow_write: true
" "    rw: randwrite
    verify: true
    qd: 512
")" --no-tui
printf 'name: t\ntargets: [lun0\n' >syntax.yaml
row "YAML syntax error" "$LB" run syntax.yaml
{
	printf 'name: t\ntargets: [{name: a, path: /x}]\nphases:\n'
	for i in $(seq 120); do printf '  - {name: p%d, rw: read, bs: 3, duration: 1s}\n' "$i"; done
} >many.yaml
"$LB" run many.yaml >/dev/null 2>err.txt
echo "| 120 problems | $? | $(wc -l <err.txt) lines, the last: $(tail -1 err.txt) |"
echo "results directories left by the refused runs: $(ls -d results 2>/dev/null | wc -l)" >&2
mkdir -p used && touch used/run.json
row "--out into a non-empty directory" "$LB" run "$(scen o1 "    path: $W/small.dat
" "$R")" --no-tui --out used
row "report --width 10" "$LB" report used --width 10
row "report --height 100000" "$LB" report used --height 100000
row "paths /nonexistent" "$LB" paths /nonexistent
row "completion tcsh" "$LB" completion tcsh
row "init into a missing directory" "$LB" init /nonexistent/x
row "init 'bad name!'" "$LB" init 'bad name!'
row "init x --from failover-drill" "$LB" init x --from failover-drill
row "init x --from nope" "$LB" init y --from nope
row "scenarios show nope" "$LB" scenarios show nope
"$LB" --version >out.txt 2>&1
echo "| --version | $? | $(cat out.txt) |"

# A killed run: SIGKILL in its first phase, then its report and mark.
printf 'name: k\ntargets: [{name: a, path: %s/k.dat, size: 64MiB, allow_write: true}]\nphases:\n  - {name: first, rw: randread, bs: 4k, duration: 60s}\n  - {name: later, rw: read, bs: 4k, duration: 1s}\ncriteria: {errors: "== 0", max_stall: "<= 5s"}\n' "$W" >k.yaml
"$LB" run k.yaml --no-tui --out killed >/dev/null 2>&1 &
KPID=$!
sleep 3
kill -9 "$KPID"
wait "$KPID" 2>/dev/null
KPID=
row "report of a SIGKILLed run" "$LB" report killed
echo "| (its report.md) | | $(grep -m1 'Verdict' killed/report.md) $(grep -c 'NOT EVALUATED' killed/report.md) criteria not evaluated; $(grep -m1 -o 'phases not run: .*' killed/report.md) |"
echo "| (its junit.xml) | | $(grep -m1 -o '<testsuites[^>]*>' killed/junit.xml) |"
row "mark on the killed run" "$LB" mark killed

if [ "$(id -u)" = 0 ]; then
	mnt tiny 2m
	row "verify map on a 2 MiB results disk, 4 GiB target" "$LB" run "$(scen f1 "    path: $W/big.dat
    size: 4GiB
    allow_write: true
" "    rw: randwrite
    verify: true
")" --no-tui --out tiny/run
	echo "| (its run.json) | | $(grep -o '"status": "[a-z]*"' tiny/run/run.json) |"
	mnt fill 2m
	fallocate -l $(($(df -B1 --output=avail fill | tail -1) - 65536)) fill/filler
	printf 'name: fill\ninterval: 100ms\ntargets: [{name: f, path: %s/f.dat, size: 64MiB, allow_write: true}]\nphases: [{name: rr, rw: randrw, bs: 4k, qd: 4, duration: 60s}]\n' "$W" >fill.yaml
	row "results disk fills up mid-run" "$LB" run fill.yaml --no-tui --out fill/run
	echo "| (stderr, last line) | | $(tail -1 err.txt | sed "s|$W/||g") |"
	mnt rep 1m
	cp -r killed rep/run 2>/dev/null
	rm -f rep/run/*.png rep/run/report.* rep/run/junit.xml
	fallocate -l $(($(df -B1 --output=avail rep | tail -1))) rep/filler 2>/dev/null
	row "report on a full disk" "$LB" report rep/run
else
	echo "| full-disk cases | - | skipped: they mount a tmpfs, which needs root |"
fi
