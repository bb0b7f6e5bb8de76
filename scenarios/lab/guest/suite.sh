#!/bin/bash
# suite.sh ha|mp: the commands the lab's Go tests run in one guest boot per
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
case $1 in
mp)
	step paths paths.txt "$L" paths /dev/mapper/mpatha
	step paths-json paths.json "$L" paths --json /dev/mapper/mpatha
	step check check.txt "$L" check --scenario "$D/mp-path-pull.yaml"
	step chap check-chap.json "$L" check --json --scenario "$D/chap.yaml"
	BUDGET=$PULL_BUDGET step pull pull.log "$L" run "$D/mp-path-pull.yaml" --no-tui --out "$RUN/pull"
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
