#!/bin/bash
# run.sh SCENARIO [ha|mp]: rehearse a drill against the real Linux iSCSI
# stack without a SAN. It builds the lab (sanlab.sh up LAYOUT, default mp),
# boots the lab guest (open-iscsi, dm-multipath, CHAP logins), runs
#   lunbench run SCENARIO --no-tui
# in it, copies the results directory to ./results/, and tears the lab down
# (also when interrupted). In the scenario, the LUN is /dev/mapper/mpatha
# and a drill acts on the lab with $LABCTL, for example
#   inject: "${LABCTL} path-down i0-h1"      (mp: one of four paths)
#   inject: "${LABCTL} vip-move"             (ha: with a gratuitous ARP)
# Examples: scenarios/lab/guest/drills/*.yaml.
#
# As root; needs qemu-system-x86, tgt, open-iscsi, multipath-tools, udev,
# busybox-static, iputils-arping and Go (lunbench is built from this tree).
# LAB names the lab (default lblab<PID>; see sanlab.sh).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
SCEN=$(readlink -f "$1")
LAYOUT=${2:-mp}
case $LAYOUT in ha | mp) ;; *) echo "run.sh: layout is ha or mp, not $LAYOUT" >&2; exit 2 ;; esac
[ -f "$SCEN" ] || { echo "run.sh: no scenario file $1" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
export LAB=${LAB:-lblab$(($$ % 100000))}
RUN=$(mktemp -d "/var/tmp/$LAB-run.XXXXXX")
cleanup() { "$HERE/../sanlab.sh" down >/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$REPO" && go build -o "$RUN/lunbench" ./cmd/lunbench)
"$HERE/../sanlab.sh" up "$LAYOUT"
cp "$SCEN" "$RUN/scenario.yaml"
cat >"$RUN/commands" <<CMD
"$RUN/lunbench" paths /dev/mapper/mpatha
"$RUN/lunbench" run "$RUN/scenario.yaml" --no-tui --results "$RUN/results"
echo "lunbench exit \$?" >"$RUN/exit"
CMD
echo "run.sh: booting the guest (TCG emulation: a few minutes)"
"$HERE/boot.sh" "$RUN"
mkdir -p results
cp -r "$RUN"/results/* results/
cp "$RUN/guest.log" "results/$(basename "$(ls -d "$RUN"/results/* | tail -1)")/guest.log"
cat "$RUN/timing"
cat "$RUN/exit"
rc=$(cut -d' ' -f3 "$RUN/exit")
echo "run.sh: results in results/$(basename "$(ls -d "$RUN"/results/* | tail -1)"); lunbench exited $rc"
exit "$rc"
