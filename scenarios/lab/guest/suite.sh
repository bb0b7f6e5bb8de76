#!/bin/bash
# suite.sh ha|mp|pathfail: the commands the lab's Go tests run in one guest boot per
# layout (boot.sh runs RUN/commands, which calls this). Each step's output
# lands in the current directory (RUN); each step's exit status is a line
# "step status" in RUN/status, for the tests to read.
set -u
L=${LUNBENCH:?LUNBENCH names the lunbench binary}
D=$(cd "$(dirname "$0")" && pwd)/drills
. "$RUN/suite.env" # the budgets the tests computed, and lab facts
step() { # NAME OUTFILE CMD...
	local name=$1 out=$2 rc
	shift 2
	echo "suite: $name: $*"
	"$@" >"$out" 2>&1
	rc=$?
	echo "$name $rc" >>status
	echo "suite: $name -> $rc"
}
# dm_failed: how many of mpatha's paths the kernel's dm table has failed
# (dmsetup status: a path is "MAJ:MIN A|F fails ...").
dm_failed() { dmsetup status mpatha | grep -o ' [0-9]*:[0-9]* F ' | wc -l; }
# mpd_failed: how many of mpatha's paths multipathd calls failed (dm_st).
mpd_failed() { multipathd show paths format '%m %t' | grep -c '^mpatha *failed'; }
# until_ SECONDS CMD...: wait for CMD to succeed, at most SECONDS.
until_() {
	local n=$1
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 1
	done
}
# pathfail: one path (eth0 -> h1) down while paths looks: the dm table and
# multipathd must fail it and keep the three others active. A read load
# makes dm-multipath fail the path on the I/O error (noop_out_interval +
# noop_out_timeout + recovery_tmo) instead of waiting for the checker's
# backed-off polling.
pathfail() {
	local load rc
	"$LABCTL" path-down i0-h1
	(while :; do dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct \
		skip=$((RANDOM % 4000)) 2>/dev/null; done) &
	load=$!
	until_ 120 eval '[ "$(dm_failed)" = 1 ] && [ "$(mpd_failed)" = 1 ]'
	rc=$?
	echo "pathfail-wait $rc" >>status
	kill "$load"
	wait "$load" 2>/dev/null
	dmsetup status mpatha
	multipathd show paths format '%m %d %t %T %o'
	step paths-failed paths-failed.txt "$L" paths /dev/mapper/mpatha
	step paths-failed-json paths-failed.json "$L" paths --json /dev/mapper/mpatha
	# Without multipathd on PATH, paths falls back to dmsetup status.
	mkdir -p /tmp/dmonly
	ln -sf "$(command -v dmsetup)" /tmp/dmonly/dmsetup
	step paths-failed-dm paths-failed-dm.json env PATH=/tmp/dmonly:/usr/bin:/bin "$L" paths --json /dev/mapper/mpatha
	"$LABCTL" path-up i0-h1
	# The next steps want all four paths back: a login, then a checker round.
	until_ 180 eval '[ "$(dm_failed)" = 0 ] && [ "$(mpd_failed)" = 0 ]'
	echo "pathback-wait $?" >>status
	multipath -ll
}
case $1 in
pathfail) # the failed-path step alone, to rehearse it
	pathfail
	;;
mp)
	step paths paths.txt "$L" paths /dev/mapper/mpatha
	step paths-json paths.json "$L" paths --json /dev/mapper/mpatha
	step check check.txt "$L" check --scenario "$D/mp-path-pull.yaml"
	step chap check-chap.json "$L" check --json --scenario "$D/chap.yaml"
	BUDGET=$PULL_BUDGET step pull pull.log "$L" run "$D/mp-path-pull.yaml" --no-tui --out "$RUN/pull"
	pathfail
	# Reference 002: a node record drifted from iscsid.conf.
	iscsiadm -m node -T "$LAB_IQN" -p 198.18.0.10 -I lblab0 -o update \
		-n node.session.timeo.replacement_timeout -v 120
	step drift check-drift.json "$L" check --json
	# Shorten queueing so the outage outlasts it quickly (see mp-all-paths.yaml).
	printf 'overrides {\n\tno_path_retry 2\n}\n' >>/etc/multipath.conf
	multipathd reconfigure
	sleep 5
	multipath -ll
	OUTAGE=$OUTAGE OUTAGE_PHASE=$OUTAGE_PHASE step allpaths allpaths.log "$L" run "$D/mp-all-paths.yaml" --no-tui --out "$RUN/allpaths"
	;;
ha)
	step paths paths.txt "$L" paths /dev/mapper/mpatha
	step check check.txt "$L" check --scenario "$D/ha-vip-move.yaml"
	BUDGET=$VIP_BUDGET NOGARP_DURATION=$NOGARP_DURATION step vip vip.log "$L" run "$D/ha-vip-move.yaml" --no-tui --out "$RUN/vip"
	;;
esac
dmesg >dmesg.txt
