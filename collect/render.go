package collect

import (
	"fmt"
	"io"
	"strings"
)

// RenderTree prints a topology as a tree a person reads at a glance:
// LUN → map → path → session → portal. With color, states are green when
// healthy, red when failed and yellow in between (ANSI; the caller decides
// whether w is a terminal).
func RenderTree(w io.Writer, t Topology, color bool) error {
	r := renderer{color: color}
	var b strings.Builder
	if len(t.Devices) == 0 && len(t.Sessions) == 0 {
		b.WriteString("no multipath maps, iSCSI sessions or block devices in use\n")
	}
	sessions := map[string]Session{}
	for _, s := range t.Sessions {
		sessions[s.Name] = s
	}
	shown := map[string]bool{}
	for _, d := range t.Devices {
		writeTree(&b, r.device(d, sessions, shown), "", "")
	}
	var orphans []Session
	for _, s := range t.Sessions {
		if !shown[s.Name] {
			orphans = append(orphans, s)
		}
	}
	if len(orphans) > 0 {
		b.WriteString("iSCSI sessions without a block device in this view:\n")
		for _, s := range orphans {
			writeTree(&b, r.session(s), "", "")
		}
	}
	switch {
	case !t.hasMaps() || t.Multipathd == "" || t.Multipathd == "used":
	case t.DMSetup == "used":
		fmt.Fprintf(&b, "(multipathd %s: path groups and states from dmsetup status)\n", t.Multipathd)
	default:
		fmt.Fprintf(&b, "(multipathd %s: path states from sysfs only)\n", t.Multipathd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type node struct {
	text string
	kids []node
}

// writeTree prints n with box-drawing branches; first is the prefix of
// n's own line, rest that of its descendants.
func writeTree(b *strings.Builder, n node, first, rest string) {
	b.WriteString(first)
	b.WriteString(n.text)
	b.WriteByte('\n')
	for i, k := range n.kids {
		if i == len(n.kids)-1 {
			writeTree(b, k, rest+"└─ ", rest+"   ")
		} else {
			writeTree(b, k, rest+"├─ ", rest+"│  ")
		}
	}
}

type renderer struct{ color bool }

func (r renderer) device(d Device, sessions map[string]Session, shown map[string]bool) node {
	var f fields
	label := d.Arg
	if label == "" {
		label = d.Alias
	}
	if d.Error != "" {
		return node{text: label + ": " + r.paint(d.Error, colorBad)}
	}
	name := d.Name
	if d.File != "" {
		name = "filesystem on " + name
	}
	if label != "" && label != d.Name {
		name = label + " → " + name
	}
	f.add(name, d.MajMin, d.Kind, humanBytes(d.SizeBytes))
	if d.Partition != "" {
		f.add("(partition " + d.Partition + ")")
	}
	f.add(strings.TrimSpace(d.Vendor + " " + d.Model + " " + d.Rev))
	if d.Serial != "" {
		f.add("serial " + d.Serial)
	}
	if d.WWID != "" && len(d.Maps) == 0 {
		f.add("wwid " + d.WWID)
	}
	if d.Backing != "" {
		bk := "backing " + d.Backing
		if d.LoopDirectIO {
			bk += " (direct I/O)"
		}
		if d.BackingDevice != "" {
			bk += " on " + d.BackingDevice
		}
		f.add(bk)
	}
	n := node{text: f.String()}
	for _, m := range d.Maps {
		mn := r.mpMap(m, d.Name)
		for _, p := range m.Paths {
			mn.kids = append(mn.kids, r.path(p, sessions, shown))
		}
		n.kids = append(n.kids, mn)
	}
	for _, p := range d.Paths {
		n.kids = append(n.kids, r.path(p, sessions, shown))
	}
	return n
}

func (r renderer) mpMap(m Map, top string) node {
	var f fields
	f.add("map " + m.Name)
	if m.Device != top {
		f.add(m.Device)
	}
	usable := fmt.Sprintf("%d/%d paths usable", m.Usable, len(m.Paths))
	switch {
	case m.Usable == len(m.Paths) && m.Usable > 0:
		usable = r.paint(usable, colorGood)
	case m.Usable == 0:
		usable = r.paint(usable, colorBad)
	default:
		usable = r.paint(usable, colorWarn)
	}
	f.add(usable)
	if m.Suspended {
		f.add(r.paint("suspended", colorWarn))
	}
	if m.Selector != "" {
		f.add("policy '" + m.Selector + "'")
	}
	if m.Features != "" {
		f.add("features '" + m.Features + "'")
	}
	if m.HWHandler != "" && m.HWHandler != "0" {
		f.add("hwhandler '" + m.HWHandler + "'")
	}
	f.add("wwid " + m.WWID)
	return node{text: f.String()}
}

func (r renderer) path(p Path, sessions map[string]Session, shown map[string]bool) node {
	var f fields
	f.add(p.Device)
	if p.HCTL != "" {
		f.add(p.HCTL)
	} else {
		f.add(p.MajMin)
	}
	if p.State != "" {
		f.add(r.state(p.State))
	}
	if p.TimeoutS != 0 {
		f.add(fmt.Sprintf("timeout %ds", p.TimeoutS))
	}
	if p.HCTL != "" {
		ioerr := fmt.Sprintf("ioerr %d", p.IOErrCnt)
		if p.IOErrCnt > 0 {
			ioerr = r.paint(ioerr, colorWarn)
		}
		f.add(ioerr)
	}
	switch {
	case p.Checker != "":
		f.add("multipathd " + r.state(p.DMState) + "/" + r.state(p.Checker))
	case p.DMState != "": // from dmsetup status: the kernel's view only
		f.add("dm " + r.state(p.DMState))
	}
	if p.Group != 0 {
		g := fmt.Sprintf("group %d %s", p.Group, p.GroupState)
		if p.Priority != nil {
			g += fmt.Sprintf(" prio %d", *p.Priority)
		}
		f.add(g)
	}
	if p.FailCount != nil && *p.FailCount > 0 {
		f.add(r.paint(fmt.Sprintf("failed %d×", *p.FailCount), colorWarn))
	}
	if p.TPG != "" {
		f.add("tpg " + p.TPG)
	}
	n := node{text: f.String()}
	if s, ok := sessions[p.Session]; ok {
		shown[s.Name] = true
		n.kids = append(n.kids, r.session(s))
	}
	return n
}

func (r renderer) session(s Session) node {
	var f fields
	f.add(s.Name, r.state(s.State), s.TargetName)
	if s.TPGT != "" {
		f.add("tpgt " + s.TPGT)
	}
	if s.IfaceName != "" {
		f.add("iface " + s.IfaceName)
	}
	if s.CHAP {
		f.add("CHAP")
	}
	if s.RecoveryTmo != "" {
		f.add("recovery_tmo " + s.RecoveryTmo + "s")
	}
	n := node{text: f.String()}
	for _, c := range s.Connections {
		var cf fields
		portal := "portal ?"
		if c.PersistentAddress != "" {
			portal = "portal " + hostPort(c.PersistentAddress, c.PersistentPort)
		}
		cf.add(portal)
		if c.State != "" {
			cf.add(r.state(c.State))
		}
		if c.Address != "" && (c.Address != c.PersistentAddress || c.Port != c.PersistentPort) {
			cf.add("now " + hostPort(c.Address, c.Port))
		}
		if s.LocalAddress != "" {
			from := "from " + s.LocalAddress
			if s.NetDev != "" && s.NetDev != "(null)" && s.NetDev != "<NULL>" {
				from += " (" + s.NetDev + ")"
			}
			cf.add(from)
		}
		if c.RecvTmo != "" && c.PingTmo != "" {
			cf.add("noop " + c.RecvTmo + "s/" + c.PingTmo + "s")
		}
		if c.HeaderDigest == "1" || c.DataDigest == "1" {
			cf.add("digests header " + digest(c.HeaderDigest) + " data " + digest(c.DataDigest))
		}
		n.kids = append(n.kids, node{text: cf.String()})
	}
	return n
}

func hostPort(addr, port string) string {
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	if port == "" {
		return addr
	}
	return addr + ":" + port
}

func digest(v string) string {
	if v == "1" {
		return "CRC32C"
	}
	return "None"
}

type colorKind int

const (
	colorGood colorKind = iota
	colorWarn
	colorBad
)

func (r renderer) paint(s string, c colorKind) string {
	if !r.color || s == "" {
		return s
	}
	code := [...]string{colorGood: "32", colorWarn: "33", colorBad: "31"}[c]
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// state colours a state word by what it means for I/O.
func (r renderer) state(s string) string {
	switch s {
	case "":
		return "-"
	case "running", "live", "LOGGED_IN", "up", "active", "ready":
		return r.paint(s, colorGood)
	case "transport-offline", "offline", "blocked", "deleted", "cancel",
		"FAILED", "FREE", "failed", "faulty", "down", "i/o timeout":
		return r.paint(s, colorBad)
	}
	return r.paint(s, colorWarn)
}

// fields joins non-empty words with two spaces.
type fields struct{ parts []string }

func (f *fields) add(s ...string) {
	for _, x := range s {
		if x != "" {
			f.parts = append(f.parts, x)
		}
	}
}

func (f fields) String() string { return strings.Join(f.parts, "  ") }

// humanBytes prints a size in binary units with one decimal.
func humanBytes(n uint64) string {
	if n == 0 {
		return ""
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
