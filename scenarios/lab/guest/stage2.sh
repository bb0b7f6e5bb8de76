#!/bin/bash
# The lab guest's second stage, run as PID 1 in the overlay root (the host's
# tree, read-only, under tmpfs). It brings up the real Linux initiator stack
# the way the reference documents do (udev, iscsid with the layout's
# iscsid.conf, multipathd with reference 001's multipath.conf, CHAP logins),
# runs RUN/commands with bash, records timings, and powers the guest off.
#
# RUN is the host directory shared in as the 9p tag "out", mounted at the
# same path; results written under it land on the host. Kernel cmdline:
#   lblab.run=RUN lblab.layout=ha|mp lblab.modules=DIR (the kernel's tree)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(dirname "$(readlink -f "$0")")
for a in $(cat /proc/cmdline); do
	case $a in
	lblab.run=*) RUN=${a#*=} ;;
	lblab.layout=*) LAYOUT=${a#*=} ;;
	lblab.modules=*) MODULES=${a#*=} ;;
	esac
done
poweroff() { sync; umount "$RUN" 2>/dev/null; echo o >/proc/sysrq-trigger; sleep 30; }
trap poweroff EXIT
mount -t tmpfs tmpfs /run
# /tmp stays the overlay's (host /tmp read-only below, the guest's writes in
# the tmpfs above): a tmpfs mounted over it would hide a checkout, a test's
# binary or RUN that live under the host's /tmp.
mkdir -p /dev/pts /dev/shm /run/lock "$RUN"
mount -t devpts devpts /dev/pts
ln -sf /proc/self/fd /dev/fd
# cache=mmap: lunbench maps its verify generation map (MAP_SHARED).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap out "$RUN" || { echo "stage2: no out share"; exit 1; }
exec > >(tee -a "$RUN/guest.log" >/dev/console) 2>&1
stamp() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >>"$RUN/timing"; }
stamp stage2
# lab.env holds the CHAP secrets: read it before tracing starts, and keep
# it out of results.
. "$RUN/lab.env"
rm -f "$RUN/lab.env"
export LAB_IQN LAB_IQN_NOCHAP LAB_VIP LAB_LAYOUT
set -x
# modprobe and udev look in /lib/modules/$(uname -r): lend them the
# kernel's tree from the build cache.
mkdir -p "/lib/modules/$(uname -r)"
mount --bind "$MODULES" "/lib/modules/$(uname -r)"
modprobe -a virtio_net virtio_console iscsi_tcp sd_mod dm_multipath dm_round_robin dm_service_time
hostname lblab-guest

ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip addr add 198.18.0.2/24 dev eth0
ip addr add 198.18.1.2/24 dev eth1
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done # reference 001, step 5
if [ "$LAYOUT" = mp ]; then
	# Each initiator interface reaches the other subnet's portal through
	# the switch's router: an iSCSI iface bound to eth0 routes via eth0.
	ip route add 198.18.1.0/24 via 198.18.0.1 dev eth0 metric 100
	ip route add 198.18.0.0/24 via 198.18.1.1 dev eth1 metric 100
fi

mkdir -p /etc/iscsi /etc/multipath
{ set +x; } 2>/dev/null # the secrets go into the file, not the trace
sed -e "s/@CHAP_IN_USER@/$LAB_CHAP_IN_USER/" -e "s/@CHAP_IN_PASS@/$LAB_CHAP_IN_PASS/" \
	-e "s/@CHAP_OUT_USER@/$LAB_CHAP_OUT_USER/" -e "s/@CHAP_OUT_PASS@/$LAB_CHAP_OUT_PASS/" \
	"$HERE/conf/iscsid-$LAYOUT.conf" >/etc/iscsi/iscsid.conf
set -x
chmod 600 /etc/iscsi/iscsid.conf
echo "InitiatorName=$LAB_INITIATOR" >/etc/iscsi/initiatorname.iscsi
cp "$HERE/conf/multipath.conf" /etc/multipath.conf
rm -rf /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces /etc/multipath/wwids /etc/multipath/bindings
mkdir -p /etc/iscsi/ifaces

# No coldplug trigger (it costs ~45 s under emulation): the devices udev
# must see (iSCSI disks, dm maps) appear after it starts.
/lib/systemd/systemd-udevd --daemon
iscsid
multipathd
stamp daemons

# Reference 001, step 4: one iSCSI iface per storage interface.
for i in 0 1; do
	iscsiadm -m iface -I lblab$i -o new
	iscsiadm -m iface -I lblab$i -o update -n iface.net_ifacename -v eth$i
done
if [ "$LAYOUT" = mp ]; then
	# Both ifaces in one discovery: a discovery through one iface alone
	# replaces the portal's records of the other.
	for p in 198.18.0.10 198.18.1.11; do
		iscsiadm -m discovery -t sendtargets -p $p -I lblab0 -I lblab1
	done
	# Reference 003's counter-example: one session without CHAP, one path.
	iscsiadm -m node -T "$LAB_IQN_NOCHAP" -I lblab1 -o delete
	# iscsid.conf's CHAP credentials came with discovery; a record with a
	# username still offers CHAP, so clear them all.
	for k in authmethod=None username= password= username_in= password_in=; do
		iscsiadm -m node -T "$LAB_IQN_NOCHAP" -o update -n "node.session.auth.${k%%=*}" -v "${k#*=}"
	done
else
	iscsiadm -m discovery -t sendtargets -p "$LAB_VIP" -I lblab0
fi
# lun0 first, so user_friendly_names binds it to mpatha (nochap: mpathb).
iscsiadm -m node -T "$LAB_IQN" -l
wait_map() { for i in $(seq 120); do [ -e "/dev/mapper/$1" ] && return; sleep 0.5; done; }
wait_map mpatha
if [ "$LAYOUT" = mp ]; then
	iscsiadm -m node -T "$LAB_IQN_NOCHAP" -l
	wait_map mpathb
fi
udevadm settle -t 60
multipath -ll
stamp ready
set +x

cd "$RUN"
export LABCTL=$HERE/labctl RUN
echo "stage2: running $RUN/commands"
bash -x "$RUN/commands"
echo "rc $?" >>"$RUN/timing"
stamp done
