#!/bin/sh
# stallbox: a block device whose I/O you can freeze, release and break on
# purpose, to rehearse failover drills without a SAN.
#
# It is a loop device with direct I/O over a file on a FUSE mount (bindfs).
# Every I/O to the loop device goes through the bindfs process, so
#   pause   (kill -STOP bindfs) freezes all I/O, as a dead path with
#           queue_if_no_path or a moving virtual IP does;
#   resume  (kill -CONT) releases it: queued I/O completes;
#   break   (kill -KILL bindfs) makes every further I/O fail with an error,
#           as a LUN that disappeared does.
#
# usage (as root; needs bindfs and losetup):
#   stallbox.sh up DIR [SIZE_MiB]   create the box in DIR, print the loop device
#   stallbox.sh pause DIR | resume DIR | break DIR
#   stallbox.sh dev DIR             print the loop device
#   stallbox.sh pid DIR             print the bindfs PID
#   stallbox.sh down DIR            detach the loop device, unmount, remove DIR
#
# A drill in a scenario then reads, for example:
#   inject:  "scenarios/lab/stallbox.sh pause ${BOX}"
#   recover: {command: "scenarios/lab/stallbox.sh resume ${BOX}", at: 1.5s}
# with BOX=/var/tmp/box in the environment of `lunbench run`.
set -eu

usage() {
	sed -n '/^# usage/,/^#   stallbox.sh down/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

pid() {
	[ -s "$dir/bindfs.pid" ] || { echo "stallbox: no box in $dir" >&2; exit 1; }
	cat "$dir/bindfs.pid"
}

case $cmd in
up)
	size=${3:-64}
	[ "$(id -u)" = 0 ] || { echo "stallbox: needs root (loop devices, FUSE)" >&2; exit 1; }
	for t in bindfs losetup; do
		command -v $t >/dev/null || { echo "stallbox: $t is missing (apt-get install bindfs util-linux)" >&2; exit 1; }
	done
	[ ! -e "$dir/bindfs.pid" ] || { echo "stallbox: $dir already holds a box (stallbox.sh down $dir first)" >&2; exit 1; }
	mkdir -p "$dir/src" "$dir/mnt"
	# -f keeps bindfs in the foreground, so $! is the PID that serves I/O.
	bindfs -f "$dir/src" "$dir/mnt" </dev/null >"$dir/bindfs.log" 2>&1 &
	echo $! >"$dir/bindfs.pid"
	i=0
	until grep -q " $dir/mnt " /proc/self/mountinfo; do
		i=$((i + 1))
		if [ $i -gt 250 ]; then
			echo "stallbox: bindfs did not mount $dir/mnt within 5 s" >&2
			cat "$dir/bindfs.log" >&2
			exit 1
		fi
		sleep 0.02
	done
	truncate -s "${size}M" "$dir/mnt/disk.img"
	losetup --direct-io=on -f --show "$dir/mnt/disk.img" >"$dir/loopdev"
	cat "$dir/loopdev"
	;;
pause) kill -STOP "$(pid)" ;;
resume) kill -CONT "$(pid)" ;;
break) kill -KILL "$(pid)" ;;
pid) pid ;;
dev) cat "$dir/loopdev" ;;
down)
	if [ -s "$dir/bindfs.pid" ]; then
		p=$(cat "$dir/bindfs.pid")
		kill -CONT "$p" 2>/dev/null || true
	fi
	if [ -s "$dir/loopdev" ]; then
		losetup -d "$(cat "$dir/loopdev")" 2>/dev/null || true
	fi
	fusermount -u "$dir/mnt" 2>/dev/null || fusermount3 -u "$dir/mnt" 2>/dev/null ||
		umount -l "$dir/mnt" 2>/dev/null || true
	if [ -n "${p:-}" ]; then
		kill "$p" 2>/dev/null || true
	fi
	rm -rf "$dir"
	;;
*) usage ;;
esac
