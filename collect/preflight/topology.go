package preflight

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"lunbench/collect"
)

// Session is one iSCSI session as check judges it: collect's reading of
// /sys/class/iscsi_session/sessionN with the numbers parsed (-1 when the
// kernel gave none).
type Session struct {
	ID   int    `json:"id"`
	Path string `json:"path"` // "/sys/class/iscsi_session/session1"
	// Target is the target IQN; State is LOGGED_IN, FAILED or FREE.
	Target    string `json:"target"`
	State     string `json:"state"`
	Iface     string `json:"iface"` // open-iscsi iface name ("default" when unbound)
	Initiator string `json:"initiator,omitempty"`
	TPGT      int    `json:"tpgt"`
	// RecoveryTmo is replacement_timeout as the kernel applies it, after
	// multipathd may have replaced it with fast_io_fail_tmo.
	RecoveryTmo int `json:"recovery_tmo"`
	// Negotiated login parameters.
	FirstBurst    int    `json:"first_burst_len"`
	MaxBurst      int    `json:"max_burst_len"`
	ImmediateData string `json:"immediate_data,omitempty"`
	InitialR2T    string `json:"initial_r2t,omitempty"`
	ERL           int    `json:"erl"`
	// CHAP reports whether the session authenticated with CHAP (a non-empty
	// username). The password attribute is never read.
	CHAP bool       `json:"chap"`
	Conn Connection `json:"conn"`
	// Devices are the SCSI disks (sdX) the session carries.
	Devices []string `json:"devices"`
}

// Connection is the session's leading connection,
// /sys/class/iscsi_connection/connectionN:0.
type Connection struct {
	Path string `json:"path"`
	// Portal is the target portal the session was configured with
	// (persistent_address:persistent_port); Address is the one in use,
	// which differs after a redirect.
	PortalAddr string `json:"persistent_address"`
	PortalPort int    `json:"persistent_port"`
	Address    string `json:"address"`
	Port       int    `json:"port"`
	State      string `json:"state,omitempty"`
	// HeaderDigest and DataDigest are "0"/"1" or "None"/"CRC32C",
	// depending on the kernel.
	HeaderDigest string `json:"header_digest,omitempty"`
	DataDigest   string `json:"data_digest,omitempty"`
	// RecvTmo and PingTmo are noop_out_interval and noop_out_timeout as
	// the kernel applies them.
	RecvTmo int `json:"recv_tmo"`
	PingTmo int `json:"ping_tmo"`
}

// Portal returns the configured target portal, "addr:port".
func (c Connection) Portal() string {
	if c.PortalAddr == "" {
		if c.Address == "" {
			return ""
		}
		return portalString(c.Address, c.Port)
	}
	return portalString(c.PortalAddr, c.PortalPort)
}

// Map is one dm-multipath map (a dm device whose uuid starts "mpath-").
type Map struct {
	Name  string `json:"name"` // dm name: the alias or mpathN or the wwid
	Dev   string `json:"dev"`  // "dm-4"
	UUID  string `json:"uuid"`
	WWID  string `json:"wwid"`
	Paths []Path `json:"paths"`
}

// Path is one slave of a map.
type Path struct {
	Dev    string `json:"dev"`   // "sdf"
	State  string `json:"state"` // SCSI device state: running, offline, blocked, transport-offline
	Vendor string `json:"vendor,omitempty"`
	Model  string `json:"model,omitempty"`
}

// liveSessions reads the host's iSCSI sessions through collect.
func liveSessions(h collect.Host) []Session {
	var out []Session
	for _, cs := range h.Sessions() {
		id, err := strconv.Atoi(strings.TrimPrefix(cs.Name, "session"))
		if err != nil {
			continue
		}
		s := Session{
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
func leadConnection(sid int, cs []collect.Connection) Connection {
	name := fmt.Sprintf("connection%d:0", sid)
	out := Connection{Path: show("sys/class/iscsi_connection/" + name), PortalPort: -1, Port: -1, RecvTmo: -1, PingTmo: -1}
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
func liveMaps(h collect.Host) []Map {
	var out []Map
	for _, cm := range h.MultipathMaps() {
		m := Map{Name: cm.Name, Dev: cm.Device, UUID: cm.UUID, WWID: cm.WWID}
		for _, p := range cm.Paths {
			m.Paths = append(m.Paths, Path{Dev: p.Device, State: p.State, Vendor: p.Vendor, Model: p.Model})
		}
		out = append(out, m)
	}
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
