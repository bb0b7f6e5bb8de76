package preflight

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The fixture trees under testdata/<name>/{etc,sys,proc,var} are written by
// TestMakeFixtures from the descriptions below, so that five near-identical
// hosts stay consistent. Edit the descriptions, then regenerate:
//
//	go test ./collect/preflight -run TestMakeFixtures -mkfixtures
//	go test ./collect/preflight -run TestGolden -update
var mkFixtures = flag.Bool("mkfixtures", false, "rewrite the fixture trees under testdata from fixtures_test.go")

// Reference 001's names: two COMSTAR targets, each in its own target portal
// group on its own subnet, and a CentOS 6 client "prague" with iSCSI ifaces
// sw-iscsi-0 (eth1) and sw-iscsi-1 (eth2) that both log in to both targets.
const (
	fxTarget1   = "iqn.2011-09.dom.homer:01:13611547-b4e6-e4b9-d97b-d1f4df275f58"
	fxTarget2   = "iqn.2011-09.dom.homer:02:0e4f921a-407e-eb9f-9f53-aded8d99a723"
	fxInitiator = "iqn.1994-05.com.redhat:prague"
	// fxSecret is the CHAP secret in the fixtures; tests assert that it
	// never appears in any output.
	fxSecret = "s3cret-never-print-me"
)

type fxSession struct {
	id, host    int
	target      string
	addr        string
	iface       string
	devs        map[int]string // LUN -> sd name
	state       string         // session state; "" = LOGGED_IN
	recoveryTmo int
}

type fxMap struct {
	dev, name, wwid string
	lun             int
}

type fixture struct {
	name   string
	readme string
	// recordDir and ifaceDir are where node and iface records live: Red
	// Hat uses var/lib/iscsi, Debian etc/iscsi.
	recordDir, ifaceDir string
	iscsid              string
	record              recordOpts
	multipath           string
	sessions            []fxSession
	maps                []fxMap
	devState            map[string]string // sd -> SCSI state when not "running"
	chapUser            string            // sysfs username; "" writes "(null)"
	rpFilter            map[string]int
	// net holds the network files the failover budget's likely causes
	// read (proc/net/route, proc/net/arp, neighbour and TCP sysctls).
	net map[string]string
	// mapLess leaves out multipath.conf and maps: plain iSCSI disks.
	mapLess bool
}

type recordOpts struct {
	replacement int
	chap        bool
}

// fxSessions is reference 001's four-path layout: every iface logs in to
// every target, and the target group exports LUN 10 and 12 through both.
func fxSessions(recovery int) []fxSession {
	return []fxSession{
		{id: 1, host: 10, target: fxTarget1, addr: "10.10.8.90", iface: "sw-iscsi-0", devs: map[int]string{10: "sdb", 12: "sdc"}, recoveryTmo: recovery},
		{id: 2, host: 11, target: fxTarget1, addr: "10.10.8.90", iface: "sw-iscsi-1", devs: map[int]string{10: "sdd", 12: "sde"}, recoveryTmo: recovery},
		{id: 3, host: 12, target: fxTarget2, addr: "10.10.9.90", iface: "sw-iscsi-0", devs: map[int]string{10: "sdf", 12: "sdg"}, recoveryTmo: recovery},
		{id: 4, host: 13, target: fxTarget2, addr: "10.10.9.90", iface: "sw-iscsi-1", devs: map[int]string{10: "sdh", 12: "sdi"}, recoveryTmo: recovery},
	}
}

var fxMaps = []fxMap{
	{dev: "dm-6", name: "hydra_apps-a01", wwid: "3600144f0f484400000004e8685e70001", lun: 10},
	{dev: "dm-4", name: "hydra_db-a02", wwid: "3600144f0f484400000004e86860a0003", lun: 12},
}

// iscsidConf is open-iscsi's etc/iscsid.conf as CentOS 6 ships it, trimmed
// to the keys that matter here, with the edits reference 001 (step 10) and
// reference 003 (CHAP) ask for, controlled by the arguments.
func iscsidConf(replacement string, chap bool) string {
	auth := "#node.session.auth.authmethod = CHAP\n#node.session.auth.username = username\n#node.session.auth.password = password\n"
	if chap {
		auth = "node.session.auth.authmethod = CHAP\nnode.session.auth.username = prague\nnode.session.auth.password = " + fxSecret + "\n"
	}
	return `#
# Open-iSCSI default configuration, trimmed (open-iscsi etc/iscsid.conf).
#
iscsid.startup = /etc/rc.d/init.d/iscsid force-start
node.startup = automatic
node.leading_login = No

# *************
# CHAP Settings
# *************
` + auth + `
# ********
# Timeouts
# ********
` + replacement + `
node.conn[0].timeo.login_timeout = 15
node.conn[0].timeo.logout_timeout = 15
node.conn[0].timeo.noop_out_interval = 5
node.conn[0].timeo.noop_out_timeout = 5
node.session.err_timeo.abort_timeout = 15
node.session.err_timeo.lu_reset_timeout = 30
node.session.err_timeo.tgt_reset_timeout = 30
node.session.initial_login_retry_max = 8

# Session and device queue depth
node.session.cmds_max = 128
node.session.queue_depth = 32

# iSCSI settings
node.session.iscsi.InitialR2T = No
node.session.iscsi.ImmediateData = Yes
node.session.iscsi.FirstBurstLength = 262144
node.session.iscsi.MaxBurstLength = 16776192
node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144
node.conn[0].iscsi.MaxXmitDataSegmentLength = 0
discovery.sendtargets.iscsi.MaxRecvDataSegmentLength = 32768
# node.conn[0].iscsi.HeaderDigest = CRC32C,None
node.conn[0].iscsi.HeaderDigest = None
node.session.nr_sessions = 1
node.session.iscsi.FastAbort = Yes
`
}

// nodeRecord is a node record as iscsiadm writes it after discovery.
func nodeRecord(s fxSession, o recordOpts) string {
	auth := "node.session.auth.authmethod = None\n"
	if o.chap {
		auth = "node.session.auth.authmethod = CHAP\nnode.session.auth.username = prague\nnode.session.auth.password = " + fxSecret + "\n"
	}
	net := map[string]string{"sw-iscsi-0": "eth1", "sw-iscsi-1": "eth2"}[s.iface]
	return fmt.Sprintf(`# BEGIN RECORD 2.0-872
node.name = %s
node.tpgt = 2
node.startup = automatic
iface.iscsi_ifacename = %s
iface.net_ifacename = %s
iface.transport_name = tcp
node.discovery_address = %s
node.discovery_port = 3260
node.discovery_type = send_targets
node.session.initial_cmdsn = 0
node.session.initial_login_retry_max = 8
node.session.cmds_max = 128
node.session.queue_depth = 32
%snode.session.timeo.replacement_timeout = %d
node.session.err_timeo.abort_timeout = 15
node.session.err_timeo.lu_reset_timeout = 30
node.session.iscsi.FastAbort = Yes
node.session.iscsi.InitialR2T = No
node.session.iscsi.ImmediateData = Yes
node.session.iscsi.FirstBurstLength = 262144
node.session.iscsi.MaxBurstLength = 16776192
node.conn[0].address = %s
node.conn[0].port = 3260
node.conn[0].startup = manual
node.conn[0].tcp.window_size = 524288
node.conn[0].timeo.logout_timeout = 15
node.conn[0].timeo.login_timeout = 15
node.conn[0].timeo.auth_timeout = 45
node.conn[0].timeo.noop_out_interval = 5
node.conn[0].timeo.noop_out_timeout = 5
node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144
node.conn[0].iscsi.HeaderDigest = None
node.conn[0].iscsi.IFMarker = No
node.conn[0].iscsi.OFMarker = No
# END RECORD
`, s.target, s.iface, net, s.addr, auth, o.replacement, s.addr)
}

// ifaceRecord is reference 001's step 4 output, verbatim.
func ifaceRecord(name, net, hw string) string {
	return fmt.Sprintf(`# BEGIN RECORD 2.0-872
iface.iscsi_ifacename = %s
iface.net_ifacename = %s
iface.hwaddress = %s
iface.ipaddress =
iface.transport_name = tcp
# END RECORD
`, name, net, hw)
}

// ref001Multipath is reference 001's /etc/multipath.conf (steps 11 and
// 12). The published copy lost every closing brace; they are restored here
// (TestParseMultipathConf keeps the unbalanced original).
const ref001Multipath = `# /etc/multipath.conf from reference 001, steps 11 and 12, closing braces restored.
defaults {
        checker_timer               120
        getuid_callout              "/lib/udev/scsi_id --whitelisted --device=/dev/%n"
        no_path_retry               12
        path_checker                directio
        path_grouping_policy        group_by_serial
        prio                        const
        polling_interval            10
        queue_without_daemon        yes
        rr_min_io                   1000
        rr_weight                   uniform
        selector                    "round-robin 0"
        udev_dir                    /dev
        user_friendly_names         yes
}
blacklist {
        devnode "^(ram|raw|loop|fd|md|dm-|sr|scd|st)[0-9]*"
        devnode "^hd[a-z]"
        devnode "^sda"
        devnode "^sda[0-9]"
        device {
                vendor DELL
                product "PERC|Universal|Virtual"
        }
}
devices {
      device {
              ## This section Applicable to ALL NEXENTA/COMSTAR provisioned LUNs
              vendor                NEXENTA
              product               COMSTAR
              path_checker          directio
              path_grouping_policy  group_by_node_name
              failback              immediate
              getuid_callout        "/lib/udev/scsi_id --whitelisted --device=/dev/%n"
              rr_min_io             2000
              ## set node.session.timeo.replacement_timeout = 10
              ## The features parameter works with replacement_timeout adjustment
              features              "1 queue_if_no_path"
      }
}
multipaths {
       multipath {
              alias                 hydra_apps-a01
              wwid                  3600144f0f484400000004e8685e70001
              path_selector         "service-time 0"
              failback              immediate
       }
       multipath {
              alias                 hydra_db-a01
              wwid                  3600144f0f484400000004e8685f80002
              path_selector         "service-time 0"
              failback              immediate
       }
       multipath {
              alias                 hydra_db-a02
              wwid                  3600144f0f484400000004e86860a0003
              path_selector         "service-time 0"
              failback              immediate
       }
       multipath {
              alias                 hydra_db-a03
              wwid                  3600144f0f484400000004e8686210004
              path_selector         "service-time 0"
              failback              immediate
       }
}
`

const fxLayout = `Where the layout comes from:
- sys/class/iscsi_session/sessionN/* and sys/class/iscsi_connection/connectionN:0/*:
  attribute names from Linux drivers/scsi/scsi_transport_iscsi.c (session and
  connection attributes), read the way open-iscsi's usr/iscsi_sysfs.c reads them
  (iscsiadm -m session -P 3). recv_tmo and ping_tmo are noop_out_interval and
  noop_out_timeout as applied. A username that is not set reads "(null)".
- sys/class/iscsi_session/sessionN/device/{connectionN:0,targetH:0:0/H:0:0:L/block/sdX}:
  the device tree under /sys/devices/platform/hostH/sessionN that iscsiadm walks to
  find disks, and collect to find connections. Real sysfs has symlinks (class
  entries, device, slaves); plain directories stand in for them here.
- sys/class/block/sdX/device/{state,vendor,model}: SCSI midlayer (drivers/scsi/scsi_sysfs.c);
  state is running, offline, blocked or transport-offline. (/sys/block holds
  the same devices; collect reads the class directory.)
- sys/class/block/dm-N/{dm/name,dm/uuid,slaves/sdX}: device-mapper
  (Documentation/ABI/testing/sysfs-block-dm); multipath maps have uuid mpath-<wwid>.
- proc/sys/net/ipv4/conf/<if>/rp_filter: Documentation/networking/ip-sysctl.rst
  (0 off, 1 strict, 2 loose; the larger of all and <if> applies).
- proc/net/route, proc/net/arp: the kernel's formats (net/ipv4/fib_trie.c
  fib_route_seq_show, addresses as little-endian hex; net/ipv4/arp.c arp_seq_show).
- proc/sys/net/ipv4/neigh/<if>/*, tcp_retries2, tcp_syn_retries:
  Documentation/networking/ip-sysctl.rst, at the kernel's defaults unless the
  README above says otherwise.
- etc/iscsi/iscsid.conf: open-iscsi etc/iscsid.conf (CentOS 6), trimmed.
- node and iface records: iscsiadm's record format ("# BEGIN RECORD"), laid out
  <iqn>/<addr>,<port>,<tpgt>/<iface> as reference 001 step 7 shows.
- etc/multipath.conf: reference 001 steps 11 and 12, keywords per multipath.conf(5),
  with the closing braces the published copy lost restored.

Generated by TestMakeFixtures in fixtures_test.go; edit there, not here.
`

// netFiles renders the network state of a host whose routes are given as
// "dest/bits dev [via gw]" and whose ARP cache maps IPs to "mac dev". The
// formats are the kernel's: /proc/net/route (net/ipv4/fib_trie.c
// fib_route_seq_show, addresses little-endian hex), /proc/net/arp
// (net/ipv4/arp.c arp_seq_show); neighbour and TCP sysctls per
// Documentation/networking/ip-sysctl.rst, at the kernel's defaults unless
// neigh overrides "dev/key".
func netFiles(routes []string, arp map[string]string, neigh map[string]string) map[string]string {
	hexIP := func(ip string) string {
		var b [4]int
		fmt.Sscanf(ip, "%d.%d.%d.%d", &b[0], &b[1], &b[2], &b[3])
		return fmt.Sprintf("%02X%02X%02X%02X", b[3], b[2], b[1], b[0])
	}
	rt := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	devs := map[string]bool{}
	for _, r := range routes {
		var dst, dev, gw string
		var bits int
		f := strings.Fields(r)
		fmt.Sscanf(strings.Replace(f[0], "/", " ", 1), "%s %d", &dst, &bits)
		dev, gw, flags := f[2], "0.0.0.0", "0001"
		if len(f) == 5 {
			gw, flags = f[4], "0003"
		}
		devs[dev] = true
		mask := uint32(0)
		if bits > 0 {
			mask = ^uint32(0) << (32 - bits)
		}
		m := fmt.Sprintf("%d.%d.%d.%d", mask>>24, mask>>16&255, mask>>8&255, mask&255)
		rt += fmt.Sprintf("%s\t%s\t%s\t%s\t0\t0\t0\t%s\t0\t0\t0\n", dev, hexIP(dst), hexIP(gw), flags, hexIP(m))
	}
	ap := "IP address       HW type     Flags       HW address            Mask     Device\n"
	for _, ip := range sortedKeys(arp) {
		f := strings.Fields(arp[ip])
		ap += fmt.Sprintf("%-16s 0x1         0x2         %-21s *        %s\n", ip, f[0], f[1])
	}
	out := map[string]string{"proc/net/route": rt, "proc/net/arp": ap,
		"proc/sys/net/ipv4/tcp_retries2": "15\n", "proc/sys/net/ipv4/tcp_syn_retries": "6\n"}
	devs["default"] = true
	for dev := range devs {
		for k, v := range map[string]string{"base_reachable_time_ms": "30000", "delay_first_probe_time": "5", "ucast_solicit": "3", "retrans_time_ms": "1000"} {
			if o, ok := neigh[dev+"/"+k]; ok {
				v = o
			}
			out["proc/sys/net/ipv4/neigh/"+dev+"/"+k] = v + "\n"
		}
	}
	return out
}

func good() fixture {
	return fixture{
		name: "good",
		readme: `The four-path setup of reference 001 (NexentaStor HA iSCSI with Linux clients):
two COMSTAR targets on 10.10.8.90 and 10.10.9.90, each in its own target portal
group; a CentOS 6 client with iSCSI ifaces sw-iscsi-0 (eth1) and sw-iscsi-1 (eth2)
logged in to both, so LUNs 10 and 12 have four paths each (hydra_apps-a01 dm-6,
hydra_db-a02 dm-4). replacement_timeout 10 (step 10), rp_filter 0 (step 5), CHAP
on (reference 003), multipath.conf of steps 11-12.
`,
		recordDir: "var/lib/iscsi/nodes",
		ifaceDir:  "var/lib/iscsi/ifaces",
		iscsid:    iscsidConf("#node.session.timeo.replacement_timeout = 120\nnode.session.timeo.replacement_timeout = 10", true),
		record:    recordOpts{replacement: 10, chap: true},
		multipath: ref001Multipath,
		sessions:  fxSessions(10),
		maps:      fxMaps,
		chapUser:  "prague",
		rpFilter:  map[string]int{"all": 0, "default": 0, "lo": 0, "eth0": 0, "eth1": 0, "eth2": 0},
		net: netFiles([]string{"0.0.0.0/0 dev eth0 via 10.10.7.1", "10.10.7.0/24 dev eth0", "10.10.8.0/24 dev eth1", "10.10.9.0/24 dev eth2"},
			map[string]string{"10.10.7.1": "00:0c:29:94:5b:01 eth0", "10.10.8.90": "00:0c:29:3e:11:90 eth1", "10.10.9.90": "00:0c:29:3e:12:90 eth2"}, nil),
	}
}

// vip is reference 000's client: one session to the RSF-1 cluster's VIP.
func vip() fixture {
	return fixture{
		name: "vip",
		readme: `Reference 000's client (OmniOS/COMSTAR HA behind RSF-1): one iSCSI session to the
cluster's VIP 192.168.5.10:3260, which floats between live01 and live02 with the
pool. No multipath: the LUN is the plain disk sdb. open-iscsi's defaults
(replacement_timeout 120, NOP-Out 5 + 5), CHAP on. The VIP is on-link through
eth1; eth1's neighbour entries stay reachable for 60 s (base_reachable_time_ms
60000), the rest is at the kernel's defaults.
`,
		recordDir: "etc/iscsi/nodes",
		ifaceDir:  "etc/iscsi/ifaces",
		iscsid:    iscsidConf("node.session.timeo.replacement_timeout = 120", true),
		record:    recordOpts{replacement: 120, chap: true},
		sessions: []fxSession{{id: 1, host: 3, target: "iqn.1995-10.com.high-availability:02:b11f6a06-c9bd-cfeb-ea26-885a25d080c4",
			addr: "192.168.5.10", iface: "default", devs: map[int]string{0: "sdb"}, recoveryTmo: 120}},
		mapLess:  true,
		chapUser: "prague",
		rpFilter: map[string]int{"all": 0, "default": 0, "lo": 0, "eth0": 0, "eth1": 0},
		net: netFiles([]string{"0.0.0.0/0 dev eth0 via 10.0.0.1", "10.0.0.0/24 dev eth0", "192.168.5.0/24 dev eth1"},
			map[string]string{"192.168.5.10": "00:16:3e:5a:00:01 eth1"}, map[string]string{"eth1/base_reachable_time_ms": "60000"}),
	}
}

func fixtures() []fixture {
	centos := good()
	centos.name = "centos-default"
	centos.readme = `Reference 001's host with step 10 skipped: iscsid.conf and the node records keep
CentOS's default node.session.timeo.replacement_timeout = 120, and the kernel
applies it (recovery_tmo 120) while multipath.conf queues with queue_if_no_path.
`
	centos.iscsid = iscsidConf("node.session.timeo.replacement_timeout = 120", true)
	centos.record.replacement = 120
	centos.sessions = fxSessions(120)

	failed := good()
	failed.name = "one-path-failed"
	failed.readme = `Reference 001's host with one path of hydra_db-a02 failed: sdi (session 4,
sw-iscsi-1 to target 02 at 10.10.9.90, LUN 12) is offline in the SCSI midlayer,
as after "echo offline > /sys/block/sdi/device/state". The session is still
logged in; the map has three running paths of four.
`
	failed.devState = map[string]string{"sdi": "offline"}

	rp := good()
	rp.name = "rp-filter"
	rp.readme = `Reference 001's host with step 5 skipped on a distribution that defaults to
strict reverse-path filtering: net.ipv4.conf.default.rp_filter = 1 gave eth1 and
eth2 rp_filter 1 while each iSCSI iface logs in to portals on both subnets.
`
	rp.rpFilter = map[string]int{"all": 0, "default": 1, "lo": 0, "eth0": 1, "eth1": 1, "eth2": 1}

	nochap := good()
	nochap.name = "no-chap"
	nochap.readme = `Reference 001's host, Debian style (node and iface records under /etc/iscsi),
logged in without CHAP: iscsid.conf leaves authmethod commented out, the node
records say authmethod None and the sessions have no username. The scenario
expects chap: true (reference 003).
`
	nochap.recordDir, nochap.ifaceDir = "etc/iscsi/nodes", "etc/iscsi/ifaces"
	nochap.iscsid = iscsidConf("#node.session.timeo.replacement_timeout = 120\nnode.session.timeo.replacement_timeout = 10", false)
	nochap.record.chap = false
	nochap.chapUser = ""

	return []fixture{good(), centos, failed, rp, nochap, vip()}
}

// files renders a fixture as path -> contents.
func (f fixture) files() map[string]string {
	out := map[string]string{
		"README.txt":                    f.readme + "\n" + fxLayout,
		"etc/iscsi/iscsid.conf":         f.iscsid,
		"etc/iscsi/initiatorname.iscsi": "InitiatorName=" + fxInitiator + "\n",
	}
	if !f.mapLess {
		out["etc/multipath.conf"] = f.multipath
		for _, i := range []struct{ name, net, hw string }{
			{"sw-iscsi-0", "eth1", "00:0c:29:94:5b:83"}, {"sw-iscsi-1", "eth2", "00:0c:29:94:5b:8d"},
		} {
			out[f.ifaceDir+"/"+i.name] = ifaceRecord(i.name, i.net, i.hw)
		}
	}
	for name, body := range f.net {
		out[name] = body
	}
	major := map[string]int{}
	for _, s := range f.sessions {
		out[fmt.Sprintf("%s/%s/%s,3260,2/%s", f.recordDir, s.target, s.addr, s.iface)] = nodeRecord(s, f.record)

		sd := fmt.Sprintf("sys/class/iscsi_session/session%d/", s.id)
		state := s.state
		if state == "" {
			state = "LOGGED_IN"
		}
		user, pass := f.chapUser, "(null)"
		if user == "" {
			user = "(null)"
		} else {
			// Real sysfs shows the secret to root; check must never
			// open it, and the tests make sure nothing prints it.
			pass = fxSecret
		}
		for k, v := range map[string]string{
			"targetname": s.target, "state": state, "recovery_tmo": fmt.Sprint(s.recoveryTmo), "tpgt": "2",
			"ifacename": s.iface, "initiatorname": fxInitiator, "first_burst_len": "262144",
			"max_burst_len": "16776192", "immediate_data": "1", "initial_r2t": "0", "erl": "0", "username": user,
			"password": pass,
		} {
			out[sd+k] = v + "\n"
		}
		// The session's device directory holds its connections, which is
		// how collect finds them.
		out[fmt.Sprintf("%sdevice/connection%d:0/uevent", sd, s.id)] = ""
		cd := fmt.Sprintf("sys/class/iscsi_connection/connection%d:0/", s.id)
		for k, v := range map[string]string{
			"persistent_address": s.addr, "persistent_port": "3260", "address": s.addr, "port": "3260",
			"state": "up", "header_digest": "0", "data_digest": "0", "recv_tmo": "5", "ping_tmo": "5",
		} {
			out[cd+k] = v + "\n"
		}
		for lun, dev := range s.devs {
			minor := 16 * (int(dev[2] - 'a'))
			major[dev] = minor
			out[fmt.Sprintf("%sdevice/target%d:0:0/%d:0:0:%d/block/%s/dev", sd, s.host, s.host, lun, dev)] = fmt.Sprintf("8:%d\n", minor)
			bd := "sys/class/block/" + dev + "/"
			out[bd+"dev"] = fmt.Sprintf("8:%d\n", minor)
			st := f.devState[dev]
			if st == "" {
				st = "running"
			}
			out[bd+"device/state"] = st + "\n"
			out[bd+"device/vendor"] = "NEXENTA \n"
			out[bd+"device/model"] = "COMSTAR         \n"
		}
	}
	for i, m := range f.maps {
		bd := "sys/class/block/" + m.dev + "/"
		out[bd+"dev"] = fmt.Sprintf("253:%d\n", 4+2*i)
		out[bd+"dm/name"] = m.name + "\n"
		out[bd+"dm/uuid"] = "mpath-" + m.wwid + "\n"
		for _, s := range f.sessions {
			dev := s.devs[m.lun]
			out[bd+"slaves/"+dev+"/dev"] = fmt.Sprintf("8:%d\n", major[dev])
		}
	}
	for dev, v := range f.rpFilter {
		out["proc/sys/net/ipv4/conf/"+dev+"/rp_filter"] = fmt.Sprintf("%d\n", v)
	}
	return out
}

// TestMakeFixtures rewrites testdata/<name> for every fixture with
// -mkfixtures; without it, it checks that the trees on disk still match.
func TestMakeFixtures(t *testing.T) {
	for _, f := range fixtures() {
		dir := filepath.Join("testdata", f.name)
		files := f.files()
		if *mkFixtures {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, dir, files)
			continue
		}
		var onDisk []string
		err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			onDisk = append(onDisk, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v (run with -mkfixtures)", f.name, err)
		}
		var want []string
		for name, body := range files {
			want = append(want, name)
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil || string(got) != body {
				t.Errorf("%s/%s differs from fixtures_test.go; run with -mkfixtures", f.name, name)
			}
		}
		sort.Strings(onDisk)
		sort.Strings(want)
		if strings.Join(onDisk, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: files on disk differ from fixtures_test.go; run with -mkfixtures", f.name)
		}
	}
}
