#!/bin/bash
# boot.sh RUN: boot the lab guest against the lab $LAB (sanlab.sh up first),
# run RUN/commands in it (bash; the lunbench binary and this tree are seen
# at their host paths), and return when the guest has powered off. RUN is
# shared into the guest at the same path, so what the commands write there
# (results directories, guest.log, timing) is on the host afterwards.
#
# LBLAB_TIMEOUT (seconds, default 900) bounds the whole run; qemu is then
# killed by its PID. Exit status: 0 when the guest ran the commands (see
# RUN/timing for their status), 3 when it did not finish.
set -euo pipefail
RUN=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${LAB:-lblab}
TIMEOUT=${LBLAB_TIMEOUT:-900}
die() { echo "boot.sh: $*" >&2; exit 3; }

[ -s "$RUN/commands" ] || die "no $RUN/commands"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
K=$("$HERE/build.sh")
KVER=$(basename "$K")
env=$("$HERE/../sanlab.sh" env) || die "the lab $LAB is not up (sanlab.sh up ha|mp)"
eval "$env"
echo "$env" >"$RUN/lab.env"
chmod 600 "$RUN/lab.env"
rm -f "$RUN/ctl.in" "$RUN/ctl.out" "$RUN/timing"
mkfifo "$RUN/ctl.in" "$RUN/ctl.out"

agent=
qemu=
cleanup() {
	[ -z "$qemu" ] || kill -KILL "$qemu" 2>/dev/null || true
	[ -z "$agent" ] || kill "$agent" 2>/dev/null || true
	rm -f "$RUN/ctl.in" "$RUN/ctl.out" "$RUN/lab.env"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LAB=$LAB "$HERE/agent.sh" "$RUN" &
agent=$!

start=$(date +%s.%N)
# TCG: /dev/kvm exists on these machines but a guest hung at early boot with
# it. The guest's taps are the lab's, in the lab's switch namespace.
ip netns exec "$LAB_NETNS" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 768 -smp 1 \
	-display none -monitor none -serial "file:$RUN/console.log" -no-reboot \
	-kernel "$K/vmlinuz" -initrd "$K/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 net.ifnames=0 lblab.stage2=$HERE/stage2.sh lblab.run=$RUN lblab.layout=$LAB_LAYOUT lblab.modules=$K/root/lib/modules/$KVER" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$RUN,mount_tag=out,security_model=none,multidevs=remap" \
	-netdev "tap,id=n0,ifname=${LAB}t0,script=no,downscript=no" -device virtio-net-pci,netdev=n0,mac=52:54:00:18:00:02 \
	-netdev "tap,id=n1,ifname=${LAB}t1,script=no,downscript=no" -device virtio-net-pci,netdev=n1,mac=52:54:00:18:01:02 \
	-device virtio-serial-pci -chardev "pipe,id=ctl,path=$RUN/ctl" -device virtserialport,chardev=ctl,name=lblab.ctl \
	>"$RUN/qemu.log" 2>&1 &
qemu=$!
deadline=$(($(date +%s) + TIMEOUT))
while kill -0 "$qemu" 2>/dev/null; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "boot.sh: the guest did not finish within ${TIMEOUT}s; killing qemu (pid $qemu)" >&2
		kill -KILL "$qemu"
		wait "$qemu" || true
		qemu=
		exit 3
	fi
	sleep 1
done
wait "$qemu" || true
qemu=
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "wall %.1f\n", e - s }' >>"$RUN/timing"
grep -q '^done ' "$RUN/timing" 2>/dev/null || die "the guest stopped before running the commands: see $RUN/console.log and $RUN/guest.log"
