#!/bin/bash
# build.sh: fetch Debian's kernel and build the lab guest's initramfs, cached
# outside the repository. Prints the cache directory (kernel, initrd.gz and
# the kernel's modules tree, which the guest bind-mounts for modprobe).
#
# usage (as root; needs apt-get, dpkg-deb, kmod, cpio, busybox-static):
#   build.sh            build once; later calls print the cached directory
#
# LBLAB_CACHE sets the cache root (default /var/cache/lunbench-lab).
# LBLAB_KVER picks the kernel ABI (default: the newest linux-image-6.1.0-N-amd64
# that apt knows). The cloud flavour lacks 9p, so the generic one is used.
set -euo pipefail

CACHE=${LBLAB_CACHE:-/var/cache/lunbench-lab}
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "build.sh: $*" >&2; exit 1; }

for t in apt-get apt-cache dpkg-deb depmod cpio gzip; do
	command -v $t >/dev/null || die "$t is missing"
done
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	die "/bin/busybox must be static (apt-get install busybox-static)"

KVER=${LBLAB_KVER:-$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
	sed -n 's/^linux-image-\(6\.1\.0-[0-9]*-amd64\) .*/\1/p' | sort -t- -k2,2n | tail -1)}
[ -n "$KVER" ] || die "apt knows no linux-image-6.1.0-N-amd64 (apt-get update?)"
K=$CACHE/$KVER
# The initramfs depends on init and this script; rebuild when they change.
STAMP=$(cat "$HERE/build.sh" "$HERE/init" | cksum | cut -d' ' -f1)

if [ -s "$K/initrd.gz" ] && [ "$(cat "$K/stamp" 2>/dev/null)" = "$STAMP" ]; then
	echo "$K"
	exit 0
fi
mkdir -p "$K"
exec 9>"$K/.lock"
flock 9

if [ ! -s "$K/vmlinuz" ]; then
	tmp=$(mktemp -d "$CACHE/lblab-deb.XXXXXX")
	(cd "$tmp" && apt-get download "linux-image-$KVER" >&2)
	rm -rf "$K/root"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$K/root"
	rm -rf "$tmp"
	depmod -b "$K/root" "$KVER"
	cp "$K/root/boot/vmlinuz-$KVER" "$K/vmlinuz.tmp"
	mv "$K/vmlinuz.tmp" "$K/vmlinuz"
fi
M=$K/root/lib/modules/$KVER

# deps MOD: the module files MOD needs, dependencies first (modules.dep).
deps() {
	local line
	line=$(grep -E "(^|/)$1\.ko(\.xz)?:" "$M/modules.dep") || {
		grep -qE "(^|/)$1\.ko" "$M/modules.builtin" && return 0
		die "module $1 is neither in modules.dep nor built in"
	}
	local f=${line%%:*} d
	for d in ${line#*:}; do deps "$(basename "${d%%.ko*}")"; done
	echo "$f"
}

# Only what mounting the root needs: the rest is loaded by modprobe in the
# guest from the bind-mounted modules tree.
ird=$(mktemp -d "$CACHE/lblab-initrd.XXXXXX")
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,lower,rw,newroot,lib/modules}
cp /bin/busybox "$ird/bin/busybox"
: >"$ird/modules"
for m in virtio_pci 9pnet_virtio 9p overlay; do
	for f in $(deps $m); do
		b=$(basename "$f")
		grep -qx "$b" "$ird/modules" && continue
		case $f in
		*.xz) xz -dc "$M/$f" >"$ird/lib/modules/${b%.xz}"; b=${b%.xz} ;;
		*) cp "$M/$f" "$ird/lib/modules/$b" ;;
		esac
		echo "$b" >>"$ird/modules"
	done
done
install -m 755 "$HERE/init" "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$K/initrd.gz.tmp"
mv "$K/initrd.gz.tmp" "$K/initrd.gz"
echo "$STAMP" >"$K/stamp"
echo "$K"
