package preflight

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"lunbench/workload"
)

// Where the network facts are read, below the host's root. The formats are
// the kernel's: /proc/net/route (net/ipv4/fib_trie.c fib_route_seq_show:
// addresses as little-endian hex), /proc/net/arp (net/ipv4/arp.c
// arp_seq_show) and the neighbour sysctls of
// Documentation/networking/ip-sysctl.rst.
const (
	pathRoute = "proc/net/route"
	pathARP   = "proc/net/arp"
	pathNeigh = "proc/sys/net/ipv4/neigh"
	pathIPv4  = "proc/sys/net/ipv4"
)

// PortalNet is the way from this host to one portal: the interface its
// route takes, the gateway if it is not on that link, its ARP entry, and
// the neighbour settings that decide how long a stale entry lives.
type PortalNet struct {
	Portal  string // 198.18.0.10:3260
	Address string
	// Dev is the interface the route takes, Gateway the next hop when the
	// portal is not on-link; Route is the route used ("198.18.0.0/24 dev
	// lab0"), "" when none matched.
	Dev, Gateway, Route string
	// ARP is the portal's (or gateway's) entry in /proc/net/arp at the
	// start: "02:fc:00:00:00:05 flags 0x2", "" when there is none.
	ARP string
	// Neighbour settings of Dev (net.ipv4.neigh.<dev>.*), each with where
	// it was read.
	BaseReachable, DelayFirstProbe, Retrans time.Duration
	UcastSolicit                            int
	Values                                  []workload.CauseValue
}

// TCPSettings are the host's TCP retransmission limits.
type TCPSettings struct {
	Retries2, SynRetries int // -1 when not readable
	Values               []workload.CauseValue
}

// arpBound is how long this host may keep sending to a MAC that no longer
// holds the address: an entry stays REACHABLE for a random 0.5 to 1.5 x
// base_reachable_time after its last confirmation, goes STALE, then on
// the next packet waits delay_first_probe_time and sends ucast_solicit
// unicast probes retrans_time apart before it fails and resolves afresh
// (net/core/neighbour.c neigh_timer_handler).
func (p PortalNet) arpBound() time.Duration {
	return p.BaseReachable*3/2 + p.DelayFirstProbe + time.Duration(p.UcastSolicit)*p.Retrans
}

// readNet reads the network facts for each distinct portal of ss.
func readNet(h Host, ss []SessionTimers) ([]PortalNet, TCPSettings) {
	routes := readRoutes(h.FS)
	arp := readARP(h.FS)
	var out []PortalNet
	seen := map[string]bool{}
	for _, s := range ss {
		if s.Address == "" || seen[s.Address] {
			continue
		}
		seen[s.Address] = true
		pn := PortalNet{Portal: s.Portal, Address: s.Address}
		if a, err := netip.ParseAddr(s.Address); err == nil && a.Is4() {
			if r, ok := bestRoute(routes, a); ok {
				pn.Dev, pn.Route = r.dev, r.String()
				hop := s.Address
				if r.gw.IsValid() && !r.gw.IsUnspecified() {
					pn.Gateway = r.gw.String()
					hop = pn.Gateway
				}
				pn.ARP = arp[hop]
			}
		}
		neighValues(h.FS, &pn)
		out = append(out, pn)
	}
	t := TCPSettings{Retries2: -1, SynRetries: -1}
	for _, k := range []struct {
		name string
		dst  *int
	}{{"tcp_retries2", &t.Retries2}, {"tcp_syn_retries", &t.SynRetries}} {
		p := path.Join(pathIPv4, k.name)
		if v, ok := readInt(h.FS, p); ok {
			*k.dst = v
			t.Values = append(t.Values, workload.CauseValue{Name: "net.ipv4." + k.name, Value: strconv.Itoa(v), Source: show(p)})
		}
	}
	return out, t
}

// neighValues reads the neighbour settings of pn.Dev, falling back to
// "default" (what a new interface starts with) and then to the kernel's
// defaults.
func neighValues(fsys fs.FS, pn *PortalNet) {
	dev := pn.Dev
	if dev == "" {
		dev = "default"
	}
	get := func(key string, def int) (int, string) {
		for _, d := range []string{dev, "default"} {
			p := path.Join(pathNeigh, d, key)
			if v, ok := readInt(fsys, p); ok {
				return v, show(p)
			}
		}
		return def, "the kernel's default (" + show(path.Join(pathNeigh, dev, key)) + " not readable)"
	}
	for _, k := range []struct {
		key  string
		def  int
		unit time.Duration
		dst  *time.Duration
		n    *int
	}{
		{"base_reachable_time_ms", 30000, time.Millisecond, &pn.BaseReachable, nil},
		{"delay_first_probe_time", 5, time.Second, &pn.DelayFirstProbe, nil},
		{"ucast_solicit", 3, 0, nil, &pn.UcastSolicit},
		{"retrans_time_ms", 1000, time.Millisecond, &pn.Retrans, nil},
	} {
		v, src := get(k.key, k.def)
		if k.dst != nil {
			*k.dst = time.Duration(v) * k.unit
		} else {
			*k.n = v
		}
		pn.Values = append(pn.Values, workload.CauseValue{Name: "net.ipv4.neigh." + dev + "." + k.key, Value: strconv.Itoa(v), Source: src})
	}
}

func readInt(fsys fs.FS, p string) (int, bool) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return v, err == nil
}

// route is one IPv4 route of /proc/net/route.
type route struct {
	dev          string
	dst, gw      netip.Addr
	bits, metric int
}

func (r route) String() string {
	s := netip.PrefixFrom(r.dst, r.bits).String() + " dev " + r.dev
	if r.gw.IsValid() && !r.gw.IsUnspecified() {
		s += " via " + r.gw.String()
	}
	return s
}

// readRoutes parses /proc/net/route: Iface, Destination, Gateway, Flags,
// RefCnt, Use, Metric, Mask, ... with addresses in host (little-endian)
// byte order. Only the main table is there; policy routing is not seen.
func readRoutes(fsys fs.FS) []route {
	f, err := fsys.Open(pathRoute)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []route
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 8 || fl[0] == "Iface" {
			continue
		}
		dst, ok1 := hexAddr(fl[1])
		gw, ok2 := hexAddr(fl[2])
		mask, ok3 := hexAddr(fl[7])
		metric, err := strconv.Atoi(fl[6])
		if !ok1 || !ok2 || !ok3 || err != nil {
			continue
		}
		m := mask.As4()
		bits := 0
		for _, b := range m {
			for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
				bits++
			}
		}
		out = append(out, route{dev: fl[0], dst: dst, gw: gw, bits: bits, metric: metric})
	}
	return out
}

func hexAddr(s string) (netip.Addr, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, false
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
	return netip.AddrFrom4(a), true
}

// bestRoute is the longest-prefix match for a, the lowest metric on a tie.
func bestRoute(rs []route, a netip.Addr) (route, bool) {
	var best route
	found := false
	for _, r := range rs {
		if !netip.PrefixFrom(r.dst, r.bits).Contains(a) {
			continue
		}
		if !found || r.bits > best.bits || r.bits == best.bits && r.metric < best.metric {
			best, found = r, true
		}
	}
	return best, found
}

// readARP returns /proc/net/arp's entries by IP: "MAC flags 0xN".
func readARP(fsys fs.FS) map[string]string {
	out := map[string]string{}
	f, err := fsys.Open(pathARP)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 6 || fl[0] == "IP" {
			continue
		}
		out[fl[0]] = fl[3] + " flags " + fl[2] + " on " + fl[5]
	}
	return out
}

// ReachedByIP reports whether the target is reached through an IP: an
// iSCSI session lies under it.
func (f Failover) ReachedByIP() bool { return len(f.Sessions) > 0 }

// Causes lists the likely causes of a stall above max_stall on the
// target, in order: ARP cache, TCP retransmission backoff, iSCSI
// replacement_timeout and NOP-Out, multipath no_path_retry, each marked
// when it alone can account for the stall. None when the target is not
// reached through an IP.
func (f Failover) Causes(stall time.Duration) []workload.Cause {
	if !f.ReachedByIP() {
		return nil
	}
	out := []workload.Cause{f.arpCause(), f.tcpCause(), f.iscsiCause()}
	if f.Map != nil {
		out = append(out, f.queueCause())
	}
	for i := range out {
		out[i].Accounts = out[i].Bound > 0 && out[i].Bound >= stall
	}
	return out
}

func (f Failover) arpCause() workload.Cause {
	c := workload.Cause{Cause: "arp", Title: "ARP cache: a VIP moved without a gratuitous ARP",
		Explain: "after a VIP moves to another head, this host keeps sending to the old head's MAC until its neighbour entry goes stale and is probed; " +
			"a cluster that sends a gratuitous ARP (arping -U) on takeover updates it at once. In the lab a move without one stalled I/O for 107 s, with one 1.5 s"}
	for _, p := range f.Net {
		route := p.Route
		if route == "" {
			route = "no route found in " + show(pathRoute)
		}
		c.Values = append(c.Values, workload.CauseValue{Name: "route to " + p.Address, Value: route, Source: show(pathRoute)})
		hop := p.Address
		if p.Gateway != "" {
			hop = p.Gateway
			c.Explain += fmt.Sprintf("; %s is reached through gateway %s, so a VIP move changes the router's ARP entry, not this host's", p.Address, p.Gateway)
		}
		arp := p.ARP
		if arp == "" {
			arp = "none at the start"
		}
		c.Values = append(c.Values, workload.CauseValue{Name: "ARP entry of " + hop, Value: arp, Source: show(pathARP)})
		c.Values = append(c.Values, p.Values...)
		if p.Gateway == "" {
			c.Bound = max(c.Bound, p.arpBound())
		}
	}
	if c.Bound > 0 {
		c.Explain += "; a stale entry lasts at most 1.5 x base_reachable_time + delay_first_probe_time + ucast_solicit x retrans_time"
	}
	return c
}

func (f Failover) tcpCause() workload.Cause {
	c := workload.Cause{Cause: "tcp", Title: "TCP retransmission backoff",
		Explain: "once the network works again, a connection waits for its next retransmission, and TCP doubles that wait after every loss (up to 120 s); " +
			"iscsid's reconnect SYNs back off 1, 2, 4, 8 ... s the same way", Values: f.TCP.Values}
	if n := f.TCP.SynRetries; n > 0 && n < 31 {
		giveUp := time.Duration(1<<(n+1)-1) * time.Second
		c.Explain += fmt.Sprintf("; with tcp_syn_retries %d a connect gives up after %s, and the last wait between two SYNs is %s", n, secs(giveUp), secs(time.Duration(1<<(n-1))*time.Second))
	}
	return c
}

func (f Failover) iscsiCause() workload.Cause {
	c := workload.Cause{Cause: "iscsi", Title: "iSCSI replacement_timeout and NOP-Out",
		Explain: "a dead connection is noticed after noop_out_interval + noop_out_timeout; then the SCSI layer holds the session's I/O for replacement_timeout (recovery_tmo) while iscsid logs in again, and fails it after that"}
	for _, s := range f.Sessions {
		for _, t := range append(s.detection(), s.Recovery) {
			c.Values = append(c.Values, workload.CauseValue{Name: s.Session + " " + t.Name, Value: secs(t.Value), Source: t.Source})
		}
		c.Bound = max(c.Bound, s.total())
	}
	return c
}

func (f Failover) queueCause() workload.Cause {
	q := f.Queue
	c := workload.Cause{Cause: "no_path_retry", Title: "multipath no_path_retry",
		Values: []workload.CauseValue{
			{Name: "no_path_retry", Value: q.NoPathRetryValue, Source: q.NoPathRetry.Source},
			{Name: "polling_interval", Value: secs(q.Polling.Value), Source: q.Polling.Source},
			{Name: "features", Value: q.FeaturesValue, Source: q.Features.Source},
		}}
	switch {
	case !q.Queue:
		c.Explain = "the map does not queue with no path left, so a total outage returns errors at once rather than a stall"
	case q.Retries < 0:
		c.Explain = "with no path left the map queues I/O without limit (queue_if_no_path): the stall lasts until a path comes back, however long"
	default:
		c.Bound = q.NoPathRetry.Value
		c.Explain = fmt.Sprintf("with no path left the map queues I/O for no_path_retry %d x polling_interval %s = %s, then fails it", q.Retries, secs(q.Polling.Value), secs(q.NoPathRetry.Value))
	}
	return c
}
