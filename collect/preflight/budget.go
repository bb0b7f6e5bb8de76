package preflight

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"lunbench/collect"
	"lunbench/scenarios"
	"lunbench/workload"
)

// Failover is what one target's failover budget, and the likely causes of
// a long stall on it, are worked out from: the iSCSI sessions under it with
// their timers as the kernel applies them, the multipath map's queueing,
// and the network settings on the way to each portal. Read it before the
// first fault: a FAILED session no longer shows its connection's timers.
type Failover struct {
	Target string // the scenario's name for the target
	Path   string // its path as the scenario gives it
	// Reason is why nothing can be predicted ("" when something can).
	Reason string
	// Map is the target's multipath map, nil for a plain iSCSI disk.
	Map *collect.Map
	// Sessions are the iSCSI sessions under the target, in ID order.
	Sessions []SessionTimers
	// Queue is the map's queueing when it loses its last path.
	Queue Queueing
	// Net is the network on the way to each portal, for the likely causes.
	Net []PortalNet
	TCP TCPSettings
}

// SessionTimers are the timers of one iSCSI session that decide how long
// a dead connection holds its I/O.
type SessionTimers struct {
	Session string // session3
	Portal  string // 198.18.0.10:3260
	Address string // the portal's address, for routing
	// NoopInterval and NoopTimeout are the connection's recv_tmo and
	// ping_tmo; Recovery is the session's recovery_tmo. CmdTimeout is the
	// SCSI command timeout of its disks, which notices a dead connection
	// when NOP-Out is off.
	NoopInterval, NoopTimeout, Recovery, CmdTimeout workload.BudgetTerm
}

// Queueing is what a multipath map does when its last path fails.
type Queueing struct {
	// Queue is true when the map queues I/O with no path; Retries is
	// no_path_retry (-1 for "queue": without limit, 0 for "fail").
	Queue   bool
	Retries int
	// NoPathRetry, Polling and Features are the settings, each with where
	// it was read.
	NoPathRetry, Polling, Features workload.BudgetTerm
	// NoPathRetryValue and FeaturesValue are the settings as written
	// ("12", "queue"; "1 queue_if_no_path"), the live map's features when
	// multipathd gave them.
	NoPathRetryValue, FeaturesValue string
}

// noopOff reports whether NOP-Out pings are off for the session.
func (s SessionTimers) noopOff() bool {
	return s.NoopInterval.Value <= 0 || s.NoopTimeout.Value <= 0
}

// detection is the time from a dead connection to the session failing,
// with the terms that make it up.
func (s SessionTimers) detection() []workload.BudgetTerm {
	if s.noopOff() {
		return []workload.BudgetTerm{s.CmdTimeout}
	}
	return []workload.BudgetTerm{s.NoopInterval, s.NoopTimeout}
}

func (s SessionTimers) total() time.Duration {
	var d time.Duration
	for _, t := range append(s.detection(), s.Recovery) {
		d += t.Value
	}
	return d
}

// Tolerance is how far above a predicted stall a measured one may run
// before it is a finding: 2 s for iscsid's reaction, timer slack and the
// stall detector, plus 20% for the rounding of long timers.
func Tolerance(predicted time.Duration) time.Duration {
	return 2*time.Second + predicted/5
}

// ReadFailover reads target's failover inputs from h. dev is the target's
// kernel device name as collect.Host.Resolve gives it (dm-4, sdc, loop0;
// "" when it could not be resolved), and kind its kind (multipath, scsi,
// loop, file ...).
func ReadFailover(h Host, target, tpath, dev, kind string) Failover {
	f := Failover{Target: target, Path: tpath}
	c := &checker{h: h, r: &Report{}}
	c.load()
	var m *collect.Map
	for i := range c.maps {
		if (dev != "" && c.maps[i].Device == dev) || matchMap(tpath, c.maps[i]) {
			m = &c.maps[i]
			break
		}
	}
	var disks []string
	if m != nil {
		f.Map = m
		for _, p := range m.Paths {
			disks = append(disks, p.Device)
		}
	} else if dev != "" {
		disks = []string{dev}
	}
	seen := map[int]bool{}
	for _, d := range disks {
		s := c.sessByDev[d]
		if s == nil || seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		f.Sessions = append(f.Sessions, c.timers(s, d))
	}
	if len(f.Sessions) == 0 {
		f.Reason = c.noSession(tpath, kind, m)
		return f
	}
	if m != nil {
		f.Queue = c.queueing(*m)
	}
	f.Net, f.TCP = readNet(h, f.Sessions)
	return f
}

// noSession says why a target has no iSCSI session to predict from.
func (c *checker) noSession(tpath, kind string, m *collect.Map) string {
	what := tpath
	switch {
	case m != nil:
		what = fmt.Sprintf("%s is multipath map %s, but none of its paths belongs to an iSCSI session", tpath, m.Name)
	case kind == "file":
		what = tpath + " is a file, not an iSCSI LUN"
	case kind != "":
		what = fmt.Sprintf("%s is a %s device, not an iSCSI LUN or a multipath map of one", tpath, kind)
	default:
		what = tpath + " is not an iSCSI LUN or a multipath map of one"
	}
	if len(c.sessions) == 0 {
		if _, err := c.h.FS.Open(pathSessions); err != nil {
			return what + "; this host has no iSCSI session (no " + show(pathSessions) + ": the kernel's iSCSI transport is not loaded)"
		}
		return what + "; this host has no iSCSI session (" + show(pathSessions) + " is empty)"
	}
	return what + fmt.Sprintf("; none of the host's iSCSI sessions (%d) carries it", len(c.sessions))
}

// timers reads one session's timers, falling back to its node record (or
// iscsid.conf) for what the kernel does not show.
func (c *checker) timers(s *session, disk string) SessionTimers {
	conf, haveConf := c.sessionConf(s)
	fromConf := func(key, name string, live int, livePath, why string) workload.BudgetTerm {
		if live >= 0 {
			return workload.BudgetTerm{Name: name, Value: time.Duration(live) * time.Second, Source: livePath, Why: why}
		}
		t := workload.BudgetTerm{Name: name, Why: why}
		if haveConf {
			v := get(conf, key)
			t.Value = time.Duration(v.Int()) * time.Second
			t.Source = v.Where + " (" + livePath + " not readable)"
			if !v.Set {
				t.Source = fmt.Sprintf("open-iscsi's default %s (not in %s; %s not readable)", v.Value, v.Where, livePath)
			}
			return t
		}
		t.Value = time.Duration(atoi(iscsiDefaults[key])) * time.Second
		t.Source = fmt.Sprintf("open-iscsi's default %s (%s not readable, no node record)", iscsiDefaults[key], livePath)
		return t
	}
	st := SessionTimers{Session: fmt.Sprintf("session%d", s.ID), Portal: s.Conn.Portal(), Address: s.Conn.PortalAddr}
	if st.Address == "" {
		st.Address = s.Conn.Address
	}
	st.NoopInterval = fromConf(keyNoopInt, "noop_out_interval", s.Conn.RecvTmo, s.Conn.Path+"/recv_tmo",
		"with no PDU received for this long, the initiator sends a NOP-Out ping")
	st.NoopTimeout = fromConf(keyNoopTmo, "noop_out_timeout", s.Conn.PingTmo, s.Conn.Path+"/ping_tmo",
		"an unanswered ping fails the connection after this long")
	st.Recovery = fromConf(keyReplacement, "replacement_timeout", s.RecoveryTmo, s.Path+"/recovery_tmo",
		"the SCSI layer holds the failed session's I/O this long (recovery_tmo) before failing it to dm-multipath or the application")
	tmo, src := scsiCmdTimeout, fmt.Sprintf("the SCSI default %d s (/sys/block/%s/device/timeout not readable)", scsiCmdTimeout, disk)
	if b, err := c.h.FS.Open(path.Join("sys/class/block", disk, "device/timeout")); err == nil {
		var v int
		if _, err := fmt.Fscan(b, &v); err == nil && v > 0 {
			tmo, src = v, "/sys/block/"+disk+"/device/timeout"
		}
		b.Close()
	}
	st.CmdTimeout = workload.BudgetTerm{Name: "scsi_cmd_timeout", Value: time.Duration(tmo) * time.Second, Source: src,
		Why: "NOP-Out is off, so only a SCSI command timing out notices the dead connection"}
	return st
}

// queueing resolves what map m does with no path left: the live features
// from multipathd win over multipath.conf.
func (c *checker) queueing(m collect.Map) Queueing {
	p := mpPath{WWID: m.WWID}
	for _, pa := range m.Paths {
		if pa.Vendor != "" {
			p.Vendor, p.Product = pa.Vendor, pa.Model
			break
		}
	}
	npr := effective(c.mpconfs, "no_path_retry", p)
	poll := effective(c.mpconfs, "polling_interval", p)
	feat := effective(c.mpconfs, "features", p)
	term := func(name string, s mpSetting, why string) workload.BudgetTerm {
		src := c.mpWhere(s) + " (" + string(s.Level) + ")"
		switch {
		case s.Level == levelHwtable:
			src = fmt.Sprintf("multipath-tools' built-in hwtable for %s %s", p.Vendor, p.Product)
		case s.File == "":
			src = string(s.Level)
		}
		return workload.BudgetTerm{Name: name, Source: src, Why: why}
	}
	q := Queueing{
		NoPathRetry: term("no_path_retry", npr, "multipathd keeps queueing this many path checks after the last path fails, then fails the I/O"),
		Polling:     term("polling_interval", poll, "multipathd checks paths (and counts no_path_retry down) this often"),
		Features:    term("features", feat, "queue_if_no_path holds I/O while no path is left"),
	}
	q.NoPathRetryValue, q.FeaturesValue = npr.Value, feat.Value
	pi := max(atoi(poll.Value), 1)
	q.Polling.Value = time.Duration(pi) * time.Second
	q.NoPathRetry.Source = fmt.Sprintf("no_path_retry %s, %s", npr.Value, q.NoPathRetry.Source)
	q.Features.Source = fmt.Sprintf("features \"%s\", %s", feat.Value, q.Features.Source)
	queueFeat := strings.Contains(feat.Value, "queue_if_no_path")
	switch {
	case npr.Value == "queue", npr.Level == levelBuiltin && queueFeat:
		q.Queue, q.Retries = true, -1
	case atoi(npr.Value) > 0:
		q.Queue, q.Retries = true, atoi(npr.Value)
	}
	if t, err := c.h.Sys.Topology(m.Device); err == nil && len(t.Devices) == 1 && len(t.Devices[0].Maps) == 1 {
		q.live(t.Devices[0].Maps[0])
	}
	if q.Retries > 0 {
		q.NoPathRetry.Value = time.Duration(q.Retries) * q.Polling.Value
		q.NoPathRetry.Name = fmt.Sprintf("no_path_retry %d x polling_interval %ds", q.Retries, pi)
	}
	return q
}

// live applies what multipathd says of the live map, which wins over the
// files: its dm table features (no queue_if_no_path: I/O fails at once
// with no path) and its queueing column (libmultipath/print.c
// snprint_queueing: "off", "on", "N chk" for no_path_retry N, "N sec"
// while counting down).
func (q *Queueing) live(m collect.Map) {
	const src = " of the live map (multipathd show maps)"
	if m.Features != "" {
		q.FeaturesValue = m.Features
		q.Features.Source = fmt.Sprintf("features \"%s\"%s", m.Features, src)
		if !strings.Contains(m.Features, "queue_if_no_path") {
			q.Queue, q.Retries = false, 0
			q.NoPathRetry.Source += "; the live map does not queue, so it fails at once"
			return
		}
		if !q.Queue {
			q.Queue, q.Retries = true, -1
		}
	}
	var n int
	switch qs := strings.TrimSpace(m.Queueing); {
	case qs == "on":
		q.Queue, q.Retries, q.NoPathRetryValue = true, -1, "queue"
	case qs == "off":
		q.Queue, q.Retries, q.NoPathRetryValue = false, 0, "fail"
	case strings.HasSuffix(qs, " chk"):
		if _, err := fmt.Sscanf(qs, "%d chk", &n); err != nil || n <= 0 {
			return
		}
		q.Queue, q.Retries, q.NoPathRetryValue = true, n, strconv.Itoa(n)
	default:
		return
	}
	q.NoPathRetry.Source = fmt.Sprintf("queueing \"%s\"%s", m.Queueing, src)
}

// Predict works out the budget of a failure (scenarios.FailurePath,
// FailureAllPaths, FailureSession; "" infers it from the topology).
func (f Failover) Predict(failure string) workload.Budget {
	b := workload.Budget{Failure: failure, FailureFrom: "scenario"}
	if failure == "" {
		b.FailureFrom = "topology"
		b.Failure = scenarios.FailureSession
		if f.Map != nil && len(f.Map.Paths) >= 2 {
			b.Failure = scenarios.FailurePath
		}
	}
	if f.Reason != "" {
		b.Reason = f.Reason
		return b
	}
	b.Available = true
	// The worst session decides: its I/O is held longest.
	w := f.Sessions[0]
	for _, s := range f.Sessions[1:] {
		if s.total() > w.total() {
			w = s
		}
	}
	b.Session = w.Session + " (" + w.Portal + ")"
	b.Terms = append(w.detection(), w.Recovery)
	f.then(&b)
	var names []string
	for _, t := range b.Terms {
		if !(b.Unbounded && t.Name == "features") {
			b.Predicted += t.Value
		}
		names = append(names, t.Name)
	}
	b.Formula = strings.Join(names, " + ")
	if b.Unbounded {
		b.Formula += " (unbounded)"
	}
	b.Tolerance = Tolerance(b.Predicted)
	return b
}

// then adds what follows the session's failure: with another path left
// the map carries on; with none it queues as no_path_retry says. A
// session failure (a VIP move) is budgeted at the iSCSI level: the map's
// queueing only holds I/O when the session misses its recovery_tmo.
func (f Failover) then(b *workload.Budget) {
	others := f.Map != nil && len(f.Map.Paths) >= 2 && len(f.Sessions) >= 2
	lastPath := f.Map != nil && (b.Failure == scenarios.FailureAllPaths || !others)
	switch {
	case f.Map == nil:
		b.Ends = "the session logs in again and I/O resumes, or, after replacement_timeout, I/O fails with an error"
	case b.Failure == scenarios.FailureSession && !others:
		b.Ends = "the session logs in again and I/O resumes; if it misses recovery_tmo, dm-multipath fails its only path and I/O waits in the map's queue"
		b.NotAdded = append(b.NotAdded, f.Queue.NoPathRetry)
		b.NotAdded[len(b.NotAdded)-1].Why = "not added: the map's queueing holds I/O only after the session missed recovery_tmo, which the budget of a session failure does not allow for"
	case !lastPath:
		b.Ends = "dm-multipath fails the path and retries its I/O on the remaining paths"
		b.NotAdded = append(b.NotAdded, workload.BudgetTerm{Name: "polling_interval", Value: f.Queue.Polling.Value, Source: f.Queue.Polling.Source,
			Why: "not added: dm-multipath fails the path itself when the held I/O errors (drivers/md/dm-mpath.c), and multipathd's checker sees a blocked device as pending until then (multipath-tools path_offline)"})
	case !f.Queue.Queue:
		b.Ends = "with no path left and no queueing, I/O fails with an error"
		b.NotAdded = append(b.NotAdded, f.Queue.NoPathRetry)
		b.NotAdded[len(b.NotAdded)-1].Why = "not added: the map does not queue with no path"
	case f.Queue.Retries < 0:
		b.Unbounded = true
		b.Ends = "with no path left I/O queues until a path comes back (queue_if_no_path without a bound): the application hangs"
		b.Terms = append(b.Terms, f.Queue.Features)
	default:
		b.Ends = "with no path left I/O queues for no_path_retry checks, then fails with an error"
		b.Terms = append(b.Terms, f.Queue.NoPathRetry)
	}
}

// Judge sets the measured stall beside the prediction and makes it a
// finding when it is above Predicted + Tolerance.
func Judge(b *workload.Budget, measured time.Duration) {
	b.Measured = measured
	if !b.Available || b.Predicted <= 0 {
		return
	}
	b.Ratio = float64(measured) / float64(b.Predicted)
	if b.Unbounded || measured <= b.Predicted+b.Tolerance {
		return
	}
	b.Finding = fmt.Sprintf("measured stall %s is far above the predicted %s (%s; tolerance %s): something the host's iSCSI and multipath settings do not explain held I/O, such as a stale ARP entry, TCP backoff or a target that answered late",
		secs(measured), secs(b.Predicted), b.Formula, secs(b.Tolerance))
}

// secs formats a duration in seconds, to the millisecond: "17.7s".
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + "s"
}

// ReadFailovers reads the failover inputs of each scenario target, by
// name, resolving its path on h (symlinks such as /dev/disk/by-path/...
// and /dev/mapper/NAME to the kernel's device).
func ReadFailovers(h Host, targets []scenarios.Target) map[string]Failover {
	out := map[string]Failover{}
	for _, t := range targets {
		dev, kind := "", ""
		if r, err := h.Sys.Resolve(t.Path); err == nil {
			dev, kind = r.Name, r.Kind
			if r.File != "" {
				dev, kind = "", "file"
			}
		}
		out[t.Name] = ReadFailover(h, t.Name, t.Path, dev, kind)
	}
	return out
}
