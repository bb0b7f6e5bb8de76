# Sourced by latency-vs-fio.sh and verify-cost.sh: the device they measure.
#
# lab_target EXPLICIT SIZE FILL sets TARGET and KIND: EXPLICIT when it is not
# empty, else a zram device of SIZE it creates (root), else a SIZE file in
# $WORK; with FILL=1 the zram device or file is first written whole with
# incompressible data (so reads decompress real pages). lab_cleanup removes
# the zram device it created and $WORK; the caller traps it.
ZRAM=""
lab_cleanup() {
	if [ -n "$ZRAM" ]; then
		echo 1 >"/sys/block/$ZRAM/reset" 2>/dev/null || true
		echo "${ZRAM#zram}" >/sys/class/zram-control/hot_remove 2>/dev/null || true
	fi
	rm -rf "$WORK"
}

lab_fill() {
	fio --name=fill --filename="$1" --rw=write --bs=1M --direct=1 --size="$2" --refill_buffers \
		--buffer_compress_percentage=0 --output=/dev/null
}

lab_target() {
	if [ -n "$1" ]; then
		TARGET=$1 KIND=$1
		return
	fi
	if [ "$(id -u)" = 0 ] && [ -w /sys/class/zram-control/hot_add ]; then
		ZRAM=zram$(cat /sys/class/zram-control/hot_add)
		echo "$2" >"/sys/block/$ZRAM/disksize"
		TARGET=/dev/$ZRAM KIND="zram ($TARGET, $2)"
	else
		TARGET=$WORK/target.dat KIND="file ($TARGET, $2)"
		truncate -s "$2" "$TARGET"
	fi
	if [ "$3" = 1 ]; then
		lab_fill "$TARGET" "$2"
	fi
}
