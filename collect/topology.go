package collect

import (
	"errors"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Topology is what lies under a run's targets: for each, the device-mapper
// multipath map, its SCSI paths, and the iSCSI sessions and connections
// those paths use. It is read from sysfs alone, enriched by multipathd
// where it runs, and serialises to topology.json.
type Topology struct {
	Devices  []Device  `json:"devices"`
	Sessions []Session `json:"sessions,omitempty"`
	// Multipathd says whether multipathd was consulted: "used", or why not.
	// Empty when there was no multipath map to ask about.
	Multipathd string `json:"multipathd,omitempty"`
	// DMSetup says whether `dmsetup status` gave the path groups and
	// states in multipathd's stead: "used", or why not; empty when it was
	// not needed.
	DMSetup string `json:"dmsetup,omitempty"`
}

// Device is one target (or, with no argument, one top-level block device):
// the LUN as the host sees it.
type Device struct {
	Arg       string `json:"arg,omitempty"`
	Name      string `json:"name,omitempty"` // kernel name: dm-4, sdb, vda, loop0
	MajMin    string `json:"majmin,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Role      Role   `json:"role,omitempty"`
	Alias     string `json:"alias,omitempty"` // device-mapper name: hydra_db-a02, vg0-root
	SizeBytes uint64 `json:"size_bytes,omitempty"`
	Vendor    string `json:"vendor,omitempty"`
	Model     string `json:"model,omitempty"`
	Rev       string `json:"rev,omitempty"`
	Serial    string `json:"serial,omitempty"`
	WWID      string `json:"wwid,omitempty"`
	Partition string `json:"partition,omitempty"` // the partition the argument named
	File      string `json:"file,omitempty"`      // the file the argument named
	Backing   string `json:"backing,omitempty"`   // loop backing file
	// BackingDevice holds the backing file's filesystem.
	BackingDevice string `json:"backing_device,omitempty"`
	LoopDirectIO  bool   `json:"loop_direct_io,omitempty"`
	Maps          []Map  `json:"maps,omitempty"`
	// Paths are the devices under this one that belong to no multipath
	// map: a plain SCSI disk is its own single path; an LVM volume's
	// physical volumes are its paths.
	Paths []Path `json:"paths,omitempty"`
	// Error is why the argument could not be resolved.
	Error string `json:"error,omitempty"`
}

// Map is a device-mapper multipath map.
type Map struct {
	Name      string `json:"name"`   // alias or wwid, /dev/mapper/NAME
	Device    string `json:"device"` // dm-4
	MajMin    string `json:"majmin"`
	UUID      string `json:"uuid"` // mpath-WWID
	WWID      string `json:"wwid"`
	Suspended bool   `json:"suspended"`
	SizeBytes uint64 `json:"size_bytes"`
	Paths     []Path `json:"paths"`
	// Usable counts the paths that can carry I/O (see Path.Usable).
	Usable int `json:"usable_paths"`

	// From multipathd, when it was consulted.
	DMState    string `json:"dm_state,omitempty"` // active, suspend
	Features   string `json:"features,omitempty"`
	HWHandler  string `json:"hwhandler,omitempty"`
	Selector   string `json:"selector,omitempty"`
	Failback   string `json:"failback,omitempty"`
	Queueing   string `json:"queueing,omitempty"`
	PathFaults *int   `json:"path_faults,omitempty"`
}

// Path is one block device under a map or LUN, usually a SCSI disk.
type Path struct {
	Device   string `json:"device"` // sdf
	MajMin   string `json:"majmin,omitempty"`
	HCTL     string `json:"hctl,omitempty"`  // host:channel:target:lun
	State    string `json:"state,omitempty"` // device/state: running, transport-offline, blocked, offline
	TimeoutS int    `json:"timeout_s,omitempty"`
	Vendor   string `json:"vendor,omitempty"`
	Model    string `json:"model,omitempty"`
	Rev      string `json:"rev,omitempty"`
	IOErrCnt uint64 `json:"ioerr_cnt"`
	Session  string `json:"session,omitempty"` // see Topology.Sessions
	// Usable is false when the device is not running, its session is not
	// LOGGED_IN, or multipathd has failed it.
	Usable bool `json:"usable"`

	// From multipathd, when it was consulted.
	DMState    string `json:"dm_state,omitempty"`      // active, failed
	Checker    string `json:"checker_state,omitempty"` // ready, faulty, ghost, ...
	DevState   string `json:"mpath_dev_state,omitempty"`
	TargetWWNN string `json:"target_wwnn,omitempty"`
	TPG        string `json:"tpg,omitempty"`
	Group      int    `json:"path_group,omitempty"`
	GroupState string `json:"path_group_state,omitempty"` // active, enabled, disabled
	Priority   *int   `json:"priority,omitempty"`
	// FailCount is how often dm-multipath failed the path (dmsetup status).
	FailCount *int `json:"dm_fail_count,omitempty"`
}

// Session is an iSCSI session (/sys/class/iscsi_session/sessionN). Values
// are the kernel's text; those it refuses to give (a FAILED session has no
// connection parameters) and unset ones (shown as "(null)") are empty.
// CHAP secrets are never read; of the CHAP name only its presence is kept.
type Session struct {
	Name          string `json:"name"` // session3
	Host          string `json:"host,omitempty"`
	TargetName    string `json:"targetname"`
	State         string `json:"state"` // LOGGED_IN, FAILED, FREE
	TargetState   string `json:"target_state,omitempty"`
	RecoveryTmo   string `json:"recovery_tmo,omitempty"`
	TPGT          string `json:"tpgt,omitempty"`
	IfaceName     string `json:"ifacename,omitempty"`
	InitiatorName string `json:"initiatorname,omitempty"`
	FirstBurstLen string `json:"first_burst_len,omitempty"`
	MaxBurstLen   string `json:"max_burst_len,omitempty"`
	ImmediateData string `json:"immediate_data,omitempty"`
	InitialR2T    string `json:"initial_r2t,omitempty"`
	ERL           string `json:"erl,omitempty"`
	// CHAP is true when the session logged in with a CHAP username (the
	// username attribute is set; the password attribute is never opened).
	CHAP         bool         `json:"chap"`
	LocalAddress string       `json:"local_address,omitempty"` // iscsi_host ipaddress
	NetDev       string       `json:"netdev,omitempty"`
	Connections  []Connection `json:"connections,omitempty"`
	// Devices are the block devices logged in through this session.
	Devices []string `json:"devices,omitempty"`
}

// Connection is one connection of a session (connectionN:M).
type Connection struct {
	Name              string `json:"name"`
	State             string `json:"state,omitempty"` // up, down, failed, bound
	PersistentAddress string `json:"persistent_address,omitempty"`
	PersistentPort    string `json:"persistent_port,omitempty"`
	Address           string `json:"address,omitempty"`
	Port              string `json:"port,omitempty"`
	HeaderDigest      string `json:"header_digest,omitempty"`
	DataDigest        string `json:"data_digest,omitempty"`
	MaxRecvDLength    string `json:"max_recv_dlength,omitempty"`
	MaxXmitDLength    string `json:"max_xmit_dlength,omitempty"`
	// RecvTmo and PingTmo are open-iscsi's noop_out_interval and
	// noop_out_timeout as the kernel applies them, in seconds.
	RecvTmo string `json:"recv_tmo,omitempty"`
	PingTmo string `json:"ping_tmo,omitempty"`
}

// Portal returns the target portal the connection was configured with,
// "addr:port" ("[addr]:port" for IPv6): the persistent address, or the one
// in use when the kernel gives no persistent one.
func (c Connection) Portal() string {
	addr, port := c.PersistentAddress, c.PersistentPort
	if addr == "" {
		addr, port = c.Address, c.Port
	}
	if addr == "" {
		return ""
	}
	return hostPort(addr, port)
}

// Topology reads the topology of the given devices (anything Resolve
// takes); with none, of every multipath map, every other top-level block
// device in use and every iSCSI session. A device that cannot be resolved
// is listed with its Error, and the errors are returned joined. Nothing
// here needs root.
func (h Host) Topology(devices ...string) (Topology, error) {
	return h.topology(true, devices)
}

// topology is Topology with the multipathd step optional: the Watcher polls
// four times a second and must not fork.
func (h Host) topology(askMultipathd bool, args []string) (Topology, error) {
	var t Topology
	var errs []error
	if len(args) == 0 {
		for _, name := range h.topLevel() {
			r, err := h.Resolve(name)
			if err != nil {
				continue // vanished while listing
			}
			r.Arg = ""
			t.Devices = append(t.Devices, h.device(r))
		}
	}
	for _, a := range args {
		r, err := h.Resolve(a)
		if err != nil {
			errs = append(errs, err)
			t.Devices = append(t.Devices, Device{Arg: a, Error: err.Error()})
			continue
		}
		t.Devices = append(t.Devices, h.device(r))
	}

	if len(args) == 0 {
		t.Sessions = h.Sessions()
	} else {
		var names []string
		seen := map[string]bool{}
		t.eachPath(func(p *Path) {
			if p.Session != "" && !seen[p.Session] {
				seen[p.Session] = true
				names = append(names, p.Session)
			}
		})
		t.Sessions = h.sessions(names)
	}

	if askMultipathd && t.hasMaps() {
		h.enrich(&t)
		if t.Multipathd != "used" {
			h.enrichDM(&t)
		}
	}
	t.judge()
	return t, errors.Join(errs...)
}

// Sessions reads every iSCSI session of the host
// (/sys/class/iscsi_session), in natural order; none when the iSCSI
// transport is not loaded.
func (h Host) Sessions() []Session {
	return h.sessions(h.list("/sys/class/iscsi_session"))
}

func (h Host) sessions(names []string) []Session {
	sort.Slice(names, func(i, j int) bool { return natLess(names[i], names[j]) })
	var out []Session
	for _, n := range names {
		if s, ok := h.session(n); ok {
			out = append(out, s)
		}
	}
	return out
}

// MultipathMaps reads every dm-multipath map of the host and its paths
// from sysfs alone (multipathd is not asked), in natural order of dm-N.
func (h Host) MultipathMaps() []Map {
	var out []Map
	names := h.list("/sys/class/block")
	sort.Slice(names, func(i, j int) bool { return natLess(names[i], names[j]) })
	for _, n := range names {
		if strings.HasPrefix(n, "dm-") && h.kind(n) == "multipath" {
			out = append(out, h.mpMap(n))
		}
	}
	return out
}

// topLevel lists the block devices a person would name as a target: whole
// disks and device-mapper devices with a size that nothing is stacked on.
// Multipath maps come first.
func (h Host) topLevel() []string {
	var maps, others []string
	for _, n := range h.list("/sys/class/block") {
		base := "/sys/class/block/" + n
		if h.exists(base+"/partition") || h.sizeBytes(n) == 0 || len(h.list(base+"/holders")) > 0 {
			continue
		}
		if h.kind(n) == "multipath" {
			maps = append(maps, n)
		} else {
			others = append(others, n)
		}
	}
	less := func(s []string) func(i, j int) bool {
		return func(i, j int) bool { return natLess(s[i], s[j]) }
	}
	sort.Slice(maps, less(maps))
	sort.Slice(others, less(others))
	return append(maps, others...)
}

// device describes a resolved target.
func (h Host) device(r Resolved) Device {
	base := "/sys/class/block/" + r.Name
	d := Device{
		Arg: r.Arg, Name: r.Name, MajMin: r.MajMin, Kind: r.Kind, Role: r.Role,
		SizeBytes: h.sizeBytes(r.Name),
		Partition: r.Partition, File: r.File, Backing: r.Backing,
	}
	switch {
	case strings.HasPrefix(r.Name, "dm-"):
		d.Alias = h.attr(base + "/dm/name")
		h.below(&d, r.Name)
		if len(d.Maps) == 1 {
			d.WWID = d.Maps[0].WWID
			if len(d.Maps[0].Paths) > 0 {
				p := d.Maps[0].Paths[0]
				d.Vendor, d.Model, d.Rev = p.Vendor, p.Model, p.Rev
			}
		}
	case d.Kind == "scsi" || d.Kind == "iscsi":
		p := h.path(r.Name)
		d.Vendor, d.Model, d.Rev = p.Vendor, p.Model, p.Rev
		d.WWID = h.attr(base + "/device/wwid")
		d.Paths = []Path{p}
	case d.Kind == "nvme":
		d.Model = h.attr(base + "/device/model")
		d.Serial = h.attr(base + "/device/serial")
		d.Rev = h.attr(base + "/device/firmware_rev")
		d.WWID = h.attr(base + "/wwid")
	case d.Kind == "virtio":
		d.Serial = h.attr(base + "/serial")
	case d.Kind == "loop":
		d.LoopDirectIO = h.attr(base+"/loop/dio") == "1"
		for _, m := range r.Members {
			if m.Role == RoleFS {
				d.BackingDevice = m.Name
				break
			}
		}
	}
	return d
}

// below fills in what a device-mapper device sits on: multipath maps
// (the device itself, or under LVM), and any other leg as a plain path.
func (h Host) below(d *Device, dm string) {
	if h.kind(dm) == "multipath" {
		d.Maps = append(d.Maps, h.mpMap(dm))
		return
	}
	for _, s := range h.slaves(dm) {
		if disk := h.partitionDisk(s); disk != "" {
			s = disk
		}
		if strings.HasPrefix(s, "dm-") {
			h.below(d, s)
			continue
		}
		d.Paths = append(d.Paths, h.path(s))
	}
}

// mpMap reads a multipath map and its paths from sysfs.
func (h Host) mpMap(dm string) Map {
	base := "/sys/class/block/" + dm
	m := Map{
		Name:      h.attr(base + "/dm/name"),
		Device:    dm,
		MajMin:    h.attr(base + "/dev"),
		UUID:      h.attr(base + "/dm/uuid"),
		Suspended: h.attr(base+"/dm/suspended") == "1",
		SizeBytes: h.sizeBytes(dm),
	}
	m.WWID = strings.TrimPrefix(m.UUID, "mpath-")
	for _, s := range h.slaves(dm) {
		m.Paths = append(m.Paths, h.path(s))
	}
	return m
}

// path reads one path device. For a SCSI disk, device/ is the scsi_device
// (drivers/scsi/scsi_sysfs.c): state, timeout, vendor, model, rev,
// ioerr_cnt; its directory name is H:C:T:L.
func (h Host) path(name string) Path {
	base := "/sys/class/block/" + name
	p := Path{Device: name, MajMin: h.attr(base + "/dev"), State: h.attr(base + "/device/state")}
	if strings.HasPrefix(name, "sd") {
		if rp, err := h.realpath(base + "/device"); err == nil {
			p.HCTL = path.Base(rp)
		}
		p.TimeoutS, _ = strconv.Atoi(h.attr(base + "/device/timeout"))
		p.Vendor = h.attr(base + "/device/vendor")
		p.Model = h.attr(base + "/device/model")
		p.Rev = h.attr(base + "/device/rev")
		p.IOErrCnt, _ = strconv.ParseUint(h.attr(base+"/device/ioerr_cnt"), 0, 64)
		p.Session = h.sessionOf(name)
	}
	return p
}

// session reads an iSCSI session the way the kernel lays it out
// (drivers/scsi/scsi_transport_iscsi.c): the class device
// /sys/class/iscsi_session/sessionN links to
// /sys/devices/platform/hostH/sessionN/iscsi_session/sessionN; beside it
// sit connectionN:0 and targetH:C:T/H:C:T:L/block/sdX.
func (h Host) session(name string) (Session, bool) {
	cls := "/sys/class/iscsi_session/" + name
	dev, err := h.realpath(cls + "/device")
	if err != nil {
		return Session{}, false
	}
	s := Session{
		Name:          name,
		TargetName:    h.attr(cls + "/targetname"),
		State:         h.attr(cls + "/state"),
		TargetState:   h.attr(cls + "/target_state"),
		RecoveryTmo:   h.attr(cls + "/recovery_tmo"),
		TPGT:          h.attr(cls + "/tpgt"),
		IfaceName:     h.attr(cls + "/ifacename"),
		InitiatorName: h.attr(cls + "/initiatorname"),
		FirstBurstLen: h.attr(cls + "/first_burst_len"),
		MaxBurstLen:   h.attr(cls + "/max_burst_len"),
		ImmediateData: h.attr(cls + "/immediate_data"),
		InitialR2T:    h.attr(cls + "/initial_r2t"),
		ERL:           h.attr(cls + "/erl"),
		// username only: never open "password".
		CHAP: unset(h.attr(cls+"/username")) != "",
	}
	s.InitiatorName = unset(s.InitiatorName)
	if host := path.Base(path.Dir(dev)); strings.HasPrefix(host, "host") {
		s.Host = host
		ih := "/sys/class/iscsi_host/" + host
		s.LocalAddress = h.attr(ih + "/ipaddress")
		s.NetDev = h.attr(ih + "/netdev")
	}
	entries := h.list(dev)
	sort.Slice(entries, func(i, j int) bool { return natLess(entries[i], entries[j]) })
	for _, e := range entries {
		if strings.HasPrefix(e, "connection") {
			s.Connections = append(s.Connections, h.connection(e))
		}
	}
	blocks, _ := filepath.Glob(h.p(dev) + "/target*/*:*:*:*/block/*")
	for _, b := range blocks {
		s.Devices = append(s.Devices, filepath.Base(b))
	}
	sort.Slice(s.Devices, func(i, j int) bool { return natLess(s.Devices[i], s.Devices[j]) })
	return s, true
}

func (h Host) connection(name string) Connection {
	cls := "/sys/class/iscsi_connection/" + name
	return Connection{
		Name:              name,
		State:             h.attr(cls + "/state"),
		PersistentAddress: h.attr(cls + "/persistent_address"),
		PersistentPort:    h.attr(cls + "/persistent_port"),
		Address:           h.attr(cls + "/address"),
		Port:              h.attr(cls + "/port"),
		HeaderDigest:      h.attr(cls + "/header_digest"),
		DataDigest:        h.attr(cls + "/data_digest"),
		MaxRecvDLength:    h.attr(cls + "/max_recv_dlength"),
		MaxXmitDLength:    h.attr(cls + "/max_xmit_dlength"),
		RecvTmo:           h.attr(cls + "/recv_tmo"),
		PingTmo:           h.attr(cls + "/ping_tmo"),
	}
}

// unset maps the kernel's text for an unset string parameter, "(null)"
// (iscsiadm shows "<NULL>"), to "".
func unset(v string) string {
	if v == "(null)" || v == "<NULL>" {
		return ""
	}
	return v
}

// judge decides which paths are usable and counts them per map.
func (t *Topology) judge() {
	state := map[string]string{}
	for _, s := range t.Sessions {
		state[s.Name] = s.State
	}
	for i := range t.Devices {
		d := &t.Devices[i]
		for j := range d.Paths {
			d.Paths[j].Usable = usable(d.Paths[j], state)
		}
		for j := range d.Maps {
			m := &d.Maps[j]
			m.Usable = 0
			for k := range m.Paths {
				m.Paths[k].Usable = usable(m.Paths[k], state)
				if m.Paths[k].Usable {
					m.Usable++
				}
			}
		}
	}
}

func usable(p Path, sessionState map[string]string) bool {
	if p.State != "" && p.State != "running" && p.State != "live" {
		return false
	}
	if p.Session != "" && sessionState[p.Session] != "LOGGED_IN" {
		return false
	}
	return p.DMState != "failed"
}

func (t *Topology) hasMaps() bool {
	for _, d := range t.Devices {
		if len(d.Maps) > 0 {
			return true
		}
	}
	return false
}

// eachPath calls f on every path of every device and map.
func (t *Topology) eachPath(f func(*Path)) {
	for i := range t.Devices {
		d := &t.Devices[i]
		for j := range d.Paths {
			f(&d.Paths[j])
		}
		for j := range d.Maps {
			for k := range d.Maps[j].Paths {
				f(&d.Maps[j].Paths[k])
			}
		}
	}
}
