package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Topology is the live state check needs: iSCSI sessions and dm-multipath
// maps. SysfsTopology reads it from sysfs; collect's topology can take its
// place once it exists.
type Topology interface {
	Sessions() ([]Session, error)
	Maps() ([]Map, error)
}

// Session is one iSCSI session as the kernel shows it in
// /sys/class/iscsi_session/sessionN (attribute names from
// drivers/scsi/scsi_transport_iscsi.c). Numbers are -1 when unknown.
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

// SysfsTopology reads sessions and maps from a sysfs tree inside FS
// ("sys/class/iscsi_session", "sys/block"), so a fixture tree or the real
// root both work. It only walks paths, never reads symlinks, so a fixture
// can use plain directories where sysfs has links.
type SysfsTopology struct {
	FS fs.FS
}

var _ Topology = SysfsTopology{}

func (t SysfsTopology) attr(name string) string {
	b, err := fs.ReadFile(t.FS, name)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(b))
	// The kernel prints an unset string parameter (a username on a
	// session without CHAP) as "(null)"; iscsiadm shows "<NULL>".
	if v == "(null)" || v == "<NULL>" {
		return ""
	}
	return v
}

func (t SysfsTopology) intAttr(name string) int {
	v, err := strconv.Atoi(t.attr(name))
	if err != nil {
		return -1
	}
	return v
}

// Sessions lists /sys/class/iscsi_session. No such directory (no iscsi
// transport loaded) means no sessions, not an error.
func (t SysfsTopology) Sessions() ([]Session, error) {
	const dir = "sys/class/iscsi_session"
	ents, err := fs.ReadDir(t.FS, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", show(dir), err)
	}
	var out []Session
	for _, e := range ents {
		id, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "session"))
		if err != nil || !strings.HasPrefix(e.Name(), "session") {
			continue
		}
		base := path.Join(dir, e.Name())
		a := func(n string) string { return t.attr(path.Join(base, n)) }
		ai := func(n string) int { return t.intAttr(path.Join(base, n)) }
		s := Session{
			ID:            id,
			Path:          show(base),
			Target:        a("targetname"),
			State:         a("state"),
			Iface:         a("ifacename"),
			Initiator:     a("initiatorname"),
			TPGT:          ai("tpgt"),
			RecoveryTmo:   ai("recovery_tmo"),
			FirstBurst:    ai("first_burst_len"),
			MaxBurst:      ai("max_burst_len"),
			ImmediateData: a("immediate_data"),
			InitialR2T:    a("initial_r2t"),
			ERL:           ai("erl"),
			// username only: never open "password".
			CHAP: a("username") != "",
		}
		if s.Iface == "" {
			s.Iface = "default"
		}
		s.Conn = t.connection(id)
		s.Devices = t.sessionDevices(path.Join(base, "device"))
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t SysfsTopology) connection(sid int) Connection {
	base := fmt.Sprintf("sys/class/iscsi_connection/connection%d:0", sid)
	a := func(n string) string { return t.attr(path.Join(base, n)) }
	ai := func(n string) int { return t.intAttr(path.Join(base, n)) }
	return Connection{
		Path:         show(base),
		PortalAddr:   a("persistent_address"),
		PortalPort:   ai("persistent_port"),
		Address:      a("address"),
		Port:         ai("port"),
		State:        a("state"),
		HeaderDigest: a("header_digest"),
		DataDigest:   a("data_digest"),
		RecvTmo:      ai("recv_tmo"),
		PingTmo:      ai("ping_tmo"),
	}
}

// sessionDevices walks the session's device directory the way iscsiadm
// does: sessionN/targetH:C:T/H:C:T:L/block/sdX.
func (t SysfsTopology) sessionDevices(dev string) []string {
	var out []string
	tgts, _ := fs.ReadDir(t.FS, dev)
	for _, tg := range tgts {
		if !strings.HasPrefix(tg.Name(), "target") {
			continue
		}
		luns, _ := fs.ReadDir(t.FS, path.Join(dev, tg.Name()))
		for _, l := range luns {
			if strings.Count(l.Name(), ":") != 3 {
				continue
			}
			blocks, _ := fs.ReadDir(t.FS, path.Join(dev, tg.Name(), l.Name(), "block"))
			for _, b := range blocks {
				out = append(out, b.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}

// Maps lists the dm devices in /sys/block whose dm/uuid starts "mpath-"
// (kpartx partitions, "part1-mpath-...", are not maps).
func (t SysfsTopology) Maps() ([]Map, error) {
	const dir = "sys/block"
	ents, err := fs.ReadDir(t.FS, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", show(dir), err)
	}
	var out []Map
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "dm-") {
			continue
		}
		base := path.Join(dir, e.Name())
		uuid := t.attr(path.Join(base, "dm/uuid"))
		wwid, ok := strings.CutPrefix(uuid, "mpath-")
		if !ok {
			continue
		}
		m := Map{Name: t.attr(path.Join(base, "dm/name")), Dev: e.Name(), UUID: uuid, WWID: wwid}
		slaves, _ := fs.ReadDir(t.FS, path.Join(base, "slaves"))
		for _, s := range slaves {
			d := path.Join(dir, s.Name(), "device")
			m.Paths = append(m.Paths, Path{
				Dev:    s.Name(),
				State:  t.attr(path.Join(d, "state")),
				Vendor: t.attr(path.Join(d, "vendor")),
				Model:  t.attr(path.Join(d, "model")),
			})
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
