#!/usr/bin/env bash
# The data-safety reproductions of issue 11, run with a real lunbench binary:
#   sudo sh scenarios/lab/safety.sh bin/lunbench
# Each case is set up for real (loop devices, mounts, locks held by other
# processes, tmpfs), every file and device at stake is hashed whole (sha256)
# before and after, and one line is printed per case:
#   case | exit code | data unchanged? | results dir left? | message
# Everything it makes is named lbsafe-*, detached or unmounted by name and
# killed by PID on the way out. Needs root, util-linux, e2fsprogs; QEMU is
# optional (the QEMU case is skipped without it).
set -u
BIN=$(realpath "${1:-bin/lunbench}")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
W=$(mktemp -d /var/tmp/lbsafe-lab-XXXXXX)
LOOPS=() MOUNTS=() PIDS=()
# Lock holders read this FIFO; closing our end (fd 9) ends flock's cat.
mkfifo "$W/hold"
exec 9<>"$W/hold"
cleanup() {
	exec 9>&-
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}"; done
	for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do losetup -d "${LOOPS[i]}"; done
	rm -rf "$W"
}
trap cleanup EXIT

# loop FILE: attach a loop device over FILE; its name is left in $DEV.
loop() { DEV=$(losetup -f --show "$1") || exit 3; LOOPS+=("$DEV"); }
mnt() { mkdir -p "$2" && mount -o noatime "$1" "$2" && MOUNTS+=("$2") && sync; }
rnd() { head -c "$2" /dev/urandom >"$1"; }
scen() { # scen FILE TARGET... : a one-second randwrite on every target
	{
		echo "name: lbsafe"
		echo "targets:"
		for t in "${@:2}"; do echo "  - $t"; done
		echo "phases: [{name: w, rw: randwrite, bs: 4k, qd: 4, duration: 1s}]"
	} >"$1"
}
# sums FILE...: whole-file hashes; block devices are read with O_DIRECT,
# past the page cache, where a mounted filesystem keeps unwritten changes.
sums() {
	for f in "$@"; do
		if [ -b "$f" ]; then echo "$(dd if="$f" iflag=direct bs=1M status=none | sha256sum) $f"; else sha256sum "$f"; fi
	done
}

# run CASE SCENARIO "GUARDED..." [ARGS...]
run() {
	local name=$1 sc=$2 guarded=$3 out=$W/res-$RANDOM
	shift 3
	local before after code msg left=no same=yes
	before=$(sums $guarded)
	"$BIN" run "$sc" --no-tui --out "$out" "$@" >"$W/stdout" 2>"$W/stderr"
	code=$?
	after=$(sums $guarded)
	[ "$before" = "$after" ] || same=NO
	[ -z "$guarded" ] && same=n/a
	[ -e "$out" ] && left=yes
	msg=$(grep -m1 'lunbench: ' "$W/stderr" | sed 's/^lunbench: //')
	[ -n "$msg" ] || msg=$(grep -m1 '^verdict' "$W/stdout")
	printf '%s | %s | %s | %s | %s\n' "$name" "$code" "$same" "$left" "$msg"
}

echo "case | exit | data unchanged | results dir left | message"

# 1. An ext4 image on a mounted loop device; randwrite on the image file.
img=$W/fs.img; rnd "$img" 64M; mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img"
loop "$img"; L1=$DEV; mnt "$L1" "$W/m1"
scen "$W/1.yaml" "{name: img, path: $img, allow_write: true}"
run "file backing a mounted loop device" "$W/1.yaml" "$img"
umount "$W/m1"; MOUNTS=()
fsck.ext4 -n -f "$L1" >/dev/null 2>&1; echo "  (fsck.ext4 -n -f $L1 afterwards: exit $?)"

# 2. Loop A over a file, ext4 on A, loop B over A mounted; --destroy-data=A.
lower=$W/lower.img; rnd "$lower" 64M; loop "$lower"; A=$DEV
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$A"; loop "$A"; B=$DEV; mnt "$B" "$W/m2"
scen "$W/2.yaml" "{name: a, path: $A, allow_write: true}"
run "stacked loops, --destroy-data=$A" "$W/2.yaml" "$A $lower" "--destroy-data=$A"

# 2b. The other way up: loop D over loop C, C mounted; --destroy-data=D.
lower2=$W/lower2.img; rnd "$lower2" 64M; loop "$lower2"; C=$DEV
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$C"; loop "$C"; D=$DEV; mnt "$C" "$W/m3"
scen "$W/2b.yaml" "{name: d, path: $D, allow_write: true}"
run "loop over a mounted loop, --destroy-data=$D" "$W/2b.yaml" "$C $lower2" "--destroy-data=$D"

# 3. A file held by flock(1).
f3=$W/vm.img; rnd "$f3" 8M
flock -x "$f3" cat <"$W/hold" 9>&- & PIDS+=($!)
sleep 0.5
scen "$W/3.yaml" "{name: vm, path: $f3, allow_write: true}"
run "file held by flock(1)" "$W/3.yaml" "$f3"

# 4. A disk image open in QEMU (OFD locks).
if command -v qemu-system-x86_64 >/dev/null; then
	f4=$W/guest.img; rnd "$f4" 8M
	qemu-system-x86_64 -machine none -nographic -serial none -monitor stdio \
		-drive "file=$f4,format=raw,if=none,id=lbsafe0" <"$W/hold" 9>&- >/dev/null 2>&1 & PIDS+=($!)
	for _ in $(seq 50); do grep -q OFDLCK /proc/locks && break; sleep 0.1; done
	sleep 0.5
	scen "$W/4.yaml" "{name: guest, path: $f4, allow_write: true}"
	run "disk image open in QEMU" "$W/4.yaml" "$f4"
fi

# 5. A mistyped device name with size.
rnd "$W/lun5.img" 8M; loop "$W/lun5.img"; L5=$DEV
typo=${L5/loop/lop}
scen "$W/5.yaml" "{name: lun, path: $typo, size: 8MiB, allow_write: true}"
run "mistyped $typo with size" "$W/5.yaml" "$L5"
[ -e "$typo" ] && { echo "  $typo WAS CREATED"; rm -f "$typo"; }

# 6. A new file on tmpfs.
mkdir -p "$W/t"; mount -t tmpfs -o size=32m lbsafe-tmpfs "$W/t" && MOUNTS+=("$W/t")
scen "$W/6.yaml" "{name: f, path: $W/t/new.dat, size: 8MiB, allow_write: true}"
run "new file on tmpfs" "$W/6.yaml" ""
[ -e "$W/t/new.dat" ] && echo "  $W/t/new.dat WAS CREATED"

# 7. Two targets through a symlink.
f7=$W/lun.img; rnd "$f7" 8M; ln -s "$f7" "$W/alias"
scen "$W/7.yaml" "{name: a, path: $f7, allow_write: true}" "{name: b, path: $W/alias, allow_write: true}"
run "duplicate through a symlink" "$W/7.yaml" "$f7"

# 8. A loop device and its backing file.
loop "$f7"; L8=$DEV
scen "$W/8.yaml" "{name: file, path: $f7, allow_write: true}" "{name: loop, path: $L8, allow_write: true}"
run "duplicate loop device + backing file" "$W/8.yaml" "$f7 $L8"
