#!/bin/bash
# sanlab: two iSCSI target heads (tgtd) in network namespaces, a storage
# switch with two subnets, CHAP and initiator-name ACLs: a small SAN on one
# Linux host, to rehearse failover drills against the real Linux initiator
# (see scenarios/lab/guest/) without a SAN.
#
# usage (as root; needs tgt, iproute2, iputils-arping):
#   sanlab.sh up ha|mp           build the lab (LAB names it; default lblab)
#   sanlab.sh vip-move [--no-garp]   ha: move the VIP to the other head,
#                                announcing it with a gratuitous ARP unless
#                                --no-garp (the misconfiguration)
#   sanlab.sh path-down WHAT     take a storage link or one path down:
#   sanlab.sh path-up WHAT         WHAT is h0|h1 (a head's link), i0|i1 (an
#                                initiator link) or iN-hM (one path only)
#   sanlab.sh head-kill h0|h1    kill that head's tgtd outright
#   sanlab.sh status             print the lab's state
#   sanlab.sh env                print the lab's facts as shell variables
#   sanlab.sh down               remove everything, by exact name and PID
#
# Layouts:
#   ha  reference 000 (OmniOS/COMSTAR HA with RSF-1): both heads on subnet
#       A, one portal on the floating VIP 198.18.0.100, owned by h0 at first.
#   mp  reference 001 (NexentaStor multipath): h0's portal 198.18.0.10 on
#       subnet A, h1's portal 198.18.1.11 on subnet B, routed by the switch,
#       so two initiator interfaces reach both portals: four paths.
#       h0 also serves a second target without CHAP (reference 003's
#       counter-example).
#
# Both heads serve the same IQN over the same backing file with the same
# scsi_id/scsi_sn (vendor NEXENTA, product COMSTAR), so an initiator sees
# one LUN. Logins need CHAP both ways and the initiator name; tgtd ORs
# address and name ACLs, so only name ACLs are used.
#
# Everything is named after $LAB: namespaces ${LAB}sw (switch, router, and
# where the guest's taps ${LAB}t0/${LAB}t1 live), ${LAB}h0, ${LAB}h1; state
# in /var/tmp/$LAB. Addresses come from 198.18.0.0/15 only.
set -Eeuo pipefail

LAB=${LAB:-lblab}
case $LAB in lblab*) ;; *) echo "sanlab: LAB must start with lblab (got $LAB)" >&2; exit 2 ;; esac
[ ${#LAB} -le 11 ] || { echo "sanlab: LAB is at most 11 characters (interface names)" >&2; exit 2; }
DIR=/var/tmp/$LAB
SW=${LAB}sw

IQN=iqn.2011-09.dom.homer:01:lblab-lun0
IQN_NOCHAP=iqn.2011-09.dom.homer:01:lblab-nochap
INITIATOR=iqn.2026-11.lab.lunbench:prague
CHAP_IN_USER=prague
CHAP_IN_PASS=lblab-in-secret1
CHAP_OUT_USER=homer
CHAP_OUT_PASS=lblab-out-secret2
VIP=198.18.0.100
SIZE_MIB=${SIZE_MIB:-256}

die() { echo "sanlab: $*" >&2; exit 1; }

usage() {
	sed -n '/^# usage/,/^#   sanlab.sh down/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

need() {
	[ "$(id -u)" = 0 ] || die "needs root (namespaces, tgtd)"
	for t in ip tgtd tgtadm arping; do
		command -v $t >/dev/null || die "$t is missing (apt-get install tgt iproute2 iputils-arping)"
	done
}

st() { cat "$DIR/$1"; }

# ctl_ports picks two tgtd control ports (<= 32767: tgtd keeps them in a
# short) from the lab's name, skipping any whose socket already exists, as
# tgtd's control socket is a path shared by every namespace.
ctl_ports() {
	local base p
	base=$((10000 + $(echo -n "$LAB" | cksum | cut -d' ' -f1) % 20000))
	for p in $(seq $base 2 $((base + 200))); do
		if [ ! -e /var/run/tgtd/socket.$p ] && [ ! -e /var/run/tgtd/socket.$((p + 1)) ]; then
			echo "$p $((p + 1))"
			return
		fi
	done
	die "no free tgtd control port near $base"
}

# link NS IF SWIF BRIDGE ADDR: a veth from namespace NS into the switch.
link() {
	ip link add "$3" netns "$SW" type veth peer name "$2" netns "$1"
	ip -n "$SW" link set "$3" master "$4" up
	ip -n "$1" link set "$2" up
	[ -z "$5" ] || ip -n "$1" addr add "$5" dev "$2"
}

tgtd_start() { # HEAD PORT
	ip netns exec "$LAB$1" tgtd -f -C "$2" --iscsi portal=0.0.0.0:3260 </dev/null >"$DIR/tgtd-$1.log" 2>&1 &
	echo $! >"$DIR/tgtd-$1.pid"
	local i=0
	until tgtadm -C "$2" --op show --mode sys >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "tgtd of $1 did not answer on control port $2 within 10 s: $(cat "$DIR/tgtd-$1.log")"
		sleep 0.1
	done
}

target() { # PORT TID IQN FILE SCSI_ID CHAP(yes|no)
	local T="tgtadm -C $1 --lld iscsi"
	$T --op new --mode target --tid "$2" -T "$3"
	$T --op new --mode logicalunit --tid "$2" --lun 1 -b "$4"
	$T --op update --mode logicalunit --tid "$2" --lun 1 \
		--params "vendor_id=NEXENTA,product_id=COMSTAR,scsi_id=$5,scsi_sn=$5"
	if [ "$6" = yes ]; then
		$T --op bind --mode account --tid "$2" --user "$CHAP_IN_USER"
		$T --op bind --mode account --tid "$2" --user "$CHAP_OUT_USER" --outgoing
	fi
	$T --op bind --mode target --tid "$2" --initiator-name "$INITIATOR"
}

start_head() { # HEAD PORT
	local T="tgtadm -C $2 --lld iscsi"
	tgtd_start "$1" "$2"
	$T --op new --mode account --user "$CHAP_IN_USER" --password "$CHAP_IN_PASS"
	$T --op new --mode account --user "$CHAP_OUT_USER" --password "$CHAP_OUT_PASS"
	target "$2" 1 "$IQN" "$DIR/lun0.img" lblab-lun0 yes
	if [ "$(st layout)" = mp ] && [ "$1" = h0 ]; then
		target "$2" 2 "$IQN_NOCHAP" "$DIR/nochap.img" lblab-nochap no
	fi
}

up() {
	local layout=${1:-} ports
	case $layout in ha | mp) ;; *) usage ;; esac
	need
	[ ! -e "$DIR" ] || die "$DIR exists: the lab $LAB is up (sanlab.sh down first)"
	mkdir -p "$DIR"
	echo "$layout" >"$DIR/layout"
	# errtrace (set -E) carries this into the functions up calls.
	trap 'echo "sanlab: up failed, tearing down" >&2; down; exit 1' ERR
	trap 'echo "sanlab: up interrupted, tearing down" >&2; down; exit 130' INT TERM
	truncate -s ${SIZE_MIB}M "$DIR/lun0.img"
	truncate -s 64M "$DIR/nochap.img"
	ports=$(ctl_ports)
	echo "$ports" >"$DIR/ports"
	for ns in sw h0 h1; do
		ip netns add "$LAB$ns"
		echo "$LAB$ns" >>"$DIR/netns"
		ip -n "$LAB$ns" link set lo up
	done
	ip -n "$SW" link add "${LAB}a" type bridge
	ip -n "$SW" link add "${LAB}b" type bridge
	ip -n "$SW" addr add 198.18.0.1/24 dev "${LAB}a"
	ip -n "$SW" addr add 198.18.1.1/24 dev "${LAB}b"
	ip -n "$SW" link set "${LAB}a" up
	ip -n "$SW" link set "${LAB}b" up
	ip netns exec "$SW" sysctl -qw net.ipv4.ip_forward=1
	# The guest's links: taps that qemu, run in this namespace, attaches to.
	for i in 0 1; do
		ip -n "$SW" tuntap add mode tap name "${LAB}t$i"
		ip -n "$SW" link set "${LAB}t$i" master "${LAB}$([ $i = 0 ] && echo a || echo b)" up
	done
	if [ "$layout" = ha ]; then
		link "${LAB}h0" eth0 "${LAB}h0a" "${LAB}a" 198.18.0.10/24
		link "${LAB}h1" eth0 "${LAB}h1a" "${LAB}a" 198.18.0.11/24
		ip -n "${LAB}h0" addr add $VIP/24 dev eth0
		echo h0 >"$DIR/vip"
	else
		link "${LAB}h0" eth0 "${LAB}h0a" "${LAB}a" 198.18.0.10/24
		link "${LAB}h1" eth0 "${LAB}h1b" "${LAB}b" 198.18.1.11/24
		ip -n "${LAB}h0" route add default via 198.18.0.1
		ip -n "${LAB}h1" route add default via 198.18.1.1
	fi
	set -- $ports
	start_head h0 "$1"
	start_head h1 "$2"
	trap - ERR INT TERM
	echo "sanlab: $LAB up ($layout); tgtd control ports $ports"
}

# owned PIDFILE: the PID in PIDFILE if that process is still the tgtd we
# started (its command line names our control port), else nothing.
owned() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	if tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline | grep -q "^tgtd -f -C $2 "; then
		echo "$pid"
	fi
}

head_kill() {
	local h=$1 port
	case $h in h0) port=$(cut -d' ' -f1 "$DIR/ports") ;; h1) port=$(cut -d' ' -f2 "$DIR/ports") ;; *) usage ;; esac
	pid=$(owned "$DIR/tgtd-$h.pid" "$port")
	[ -n "$pid" ] || die "tgtd of $h is not running"
	kill -KILL "$pid"
	echo "sanlab: killed tgtd of $h (pid $pid)"
}

down() {
	local pid ns port h
	trap - ERR INT TERM
	[ -d "$DIR" ] || { echo "sanlab: $LAB is not up"; return 0; }
	if [ -s "$DIR/ports" ]; then
		set -- $(cat "$DIR/ports")
		for h in h0 h1; do
			port=$1
			shift
			pid=$(owned "$DIR/tgtd-$h.pid" "$port")
			[ -z "$pid" ] || { kill -KILL "$pid"; while [ -e /proc/"$pid" ]; do sleep 0.05; done; }
			rm -f /var/run/tgtd/socket.$port /var/run/tgtd/socket.$port.lock
		done
	fi
	if [ -s "$DIR/netns" ]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null || true
		done <"$DIR/netns"
	fi
	rm -rf "$DIR"
	echo "sanlab: $LAB down"
}

vip_move() {
	local from to garp=yes
	[ "${1:-}" != --no-garp ] || garp=no
	[ "$(st layout)" = ha ] || die "vip-move needs the ha layout"
	from=$(st vip)
	to=$([ "$from" = h0 ] && echo h1 || echo h0)
	ip -n "$LAB$from" addr del $VIP/24 dev eth0
	ip -n "$LAB$to" addr add $VIP/24 dev eth0
	echo "$to" >"$DIR/vip"
	if [ $garp = yes ]; then
		# -U: unsolicited (gratuitous) ARP, as an HA cluster sends on takeover.
		ip netns exec "$LAB$to" arping -q -U -c 1 -I eth0 $VIP || true
	fi
	echo "sanlab: VIP $VIP moved $from -> $to (gratuitous ARP: $garp)"
}

# path WHAT up|down
path() {
	local what=$1 how=$2 i h addr
	case $what in
	h0 | h1)
		ip -n "$LAB$what" link set eth0 "$how" ;;
	i0 | i1)
		ip -n "$SW" link set "${LAB}t${what#i}" "$how" ;;
	i[01]-h[01])
		[ "$(st layout)" = mp ] || die "single paths exist in the mp layout only"
		i=${what%-*}
		h=${what#*-}
		addr=198.18.${i#i}.2
		# Drop the head's replies to that initiator address: one path dies,
		# the head's other path and the initiator's other path live on.
		if [ "$how" = down ]; then
			ip -n "$LAB$h" route add blackhole $addr/32
		else
			ip -n "$LAB$h" route del blackhole $addr/32
		fi ;;
	*) usage ;;
	esac
	echo "sanlab: $what $how"
}

status() {
	[ -d "$DIR" ] || { echo "sanlab: $LAB is not up"; return 1; }
	echo "lab $LAB layout $(st layout) control ports $(st ports)"
	[ ! -s "$DIR/vip" ] || echo "VIP $VIP on $(st vip)"
	for h in h0 h1; do
		echo "$h: $(ip -n "$LAB$h" -br addr show dev eth0)"
	done
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case $cmd in
up) up "$@" ;;
down) down ;;
vip-move) vip_move "$@" ;;
path-down) [ $# = 1 ] || usage; path "$1" down ;;
path-up) [ $# = 1 ] || usage; path "$1" up ;;
head-kill) [ $# = 1 ] || usage; head_kill "$1" ;;
status) status ;;
env)
	[ -d "$DIR" ] || die "$LAB is not up"
	cat <<EOF
LAB=$LAB
LAB_DIR=$DIR
LAB_LAYOUT=$(st layout)
LAB_NETNS=$SW
LAB_IQN=$IQN
LAB_IQN_NOCHAP=$IQN_NOCHAP
LAB_INITIATOR=$INITIATOR
LAB_CHAP_IN_USER=$CHAP_IN_USER
LAB_CHAP_IN_PASS=$CHAP_IN_PASS
LAB_CHAP_OUT_USER=$CHAP_OUT_USER
LAB_CHAP_OUT_PASS=$CHAP_OUT_PASS
LAB_VIP=$VIP
EOF
	;;
*) usage ;;
esac
