package preflight

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"lunbench/collect"
)

// session is one iSCSI session as check judges it: collect's reading of
// /sys/class/iscsi_session/sessionN with the numbers parsed (-1 when the
// kernel gave none).
type session struct {
	ID   int
	Path string // "/sys/class/iscsi_session/session1"
	// Target is the target IQN; State is LOGGED_IN, FAILED or FREE.
	Target    string
	State     string
	Iface     string // open-iscsi iface name ("default" when unbound)
	Initiator string
	TPGT      int
	// RecoveryTmo is replacement_timeout as the kernel applies it, after
	// multipathd may have replaced it with fast_io_fail_tmo.
	RecoveryTmo int
	// Negotiated login parameters.
	FirstBurst    int
	MaxBurst      int
	ImmediateData string
	InitialR2T    string
	ERL           int
	// CHAP reports whether the session authenticated with CHAP.
	CHAP bool
	Conn connection
	// Devices are the SCSI disks (sdX) the session carries.
	Devices []string
}

// connection is the session's leading connection,
// /sys/class/iscsi_connection/connectionN:0.
type connection struct {
	Path string
	// Portal is the target portal the session was configured with
	// (persistent_address:persistent_port); Address is the one in use,
	// which differs after a redirect.
	PortalAddr string
	PortalPort int
	Address    string
	Port       int
	State      string
	// HeaderDigest and DataDigest are "0"/"1" or "None"/"CRC32C",
	// depending on the kernel.
	HeaderDigest string
	DataDigest   string
	// RecvTmo and PingTmo are noop_out_interval and noop_out_timeout as
	// the kernel applies them.
	RecvTmo int
	PingTmo int
}

// Portal returns the configured target portal, "addr:port".
func (c connection) Portal() string {
	if c.PortalAddr == "" {
		if c.Address == "" {
			return ""
		}
		return portalString(c.Address, c.Port)
	}
	return portalString(c.PortalAddr, c.PortalPort)
}

// liveSessions reads the host's iSCSI sessions through collect.
func liveSessions(h collect.Host) []session {
	var out []session
	for _, cs := range h.Sessions() {
		id, err := strconv.Atoi(strings.TrimPrefix(cs.Name, "session"))
		if err != nil {
			continue
		}
		s := session{
			ID:            id,
			Path:          show(path.Join(pathSessions, cs.Name)),
			Target:        cs.TargetName,
			State:         cs.State,
			Iface:         cs.IfaceName,
			Initiator:     cs.InitiatorName,
			TPGT:          num(cs.TPGT),
			RecoveryTmo:   num(cs.RecoveryTmo),
			FirstBurst:    num(cs.FirstBurstLen),
			MaxBurst:      num(cs.MaxBurstLen),
			ImmediateData: cs.ImmediateData,
			InitialR2T:    cs.InitialR2T,
			ERL:           num(cs.ERL),
			CHAP:          cs.CHAP,
			Conn:          leadConnection(id, cs.Connections),
			Devices:       cs.Devices,
		}
		if s.Iface == "" {
			s.Iface = "default"
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// leadConnection returns the session's leading connection, connectionN:0
// (numbers -1 when the session has none, as a FAILED one may not).
func leadConnection(sid int, cs []collect.Connection) connection {
	name := fmt.Sprintf("connection%d:0", sid)
	out := connection{Path: show("sys/class/iscsi_connection/" + name), PortalPort: -1, Port: -1, RecvTmo: -1, PingTmo: -1}
	for _, c := range cs {
		if c.Name != name {
			continue
		}
		out.PortalAddr, out.PortalPort = c.PersistentAddress, num(c.PersistentPort)
		out.Address, out.Port = c.Address, num(c.Port)
		out.State, out.HeaderDigest, out.DataDigest = c.State, c.HeaderDigest, c.DataDigest
		out.RecvTmo, out.PingTmo = num(c.RecvTmo), num(c.PingTmo)
	}
	return out
}

// liveMaps reads the host's dm-multipath maps through collect, sorted by
// name.
func liveMaps(h collect.Host) []collect.Map {
	out := h.MultipathMaps()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// num parses a sysfs number, -1 when there is none.
func num(s string) int {
	v, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return v
}
