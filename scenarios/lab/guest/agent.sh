#!/bin/bash
# agent.sh RUN: the host side of the lab guest's control channel. It reads
# one request a line from the virtio-serial port's pipe (RUN/ctl.out),
# accepts only the sanlab verbs a drill needs, runs them, and answers one
# line (RUN/ctl.in). Anything else is refused, so the guest cannot run
# commands on the host. LAB names the lab.
set -u
RUN=$1
SANLAB=$(cd "$(dirname "$0")/.." && pwd)/sanlab.sh
exec 3<>"$RUN/ctl.out" 4<>"$RUN/ctl.in"
while IFS= read -r line <&3; do
	line=${line%$'\r'}
	case $line in
	"vip-move" | "vip-move --no-garp" | path-down\ [hi][01] | path-up\ [hi][01] | \
		path-down\ i[01]-h[01] | path-up\ i[01]-h[01] | head-kill\ h[01])
		# shellcheck disable=SC2086 # the verb's words, checked above
		if out=$("$SANLAB" $line 2>&1); then
			echo "ok ${out//$'\n'/ }" >&4
		else
			echo "err ${out//$'\n'/ }" >&4
		fi ;;
	*) out="refused: $line"; echo "err $out" >&4 ;;
	esac
	echo "$(date -u +%H:%M:%S.%N) $line -> $out" >>"$RUN/agent.log"
done
