package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"lunbench/collect"
)

// Expect is what a scenario target declares about its storage path
// (`expect: {paths: 4, portals: 2, chap: true, recovery_tmo: "<=15s"}`). It
// has the same fields as scenarios.TargetExpect, so one converts to the
// other: preflight.Expect(*target.Expect).
type Expect struct {
	Paths          int           // running paths, 0 = not checked
	Portals        int           // distinct target portals, 0 = not checked
	CHAP           *bool         // CHAP on every session, nil = not checked
	RecoveryTmoMax time.Duration // upper bound for recovery_tmo, 0 = not checked
}

// Host is what check reads: configuration files and /proc/sys from FS, live
// sessions and maps from sysfs through collect (Sys, whose Root is the same
// tree). Root is only shown in the report.
type Host struct {
	Root string
	FS   fs.FS
	Sys  collect.Host
}

// Run checks the host under root ("/" for the real one, a fixture tree in
// tests). exp holds expectations by multipath map name, /dev/mapper/NAME,
// dm-N or wwid. now stamps the report.
func Run(root string, exp map[string]Expect, now time.Time) Report {
	return RunHost(NewHost(root), exp, now)
}

// NewHost is the Host under root ("/" for the real one).
func NewHost(root string) Host {
	return Host{Root: root, FS: os.DirFS(root), Sys: collect.Host{Root: root}}
}

// RunHost is Run with the sources spelled out.
func RunHost(h Host, exp map[string]Expect, now time.Time) Report {
	c := &checker{h: h, exp: exp, r: &Report{Root: h.Root, Time: now}}
	c.load()
	if c.nothing() {
		c.noInitiator()
	} else {
		c.iscsiConfig()
		c.failoverTime()
		c.liveSessions()
		c.multipathConfig()
		c.liveMaps()
		c.network()
	}
	c.expectations()
	c.chapMixed() // after expectations: what they reported is not repeated
	c.r.finish()
	return *c.r
}

// Paths where open-iscsi and multipath-tools keep their files. Debian keeps
// node and iface records under /etc/iscsi, Red Hat under /var/lib/iscsi.
const (
	pathIscsid     = "etc/iscsi/iscsid.conf"
	pathMPConf     = "etc/multipath.conf"
	pathMPConfDir  = "etc/multipath/conf.d"
	pathSessions   = "sys/class/iscsi_session"
	pathSysctlConf = "proc/sys/net/ipv4/conf"
)

var (
	nodeDirs  = []string{"etc/iscsi/nodes", "var/lib/iscsi/nodes"}
	ifaceDirs = []string{"etc/iscsi/ifaces", "var/lib/iscsi/ifaces"}
)

// open-iscsi keys check reads.
const (
	keyReplacement = "node.session.timeo.replacement_timeout"
	keyNoopInt     = "node.conn[0].timeo.noop_out_interval"
	keyNoopTmo     = "node.conn[0].timeo.noop_out_timeout"
	keyLoginTmo    = "node.conn[0].timeo.login_timeout"
	keyLoginRetry  = "node.session.initial_login_retry_max"
	keyCmdsMax     = "node.session.cmds_max"
	keyQueueDepth  = "node.session.queue_depth"
	keyFirstBurst  = "node.session.iscsi.FirstBurstLength"
	keyMaxBurst    = "node.session.iscsi.MaxBurstLength"
	keyMRDSL       = "node.conn[0].iscsi.MaxRecvDataSegmentLength"
	keyHdrDigest   = "node.conn[0].iscsi.HeaderDigest"
	keyDataDigest  = "node.conn[0].iscsi.DataDigest"
	keyStartup     = "node.startup"
	keyAuth        = "node.session.auth.authmethod"
	keyUser        = "node.session.auth.username"
	keyPassword    = "node.session.auth.password"
)

// iscsiDefaults are open-iscsi's compiled-in values (usr/iscsi_settings.h,
// idbm.c), used when neither a record nor iscsid.conf sets a key.
var iscsiDefaults = map[string]string{
	keyReplacement: "120",
	keyNoopInt:     "5",
	keyNoopTmo:     "5",
	keyLoginTmo:    "15",
	keyLoginRetry:  "8",
	keyCmdsMax:     "128",
	keyQueueDepth:  "32",
	keyFirstBurst:  "262144",
	keyMaxBurst:    "16776192",
	keyMRDSL:       "262144",
	keyHdrDigest:   "None",
	keyDataDigest:  "None",
	keyStartup:     "manual",
	keyAuth:        "None",
}

// Thresholds of the rules, in seconds unless named otherwise.
const (
	maxReplacement   = 30 // replacement_timeout above this defeats multipath
	maxPolling       = 10 // multipathd polling_interval
	maxLoginWait     = 120
	scsiCmdTimeout   = 30 // sd's default command timeout, the fallback detector without NOP-Out
	minDataSegment   = 512
	maxDataSegment   = 1<<24 - 1 // RFC 3720 bounds for burst and segment lengths
	maxCmdsMax       = 2048
	maxQueueDepthVal = 1024
)

type checker struct {
	h   Host
	exp map[string]Expect
	r   *Report

	iscsid   *Conf
	records  []NodeRecord
	nodeDirs []string
	ifaces   []IfaceRecord
	mpconfs  []*MPConf
	sessions []session
	maps     []collect.Map
	// noCHAPReported holds the sessions an expect.chap finding already
	// names, so iscsi.chap-mixed does not report the same cause again.
	noCHAPReported map[int]bool

	sessByDev map[string]*session
	// mpInUse: a multipath.conf or live maps exist, so iSCSI must hand
	// failed I/O back quickly.
	mpInUse bool
	// queueWhere is the first multipath.conf line that asks for queueing
	// (features queue_if_no_path or no_path_retry queue), "" if none.
	queueWhere string
}

func (c *checker) add(f Finding) { c.r.Findings = append(c.r.Findings, f) }

func (c *checker) checked(what, where string, found bool, note string) {
	c.r.Checked = append(c.r.Checked, Source{What: what, Where: where, Found: found, Note: note})
}

func (c *checker) readErr(err error) {
	if err == nil {
		return
	}
	for _, e := range unjoin(err) {
		c.add(Finding{Severity: Warn, Check: "host.read-error", Where: c.h.Root,
			Found: e.Error(),
			Why:   "what could not be read was not checked",
			Fix:   "run lunbench check as root, or check the file's permissions"})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (c *checker) load() {
	if f, err := c.h.FS.Open(pathIscsid); err == nil {
		conf, err := ParseIscsidConf(show(pathIscsid), f)
		f.Close()
		c.readErr(err)
		c.iscsid = &conf
		c.checked("open-iscsi config", show(pathIscsid), true, plural(len(conf.Settings), "setting"))
	} else {
		if !errors.Is(err, fs.ErrNotExist) {
			c.readErr(err)
		}
		c.checked("open-iscsi config", show(pathIscsid), false, "not found")
	}

	for _, d := range nodeDirs {
		recs, err := LoadNodeRecords(c.h.FS, d)
		c.readErr(err)
		if len(recs) > 0 {
			c.nodeDirs = append(c.nodeDirs, show(d))
		}
		c.records = append(c.records, recs...)
	}
	if len(c.records) > 0 {
		layouts := map[string]bool{}
		for _, r := range c.records {
			layouts[r.Layout] = true
		}
		c.checked("node records", strings.Join(c.nodeDirs, ", "), true,
			fmt.Sprintf("%s (%s layout)", plural(len(c.records), "record"), strings.Join(sortedKeys(layouts), ", ")))
	} else {
		c.checked("node records", show(nodeDirs[0])+", "+show(nodeDirs[1]), false, "none")
	}

	var ifDirs []string
	for _, d := range ifaceDirs {
		ifs, err := LoadIfaceRecords(c.h.FS, d)
		c.readErr(err)
		if len(ifs) > 0 {
			ifDirs = append(ifDirs, show(d))
		}
		c.ifaces = append(c.ifaces, ifs...)
	}
	if len(c.ifaces) > 0 {
		var b []string
		for _, i := range c.ifaces {
			if i.NetIface != "" {
				b = append(b, i.Name+" -> "+i.NetIface)
			} else {
				b = append(b, i.Name)
			}
		}
		c.checked("iface records", strings.Join(ifDirs, ", "), true, strings.Join(b, ", "))
	} else {
		c.checked("iface records", show(ifaceDirs[0])+", "+show(ifaceDirs[1]), false, "none")
	}

	c.sessions = liveSessions(c.h.Sys)
	c.sessByDev = map[string]*session{}
	loggedIn := 0
	for i := range c.sessions {
		s := &c.sessions[i]
		for _, d := range s.Devices {
			c.sessByDev[d] = s
		}
		if s.State == "LOGGED_IN" {
			loggedIn++
		}
	}
	if len(c.sessions) > 0 {
		c.checked("iSCSI sessions", show(pathSessions), true,
			fmt.Sprintf("%s, %d logged in", plural(len(c.sessions), "session"), loggedIn))
	} else {
		c.checked("iSCSI sessions", show(pathSessions), false, "none")
	}

	if f, err := c.h.FS.Open(pathMPConf); err == nil {
		mc, err := ParseMultipathConf(show(pathMPConf), f)
		f.Close()
		c.readErr(err)
		c.mpconfs = append(c.mpconfs, mc)
	} else if !errors.Is(err, fs.ErrNotExist) {
		c.readErr(err)
	}
	// multipathd reads conf.d/*.conf after the main file, in name order.
	extra := 0
	if ents, err := fs.ReadDir(c.h.FS, pathMPConfDir); err == nil {
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			name := path.Join(pathMPConfDir, e.Name())
			f, err := c.h.FS.Open(name)
			if err != nil {
				c.readErr(err)
				continue
			}
			mc, err := ParseMultipathConf(show(name), f)
			f.Close()
			c.readErr(err)
			c.mpconfs = append(c.mpconfs, mc)
			extra++
		}
	}
	switch {
	case len(c.mpconfs) == 0:
		c.checked("multipath.conf", show(pathMPConf), false, "not found")
	case extra > 0:
		c.checked("multipath.conf", show(pathMPConf), true, fmt.Sprintf("and %s in %s", plural(extra, "file"), show(pathMPConfDir)))
	default:
		c.checked("multipath.conf", show(pathMPConf), true, "")
	}

	c.maps = liveMaps(c.h.Sys)
	if len(c.maps) > 0 {
		n := 0
		for _, m := range c.maps {
			n += len(m.Paths)
		}
		c.checked("multipath maps", "/sys/block/dm-*", true, fmt.Sprintf("%s, %s", plural(len(c.maps), "map"), plural(n, "path")))
	} else {
		c.checked("multipath maps", "/sys/block/dm-*", false, "none")
	}

	c.mpInUse = len(c.mpconfs) > 0 || len(c.maps) > 0
	for _, mc := range c.mpconfs {
		walk(mc.Sections, func(s *MPSection) {
			for _, a := range s.Attrs {
				if c.queueWhere != "" {
					return
				}
				if (a.Key == "features" && strings.Contains(a.Value, "queue_if_no_path")) ||
					(a.Key == "no_path_retry" && a.Value == "queue") {
					c.queueWhere = fmt.Sprintf("%s:%d", mc.Name, a.Line)
				}
			}
		})
	}
}

func walk(ss []*MPSection, fn func(*MPSection)) {
	for _, s := range ss {
		fn(s)
		walk(s.Sections, fn)
	}
}

func (c *checker) nothing() bool {
	return c.iscsid == nil && len(c.records) == 0 && len(c.sessions) == 0 &&
		len(c.mpconfs) == 0 && len(c.maps) == 0
}

func (c *checker) noInitiator() {
	c.rpFilterSource(nil)
	c.add(Finding{
		Severity: Info, Check: CheckNoInitiator, Where: show(pathIscsid),
		Found: "no iSCSI initiator (open-iscsi) configured on this host: /etc/iscsi/iscsid.conf not found; " +
			"no iSCSI sessions in /sys/class/iscsi_session; no /etc/multipath.conf and no dm-multipath maps in /sys/block",
		Why: "there is no iSCSI path to check or to fail: lunbench can benchmark local, loop and file targets here, " +
			"but path drills and the paths/portals/chap/recovery_tmo expectations need open-iscsi sessions and dm-multipath maps",
		Fix: "on an iSCSI client, install open-iscsi and multipath-tools, discover and log in to the target " +
			"(reference 001, steps 3 to 13), then run lunbench check again",
	})
}

// iscsiValue is a setting from one open-iscsi file, or open-iscsi's default.
type iscsiValue struct {
	Key   string
	Value string
	Set   bool
	Where string // file:line, or the file when unset
	Raw   Setting
}

func (v iscsiValue) Int() int { return atoi(v.Value) }

func (v iscsiValue) found() string {
	if v.Set {
		return fmt.Sprintf("%s = %s", v.Key, v.Value)
	}
	return fmt.Sprintf("%s not set (open-iscsi's default is %s)", v.Key, v.Value)
}

func get(conf Conf, key string) iscsiValue {
	if s, ok := conf.Get(key); ok {
		return iscsiValue{Key: key, Value: s.Value, Set: true, Where: conf.Where(s), Raw: s}
	}
	return iscsiValue{Key: key, Value: iscsiDefaults[key], Where: conf.Name}
}

// atoi reads a number the way iscsid's atoi does: leading digits, else 0.
func atoi(s string) int {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && (s[0] == '-' || s[0] == '+')) {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// stall is the worst-case time from a path dying to dm-multipath seeing its
// I/O fail: NOP-Out interval + NOP-Out timeout to notice the dead
// connection, then replacement_timeout before the SCSI layer fails the I/O.
type stall struct {
	interval, timeout, replacement int
	// noopOff: no NOP-Out, so only a SCSI command timeout notices.
	noopOff bool
}

func (s stall) total() int {
	if s.noopOff {
		return scsiCmdTimeout + max(s.replacement, 0)
	}
	return s.interval + s.timeout + max(s.replacement, 0)
}

func (s stall) explain(replName string) string {
	if s.noopOff {
		return fmt.Sprintf("NOP-Out off, so a SCSI command timeout (%d s) notices the dead connection, then %s %d s", scsiCmdTimeout, replName, s.replacement)
	}
	return fmt.Sprintf("noop_out_interval %d s + noop_out_timeout %d s to notice the dead connection, then %s %d s", s.interval, s.timeout, replName, s.replacement)
}

func confStall(conf Conf) stall {
	s := stall{interval: get(conf, keyNoopInt).Int(), timeout: get(conf, keyNoopTmo).Int(), replacement: get(conf, keyReplacement).Int()}
	s.noopOff = s.interval <= 0 || s.timeout <= 0
	return s
}

func seconds(n int) string {
	if n < 120 {
		return fmt.Sprintf("%d s", n)
	}
	if n%60 == 0 {
		return fmt.Sprintf("%d s (%d minutes)", n, n/60)
	}
	return fmt.Sprintf("%d s (%d min %d s)", n, n/60, n%60)
}

// recordSessions returns the live sessions that logged in through rec.
func (c *checker) recordSessions(rec NodeRecord) []*session {
	var out []*session
	for i := range c.sessions {
		if sameRecord(c.recordFor(&c.sessions[i]), rec) {
			out = append(out, &c.sessions[i])
		}
	}
	return out
}

func sameRecord(a *NodeRecord, b NodeRecord) bool { return a != nil && a.Conf.Name == b.Conf.Name }

// recordFor finds the node record a session logged in with: same target,
// portal and iface; failing that, same target and portal.
func (c *checker) recordFor(s *session) *NodeRecord {
	var loose *NodeRecord
	for i := range c.records {
		r := &c.records[i]
		if r.Target != s.Target || r.Address != s.Conn.PortalAddr || r.Port != s.Conn.PortalPort {
			continue
		}
		if r.Iface == s.Iface {
			return r
		}
		if loose == nil {
			loose = r
		}
	}
	return loose
}

// sessionConf is the configuration a session's login used.
func (c *checker) sessionConf(s *session) (Conf, bool) {
	if r := c.recordFor(s); r != nil {
		return r.Conf, true
	}
	if c.iscsid != nil {
		return *c.iscsid, true
	}
	return Conf{}, false
}

const fixReplacement = "set node.session.timeo.replacement_timeout = 10 in /etc/iscsi/iscsid.conf and in the node records " +
	"(iscsiadm -m node -o update -n node.session.timeo.replacement_timeout -v 10), then log the sessions out and in (reference 001, step 10)"

// iscsiConfig applies the configuration rules to every node record and to
// iscsid.conf.
func (c *checker) iscsiConfig() {
	recordBad := map[string]bool{}
	for _, rec := range c.records {
		for _, ch := range c.confRules(rec.Conf, &rec, Error) {
			recordBad[ch] = true
		}
		if v := get(rec.Conf, keyStartup); v.Value == "manual" && len(c.recordSessions(rec)) > 0 {
			c.add(Finding{Severity: Warn, Check: "iscsi.startup", Where: v.Where, Found: v.found() + " on a record with a live session",
				Why: "after a reboot this path does not log in again, so the LUN comes back with fewer paths than it has now",
				Fix: "iscsiadm -m node -T <target> -p <portal> -I <iface> -o update -n node.startup -v automatic"})
		}
	}
	if c.iscsid != nil {
		// iscsid.conf only seeds records at discovery: with records
		// present, its faults matter less unless the records share them.
		sev := Error
		if len(c.records) > 0 {
			sev = Warn
			if recordBad["iscsi.replacement_timeout"] {
				sev = Error
			}
		}
		c.confRules(*c.iscsid, nil, sev)
		c.drift()
	}
	c.notLoggedIn()
}

// confRules checks one open-iscsi file and returns the checks that fired.
// replSev is the severity of a replacement_timeout too long for multipath.
func (c *checker) confRules(conf Conf, rec *NodeRecord, replSev Severity) []string {
	var fired []string
	add := func(f Finding) {
		fired = append(fired, f.Check)
		c.add(f)
	}

	for _, p := range conf.Problems {
		add(Finding{Severity: p.Severity, Check: "iscsi.syntax", Where: fmt.Sprintf("%s:%d", conf.Name, p.Line), Found: p.Msg,
			Why: "iscsid skips lines it cannot read, so the setting meant there keeps its default",
			Fix: "write the line as \"key = value\""})
	}
	for _, s := range conf.Settings {
		if s.Quoted {
			add(Finding{Severity: Warn, Check: "iscsi.quoted-value", Where: conf.Where(s), Found: fmt.Sprintf("%s = \"%s\"", s.Key, s.Value),
				Why: "iscsid does not strip quotes: a quoted number reads as 0 and a quoted CHAP name or secret never matches the target's",
				Fix: "remove the double quotes"})
		}
	}

	st := confStall(conf)
	repl := get(conf, keyReplacement)
	if c.mpInUse && (repl.Int() > maxReplacement || repl.Int() < 0) && !c.overridden(rec) {
		why := fmt.Sprintf("I/O on a failed path will hang for up to %s before dm-multipath may retry it on another path: %s",
			seconds(st.total()), st.explain("replacement_timeout"))
		if repl.Int() < 0 {
			why = "a negative replacement_timeout queues I/O on a failed path until the session logs back in: dm-multipath never gets it back to use another path"
		}
		if c.queueWhere != "" {
			why += fmt.Sprintf("; with queue_if_no_path (%s) applications see a hang, not an error", c.queueWhere)
		}
		add(Finding{Severity: replSev, Check: "iscsi.replacement_timeout", Where: repl.Where, Found: repl.found(), Why: why, Fix: fixReplacement})
	}

	ni, nt := get(conf, keyNoopInt), get(conf, keyNoopTmo)
	for _, v := range []iscsiValue{ni, nt} {
		if v.Int() <= 0 {
			add(Finding{Severity: Warn, Check: "iscsi.noop", Where: v.Where, Found: v.found() + " (NOP-Out off)",
				Why: fmt.Sprintf("without NOP-Out pings a target that silently stops answering is noticed only when a SCSI command times out (%d s by default), which lengthens every failover", scsiCmdTimeout),
				Fix: "set node.conn[0].timeo.noop_out_interval = 5 and node.conn[0].timeo.noop_out_timeout = 5 (open-iscsi's defaults)"})
		}
	}

	lt, lr := get(conf, keyLoginTmo), get(conf, keyLoginRetry)
	if w := lt.Int() * lr.Int(); w > maxLoginWait {
		add(Finding{Severity: Info, Check: "iscsi.login", Where: lr.Where, Found: fmt.Sprintf("%s, %s", lr.found(), lt.found()),
			Why: fmt.Sprintf("an unreachable portal holds up the first login (at boot, or when a drill brings a path back) for up to %s", seconds(w)),
			Fix: "lower node.session.initial_login_retry_max or node.conn[0].timeo.login_timeout"})
	}

	cm, qd := get(conf, keyCmdsMax), get(conf, keyQueueDepth)
	if n := cm.Int(); n < 2 || n > maxCmdsMax || n&(n-1) != 0 {
		add(Finding{Severity: Warn, Check: "iscsi.queue", Where: cm.Where, Found: cm.found(),
			Why: "open-iscsi wants cmds_max to be a power of 2 from 2 to 2048 and uses its default otherwise",
			Fix: "set node.session.cmds_max to a power of 2, e.g. 128 (default) or 1024 for deep-queue benchmarks"})
	}
	if n := qd.Int(); n < 1 || n > maxQueueDepthVal {
		add(Finding{Severity: Warn, Check: "iscsi.queue", Where: qd.Where, Found: qd.found(),
			Why: "open-iscsi accepts a queue_depth from 1 to 1024 and uses its default otherwise",
			Fix: "set node.session.queue_depth between 1 and 1024 (default 32)"})
	} else if n > cm.Int() && cm.Int() > 0 {
		add(Finding{Severity: Warn, Check: "iscsi.queue", Where: qd.Where, Found: fmt.Sprintf("%s with %s", qd.found(), cm.found()),
			Why: "a LUN cannot have more commands outstanding than the whole session, so the extra queue depth is never used and benchmarks at that depth queue in the initiator",
			Fix: "raise node.session.cmds_max to at least queue_depth times the LUNs per session"})
	}

	fb, mb, mr := get(conf, keyFirstBurst), get(conf, keyMaxBurst), get(conf, keyMRDSL)
	for _, v := range []iscsiValue{fb, mb, mr} {
		if n := v.Int(); n < minDataSegment || n > maxDataSegment {
			add(Finding{Severity: Warn, Check: "iscsi.burst", Where: v.Where, Found: v.found(),
				Why: "RFC 3720 allows 512 to 16777215 bytes; the login negotiates something else than what was meant",
				Fix: "use a value from 512 to 16777215 (open-iscsi: FirstBurstLength 262144, MaxBurstLength 16776192, MaxRecvDataSegmentLength 262144)"})
		}
	}
	if fb.Int() > mb.Int() && mb.Int() >= minDataSegment {
		add(Finding{Severity: Warn, Check: "iscsi.burst", Where: fb.Where, Found: fmt.Sprintf("%s is larger than %s", fb.found(), mb.found()),
			Why: "RFC 3720 forbids a FirstBurstLength above MaxBurstLength; targets refuse or cut it",
			Fix: "make FirstBurstLength at most MaxBurstLength"})
	}

	hd, dd := get(conf, keyHdrDigest), get(conf, keyDataDigest)
	if digestOff(hd.Value) && digestOff(dd.Value) {
		where := hd.Where
		if !hd.Set {
			where = dd.Where
		}
		add(Finding{Severity: Info, Check: "iscsi.digest", Where: where, Found: fmt.Sprintf("HeaderDigest %s, DataDigest %s", hd.Value, dd.Value),
			Why: "PDUs carry no CRC32C, so corruption that slips past TCP's 16-bit checksum reaches the LUN; digests cost CPU, so this is a choice, not a fault",
			Fix: "for end-to-end integrity set node.conn[0].iscsi.HeaderDigest = CRC32C and DataDigest = CRC32C (the target must accept them)"})
	}

	au := get(conf, keyAuth)
	if strings.EqualFold(au.Value, "CHAP") {
		user, pw := get(conf, keyUser), get(conf, keyPassword)
		if user.Value == "" || pw.Value == "" {
			missing := "node.session.auth.username"
			if user.Value != "" {
				missing = "node.session.auth.password"
			}
			add(Finding{Severity: Warn, Check: "iscsi.auth", Where: au.Where, Found: fmt.Sprintf("%s but %s is empty", au.found(), missing),
				Why: "the login fails authentication, so the path never comes up",
				Fix: "set node.session.auth.username and node.session.auth.password to the target's CHAP account (reference 003)"})
		}
	} else if !c.chapExpected() && (rec != nil || len(c.records) == 0) {
		add(Finding{Severity: Info, Check: "iscsi.auth", Where: au.Where, Found: au.found() + ": logins use no CHAP",
			Why: "any host that presents an allowed initiator name gets the LUN; on a shared LUN that risks its data (reference 003)",
			Fix: "set node.session.auth.authmethod = CHAP with a username and password, and a CHAP secret on the target"})
	}
	return fired
}

func digestOff(v string) bool {
	return v == "" || strings.EqualFold(v, "None") || v == "0"
}

func (c *checker) chapExpected() bool {
	for _, e := range c.exp {
		if e.CHAP != nil {
			return true
		}
	}
	return false
}

// overridden reports whether every live session that used this record
// (every session for iscsid.conf) runs with a recovery_tmo multipath can
// live with, as when multipathd applied fast_io_fail_tmo.
func (c *checker) overridden(rec *NodeRecord) bool {
	var ss []*session
	if rec != nil {
		ss = c.recordSessions(*rec)
	} else {
		for i := range c.sessions {
			ss = append(ss, &c.sessions[i])
		}
	}
	if len(ss) == 0 {
		return false
	}
	for _, s := range ss {
		if s.RecoveryTmo < 0 || s.RecoveryTmo > maxReplacement {
			return false
		}
	}
	return true
}

// drift reports settings whose value in iscsid.conf never reached the node
// records: iscsid.conf is only copied into a record at discovery.
func (c *checker) drift() {
	for _, key := range []string{keyReplacement, keyNoopInt, keyNoopTmo, keyAuth} {
		want := get(*c.iscsid, key)
		for _, rec := range c.records {
			have := get(rec.Conf, key)
			if strings.EqualFold(have.Value, want.Value) {
				continue
			}
			c.add(Finding{Severity: Warn, Check: "iscsi.config-drift", Where: have.Where,
				Found: fmt.Sprintf("%s is %s in the node record but %s in %s", key, have.Value, want.Value, show(pathIscsid)),
				Why:   "logins use the node record; iscsid.conf is only copied into records at discovery, so the edit to iscsid.conf has not taken effect",
				Fix:   fmt.Sprintf("iscsiadm -m node -o update -n %s -v %s (or discover again), then log the sessions out and in", key, want.Value)})
		}
	}
}

// notLoggedIn reports node records that should be logged in but are not.
func (c *checker) notLoggedIn() {
	for _, rec := range c.records {
		st := get(rec.Conf, keyStartup).Value
		if st != "automatic" && st != "onboot" {
			continue
		}
		if len(c.recordSessions(rec)) > 0 {
			continue
		}
		c.add(Finding{Severity: Warn, Check: "iscsi.not-logged-in", Where: rec.Conf.Name,
			Found: fmt.Sprintf("node record with node.startup = %s has no session in %s", st, show(pathSessions)),
			Why:   "a path the configuration promises is missing, so maps run with fewer paths than the drills assume",
			Fix:   "iscsiadm -m node -T <target> -p <portal> -I <iface> --login, and see iscsid's log for why it failed"})
	}
}

// failoverTime reports the worst-case stall a dead path causes, from the
// live sessions when there are any, else from the configuration.
func (c *checker) failoverTime() {
	after := "before the I/O fails back to the application"
	if c.mpInUse {
		after = "before dm-multipath can retry its I/O on another path"
	}
	why := "a drill's max_stall criterion must allow at least this much; a path that dies takes this long " + after
	fix := "shorten it with node.session.timeo.replacement_timeout (or multipathd's fast_io_fail_tmo) and the NOP-Out interval and timeout"
	if len(c.sessions) > 0 {
		var worst *session
		var ws stall
		for i := range c.sessions {
			s := &c.sessions[i]
			// The same live timers a drill's failover budget uses.
			disk := ""
			if len(s.Devices) > 0 {
				disk = s.Devices[0]
			}
			tm := c.timers(s, disk)
			st := stall{interval: int(tm.NoopInterval.Value / time.Second), timeout: int(tm.NoopTimeout.Value / time.Second),
				replacement: int(tm.Recovery.Value / time.Second), noopOff: tm.noopOff()}
			if worst == nil || st.total() > ws.total() {
				worst, ws = s, st
			}
		}
		c.add(Finding{Severity: Info, Check: "iscsi.failover-time", Where: worst.Path,
			Found: fmt.Sprintf("a dead path stalls I/O for up to %s (%s), worst of %s", seconds(ws.total()), ws.explain("recovery_tmo"), plural(len(c.sessions), "session")),
			Why:   why, Fix: fix})
		return
	}
	var conf *Conf
	if len(c.records) > 0 {
		for i := range c.records {
			if conf == nil || confStall(c.records[i].Conf).total() > confStall(*conf).total() {
				conf = &c.records[i].Conf
			}
		}
	} else if c.iscsid != nil {
		conf = c.iscsid
	}
	if conf == nil {
		return
	}
	st := confStall(*conf)
	c.add(Finding{Severity: Info, Check: "iscsi.failover-time", Where: get(*conf, keyReplacement).Where,
		Found: fmt.Sprintf("a dead path will stall I/O for up to %s (%s), from the configuration: no session is logged in", seconds(st.total()), st.explain("replacement_timeout")),
		Why:   why, Fix: fix})
}

// liveSessions applies the rules on sysfs sessions.
func (c *checker) liveSessions() {
	for i := range c.sessions {
		s := &c.sessions[i]
		if s.State != "LOGGED_IN" {
			state := s.State
			if state == "" {
				state = "in an unknown state"
			}
			c.add(Finding{Severity: Error, Check: "iscsi.session-state", Where: s.Path + "/state",
				Found: fmt.Sprintf("session%d to %s at %s via iface %s is %s", s.ID, s.Target, s.Conn.Portal(), s.Iface, state),
				Why:   "its paths carry no I/O: every map it serves runs degraded, and a drill would start already failed over",
				Fix:   "check the portal and the network path; iscsiadm -m session -P 1 shows the state, iscsiadm -m node ... --login restores it"})
		}
		conf, ok := c.sessionConf(s)
		cfg := iscsiValue{Key: keyReplacement, Value: iscsiDefaults[keyReplacement]}
		if ok {
			cfg = get(conf, keyReplacement)
		}
		if s.RecoveryTmo >= 0 && s.RecoveryTmo != cfg.Int() {
			c.add(Finding{Severity: Info, Check: "iscsi.recovery_tmo", Where: s.Path + "/recovery_tmo",
				Found: fmt.Sprintf("recovery_tmo = %d in sysfs, but %s", s.RecoveryTmo, cfg.found()),
				Why:   "multipathd writes its fast_io_fail_tmo into recovery_tmo of the sessions it uses, so the kernel's value, not the file's, sets the failover time",
				Fix:   "nothing to do if this is multipathd's fast_io_fail_tmo; otherwise align the two"})
		}
		if c.mpInUse && s.RecoveryTmo > maxReplacement && s.RecoveryTmo != cfg.Int() {
			c.add(Finding{Severity: Error, Check: "iscsi.replacement_timeout", Where: s.Path + "/recovery_tmo",
				Found: fmt.Sprintf("recovery_tmo = %d on a host with dm-multipath", s.RecoveryTmo),
				Why:   fmt.Sprintf("I/O on a failed path will hang for up to %d s before dm-multipath may retry it on another path", s.RecoveryTmo),
				Fix:   fixReplacement})
		}
		if ok {
			for _, nb := range []struct {
				key  string
				have int
				name string
			}{{keyFirstBurst, s.FirstBurst, "first_burst_len"}, {keyMaxBurst, s.MaxBurst, "max_burst_len"}} {
				want := get(conf, nb.key)
				if nb.have > 0 && want.Int() > 0 && nb.have < want.Int() {
					c.add(Finding{Severity: Info, Check: "iscsi.negotiated", Where: s.Path + "/" + nb.name,
						Found: fmt.Sprintf("%s negotiated down to %d from %s", nb.name, nb.have, want.found()),
						Why:   "the target accepts less; large sequential writes are split into more round trips than the configuration suggests",
						Fix:   "raise the target's limit if throughput matters (COMSTAR: itadm modify-defaults / target properties)"})
				}
			}
		}
	}
	if len(c.sessions) >= 2 && !c.mpInUse {
		c.add(Finding{Severity: Warn, Check: "iscsi.no-multipath", Where: show(pathSessions),
			Found: fmt.Sprintf("%s but no /etc/multipath.conf and no dm-multipath map", plural(len(c.sessions), "session")),
			Why:   "a LUN reached over several sessions shows up as several sd disks; without dm-multipath a path failure is an I/O error, and writing through two of them at once corrupts data",
			Fix:   "install multipath-tools, write /etc/multipath.conf (reference 001, step 11) and start multipathd"})
	}
}

// obsoleteKeywords are multipath.conf keywords that current multipath-tools
// no longer read, with what replaced them.
var obsoleteKeywords = map[string]string{
	"getuid_callout":               "replaced by uid_attribute in multipath-tools 0.5.0 and no longer read",
	"udev_dir":                     "removed in multipath-tools 0.5.0",
	"selector":                     "an old name of path_selector; current multipath-tools reject it",
	"checker_timer":                "not a multipath.conf keyword: the setting is checker_timeout",
	"rr_min_io":                    "ignored by request-based dm-multipath (kernel 2.6.31 and later), which uses rr_min_io_rq",
	"prio_callout":                 "replaced by prio and prio_args in multipath-tools 0.4.9",
	"default_selector":             "the pre-0.4.9 spelling of path_selector",
	"default_path_grouping_policy": "the pre-0.4.9 spelling of path_grouping_policy",
	"default_getuid_callout":       "the pre-0.4.9 spelling of getuid_callout, itself replaced by uid_attribute",
	"default_prio_callout":         "the pre-0.4.9 spelling of prio_callout, replaced by prio",
	"default_features":             "the pre-0.4.9 spelling of features",
	"default_path_checker":         "the pre-0.4.9 spelling of path_checker",
}

// profiles are the LUNs the multipath settings are resolved for: the live
// maps, or when there are none, each configuration section.
func (c *checker) profiles() []mpPath {
	var out []mpPath
	if len(c.maps) > 0 {
		for _, m := range c.maps {
			p := mpPath{WWID: m.WWID}
			for _, pa := range m.Paths {
				if pa.Vendor != "" {
					p.Vendor, p.Product = pa.Vendor, pa.Model
					break
				}
			}
			out = append(out, p)
		}
		return out
	}
	out = append(out, mpPath{})
	for _, mc := range c.mpconfs {
		for _, ds := range mc.Top("devices") {
			for _, d := range ds.Sub("device") {
				out = append(out, mpPath{Vendor: d.attr("vendor"), Product: d.attr("product")})
			}
		}
		for _, ms := range mc.Top("multipaths") {
			for _, m := range ms.Sub("multipath") {
				out = append(out, mpPath{WWID: m.attr("wwid")})
			}
		}
	}
	return out
}

func (s *MPSection) attr(key string) string {
	a, _ := s.Get(key)
	return a.Value
}

// mpWhere is where to point at for an effective setting: its line, or the
// main configuration file for built-ins.
func (c *checker) mpWhere(s mpSetting) string {
	if s.File != "" {
		return s.where()
	}
	if len(c.mpconfs) > 0 {
		return c.mpconfs[0].Name
	}
	return show(pathMPConf)
}

func (s mpSetting) found(key string) string {
	return fmt.Sprintf("%s %s (%s)", key, s.Value, s.Level)
}

// multipathConfig applies the multipath.conf rules.
func (c *checker) multipathConfig() {
	for _, mc := range c.mpconfs {
		for _, p := range mc.Problems {
			c.add(Finding{Severity: p.Severity, Check: "mp.syntax", Where: fmt.Sprintf("%s:%d", mc.Name, p.Line), Found: p.Msg,
				Why: "multipathd reads the file differently from what it says: sections after an unclosed one are ignored as invalid keywords (blacklist, devices and aliases included)",
				Fix: "close every section with '}' on its own line and check with `multipath -t`"})
		}
		walk(mc.Sections, func(s *MPSection) {
			for _, a := range s.Attrs {
				if why, ok := obsoleteKeywords[a.Key]; ok {
					c.add(Finding{Severity: Info, Check: "mp.obsolete", Where: fmt.Sprintf("%s:%d", mc.Name, a.Line),
						Found: a.Key, Why: why,
						Fix: "remove it or use the current keyword; `multipathd show config` prints what is in effect"})
				}
			}
		})
	}
	if len(c.mpconfs) == 0 {
		if len(c.maps) > 0 {
			c.add(Finding{Severity: Info, Check: "mp.no-conf", Where: show(pathMPConf),
				Found: fmt.Sprintf("no multipath.conf, yet %s", plural(len(c.maps), "dm-multipath map")),
				Why:   "multipathd runs on built-in defaults and its hwtable, so queueing and failback are whatever that version ships",
				Fix:   "write /etc/multipath.conf so that no_path_retry and failback are chosen deliberately (reference 001, step 11)"})
		}
		return
	}
	if len(c.maps) == 0 && len(c.sessions) > 0 {
		c.add(Finding{Severity: Warn, Check: "mp.no-maps", Where: "/sys/block",
			Found: fmt.Sprintf("%s exists and %s are logged in, but there is no dm-multipath map", c.mpconfs[0].Name, plural(len(c.sessions), "session")),
			Why:   "multipathd is not running, or the LUNs are blacklisted: I/O goes to single sd paths that fail with the path",
			Fix:   "systemctl enable --now multipathd; multipath -v2; multipath -ll"})
	}

	for _, p := range c.profiles() {
		npr := effective(c.mpconfs, "no_path_retry", p)
		feat := effective(c.mpconfs, "features", p)
		poll := effective(c.mpconfs, "polling_interval", p)
		queueFeat := strings.Contains(feat.Value, "queue_if_no_path")
		switch {
		case npr.Value == "queue", npr.Level == levelBuiltin && queueFeat:
			src, what := npr, npr.found("no_path_retry")
			if npr.Value != "queue" {
				src, what = feat, fmt.Sprintf("features \"%s\" (%s) and no no_path_retry", feat.Value, feat.Level)
			}
			c.add(Finding{Severity: Warn, Check: "mp.queueing", Where: c.mpWhere(src), Found: what + ": I/O queues without limit when every path is down",
				Why: "when all paths die (a target failover that takes too long, a switch reboot) applications hang forever instead of getting an error, and a drill never ends",
				Fix: "bound it: no_path_retry 12 with polling_interval 5 queues for 60 s then fails (reference 001 uses no_path_retry 12)"})
		case atoi(npr.Value) > 0:
			n, pi := atoi(npr.Value), max(atoi(poll.Value), 1)
			src := string(npr.Level)
			if npr.Level == levelHwtable {
				src = fmt.Sprintf("built-in hwtable for %s %s", p.Vendor, p.Product)
				if d := effective(c.mpconfs, "no_path_retry", mpPath{}); d.Level == levelDefaults && d.Value != npr.Value {
					src += fmt.Sprintf(", which beats no_path_retry %s in defaults at %s: put it in overrides to apply it", d.Value, d.where())
				}
			}
			found := fmt.Sprintf("no_path_retry %d (%s) x polling_interval %d s: with every path down I/O queues for %s, then fails", n, src, pi, seconds(n*pi))
			if queueFeat {
				found += fmt.Sprintf("; no_path_retry overrides features \"%s\" (%s)", feat.Value, c.mpWhere(feat))
			}
			c.add(Finding{Severity: Info, Check: "mp.queueing", Where: c.mpWhere(npr), Found: found,
				Why: "this is how long a total outage may last before applications get errors; a drill that takes every path down must finish inside it",
				Fix: "adjust no_path_retry to the longest target failover you want to ride through"})
		default:
			// A warning, not a note: surviving failover is what the drills
			// are for, and with fail the application sees I/O errors the
			// moment the last path goes.
			c.add(Finding{Severity: Warn, Check: "mp.queueing", Where: c.mpWhere(npr), Found: npr.found("no_path_retry") + ": with every path down I/O fails at once",
				Why: "I/O errors reach the application as soon as the last path goes: a target failover or VIP move that briefly takes every path down fails writes instead of pausing them",
				Fix: "set no_path_retry to a bound, e.g. 12, to ride through short outages"})
		}
		if pi := atoi(poll.Value); pi > maxPolling {
			c.add(Finding{Severity: Warn, Check: "mp.checker", Where: c.mpWhere(poll), Found: poll.found("polling_interval"),
				Why: fmt.Sprintf("multipathd checks paths every %d s (up to 4 times that while they are healthy), so a path without I/O is found dead, and a repaired one reinstated, that much later", pi),
				Fix: "polling_interval 5 (the default) or 10 at most"})
		}
		if chk := effective(c.mpconfs, "path_checker", p); chk.Value == "readsector0" {
			c.add(Finding{Severity: Info, Check: "mp.checker", Where: c.mpWhere(chk), Found: chk.found("path_checker"),
				Why: "readsector0 is deprecated and slow; it reads sector 0 through the page cache",
				Fix: "path_checker tur (or directio)"})
		}
		if ct := effective(c.mpconfs, "checker_timeout", p); atoi(ct.Value) > maxReplacement {
			c.add(Finding{Severity: Warn, Check: "mp.checker", Where: c.mpWhere(ct), Found: ct.found("checker_timeout"),
				Why: "a path checker that hangs on a dead path waits this long before calling it failed",
				Fix: "leave checker_timeout unset (it follows the SCSI command timeout, 30 s)"})
		}
		pgp := effective(c.mpconfs, "path_grouping_policy", p)
		if pgp.Value == "failover" {
			c.add(Finding{Severity: Info, Check: "mp.pgpolicy", Where: c.mpWhere(pgp), Found: pgp.found("path_grouping_policy"),
				Why: "each path is its own group and only one carries I/O: a benchmark measures one path's bandwidth",
				Fix: "multibus (or group_by_prio with ALUA) to use all paths at once"})
		}
		if fb := effective(c.mpconfs, "failback", p); (fb.Value == "manual" || fb.Value == "") && pgp.Value != "multibus" {
			c.add(Finding{Severity: Info, Check: "mp.failback", Where: c.mpWhere(fb), Found: fb.found("failback"),
				Why: "after a failed path group comes back, I/O stays on the other group until someone runs multipath; a drill's throughput_after sees the degraded layout",
				Fix: "failback immediate (reference 001) or a delay in seconds"})
		}
	}

	if qwd := effective(c.mpconfs, "queue_without_daemon", mpPath{}); qwd.Value == "yes" {
		c.add(Finding{Severity: Warn, Check: "mp.queue_without_daemon", Where: c.mpWhere(qwd), Found: qwd.found("queue_without_daemon"),
			Why: "when multipathd stops (shutdown, package upgrade) while paths are down, queued I/O can never be released and the host hangs",
			Fix: "queue_without_daemon no (the default)"})
	}

	blOK := false
	for _, mc := range c.mpconfs {
		for _, b := range mc.Top("blacklist") {
			if len(b.Attrs) > 0 || len(b.Sections) > 0 {
				blOK = true
			}
		}
	}
	fm := effective(c.mpconfs, "find_multipaths", mpPath{})
	switch fm.Value {
	case "yes", "on", "strict", "smart":
		blOK = true
	}
	if !blOK {
		c.add(Finding{Severity: Info, Check: "mp.blacklist", Where: c.mpconfs[0].Name,
			Found: "no blacklist entries and find_multipaths is not set",
			Why:   "multipathd may build maps on local disks too (the boot disk among them), which hides them behind dm devices",
			Fix:   "blacklist local disks (devnode \"^sda\" or their wwid, reference 001) or set find_multipaths yes"})
	}
}

// netOf is the network interface a session is bound to, or its iface name.
func (c *checker) netOf(s *session) string {
	for _, i := range c.ifaces {
		if i.Name == s.Iface && i.NetIface != "" {
			return i.NetIface
		}
	}
	return s.Iface
}

func running(p collect.Path, s *session) bool {
	return p.State == "running" && (s == nil || s.State == "LOGGED_IN")
}

// liveMaps applies the rules on dm-multipath maps.
func (c *checker) liveMaps() {
	most := 0
	for _, m := range c.maps {
		most = max(most, len(m.Paths))
	}
	for _, m := range c.maps {
		// Findings about a map carry the scenario's name for it, so that
		// Report.ForTarget finds them.
		tgt := m.Name
		if k, ok := c.expFor(m); ok {
			tgt = k
		}
		if len(m.Paths) == 0 {
			c.add(Finding{Severity: Error, Check: "mp.paths", Target: tgt, Where: "/sys/block/" + m.Device + "/slaves",
				Found: fmt.Sprintf("map %s (%s) has no path", m.Name, m.Device),
				Why:   "every I/O to it queues or fails",
				Fix:   "log the sessions in again and run multipath -v2"})
			continue
		}
		for _, p := range m.Paths {
			s := c.sessByDev[p.Device]
			if p.State != "running" {
				via := ""
				if s != nil {
					via = fmt.Sprintf(", session%d to %s via iface %s", s.ID, s.Conn.Portal(), s.Iface)
				}
				st := p.State
				if st == "" {
					st = "in an unknown state"
				}
				c.add(Finding{Severity: Error, Check: "mp.path-state", Target: tgt, Where: "/sys/block/" + p.Device + "/device/state",
					Found: fmt.Sprintf("%s (path of %s%s) is %s, not running", p.Device, m.Name, via, st),
					Why:   "the map is degraded before the run starts, so throughput is lower and a drill that fails one more path may leave none",
					Fix:   "bring the path back (echo running > /sys/block/" + p.Device + "/device/state after the cause is fixed, or log the session out and in) and check multipath -ll"})
			}
		}
		if _, ok := c.expFor(m); !ok && len(m.Paths) < most {
			c.add(Finding{Severity: Warn, Check: "mp.paths", Target: tgt, Where: "/sys/block/" + m.Device + "/slaves",
				Found: fmt.Sprintf("map %s has %s where other maps have %d", m.Name, plural(len(m.Paths), "path"), most),
				Why:   "a LUN with fewer paths is less redundant and slower; its missing paths were never logged in or were removed",
				Fix:   "check iscsiadm -m session -P 3 and multipath -ll for the missing paths"})
		}
		nets, portals := map[string]bool{}, map[string]bool{}
		withSess := 0
		for _, p := range m.Paths {
			if s := c.sessByDev[p.Device]; s != nil {
				withSess++
				nets[c.netOf(s)] = true
				portals[s.Conn.Portal()] = true
			}
		}
		if withSess >= 2 {
			if len(nets) == 1 {
				n := sortedKeys(nets)[0]
				if n == "default" {
					c.add(Finding{Severity: Info, Check: "mp.spread", Target: tgt, Where: "/sys/block/" + m.Device + "/slaves",
						Found: fmt.Sprintf("the %d paths of %s are not bound to network interfaces (iface default)", withSess, m.Name),
						Why:   "the routing table picks the NIC, so several paths may share one NIC and fail together",
						Fix:   "create one iSCSI iface per NIC (iscsiadm -m iface -o new, iface.net_ifacename) and log in through each (reference 001, step 4)"})
				} else {
					c.add(Finding{Severity: Warn, Check: "mp.spread", Target: tgt, Where: "/sys/block/" + m.Device + "/slaves",
						Found: fmt.Sprintf("all %d paths of %s go through %s", withSess, m.Name, n),
						Why:   "one NIC, cable or switch port takes every path down at once",
						Fix:   "bind a second iSCSI iface to another NIC on its own subnet and log in through it (reference 001, step 4)"})
				}
			}
			if len(portals) == 1 {
				c.add(Finding{Severity: Warn, Check: "mp.spread", Target: tgt, Where: "/sys/block/" + m.Device + "/slaves",
					Found: fmt.Sprintf("all %d paths of %s go to portal %s", withSess, m.Name, sortedKeys(portals)[0]),
					Why:   "losing that portal (its NIC, its IP, its target port group) loses every path",
					Fix:   "give the target a second portal on another subnet, each in its own target portal group (reference 001), and log in to both"})
			}
		}
	}
}

// network checks rp_filter on the interfaces iSCSI ifaces are bound to.
func (c *checker) network() {
	used := map[string]bool{}
	for _, r := range c.records {
		used[r.Iface] = true
	}
	for _, s := range c.sessions {
		used[s.Iface] = true
	}
	var bound []IfaceRecord
	for _, i := range c.ifaces {
		if i.NetIface != "" && (used[i.Name] || len(used) == 0) {
			bound = append(bound, i)
		}
	}
	sort.Slice(bound, func(a, b int) bool { return bound[a].NetIface < bound[b].NetIface })
	c.rpFilterSource(bound)

	devs := map[string][]string{}
	for _, b := range bound {
		devs[b.NetIface] = append(devs[b.NetIface], b.Name)
	}
	multi := len(devs) >= 2
	all := c.rpFilter("all")
	for _, dev := range sortedKeys(devs) {
		file := path.Join(pathSysctlConf, dev, "rp_filter")
		v := c.rpFilter(dev)
		if v < 0 {
			c.add(Finding{Severity: Warn, Check: "net.iface-missing", Where: show(path.Join(pathSysctlConf, dev)),
				Found: fmt.Sprintf("iSCSI iface %s is bound to %s, which does not exist here", strings.Join(devs[dev], ", "), dev),
				Why:   "sessions through that iface cannot log in, so its paths are missing",
				Fix:   "set iface.net_ifacename to an existing interface (ip link) and log in again"})
			continue
		}
		eff, where, name := v, show(file), "net.ipv4.conf."+dev+".rp_filter"
		if all > v {
			eff, where, name = all, show(path.Join(pathSysctlConf, "all", "rp_filter")), "net.ipv4.conf.all.rp_filter"
		}
		if multi && eff == 1 {
			c.add(Finding{Severity: Error, Check: "net.rp_filter", Where: where,
				Found: fmt.Sprintf("%s = 1 (strict) applies to %s, bound to iSCSI iface %s on a host with iSCSI on %d interfaces",
					name, dev, strings.Join(devs[dev], ", "), len(devs)),
				Why: "strict reverse-path filtering drops packets that arrive on a NIC other than the one the route back uses; " +
					"with one iSCSI NIC per subnet logging in to every portal, those sessions fail to log in or flap (reference 001, step 5)",
				Fix: fmt.Sprintf("sysctl -w net.ipv4.conf.%s.rp_filter=2 (loose; reference 001 uses 0) and net.ipv4.conf.all.rp_filter no higher, "+
					"and persist both in /etc/sysctl.d/ (the kernel uses the larger of all and the interface)", dev)})
		}
	}
}

// rpFilter reads net.ipv4.conf.<dev>.rp_filter, -1 when it does not exist.
func (c *checker) rpFilter(dev string) int {
	b, err := fs.ReadFile(c.h.FS, path.Join(pathSysctlConf, dev, "rp_filter"))
	if err != nil {
		return -1
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return v
}

func (c *checker) rpFilterSource(bound []IfaceRecord) {
	all := c.rpFilter("all")
	if all < 0 {
		c.checked("rp_filter", show(pathSysctlConf), false, "not readable")
		return
	}
	note := fmt.Sprintf("all=%d", all)
	seen := map[string]bool{}
	var parts []string
	for _, b := range bound {
		if seen[b.NetIface] {
			continue
		}
		seen[b.NetIface] = true
		v := c.rpFilter(b.NetIface)
		if v < 0 {
			parts = append(parts, b.NetIface+"=missing")
		} else {
			parts = append(parts, fmt.Sprintf("%s=%d", b.NetIface, v))
		}
	}
	if len(parts) > 0 {
		note += "; " + strings.Join(parts, ", ")
	} else {
		note += "; no interface is bound in an iSCSI iface"
	}
	c.checked("rp_filter", show(pathSysctlConf), true, note)
}

// expFor returns the expectation that names map m.
func (c *checker) expFor(m collect.Map) (string, bool) {
	for _, k := range sortedKeys(c.exp) {
		if matchMap(k, m) {
			return k, true
		}
	}
	return "", false
}

// matchMap reports whether an expectation key names m: by dm name, dm-N,
// wwid or uuid, with or without /dev/mapper/, /dev/ or a by-id prefix.
func matchMap(key string, m collect.Map) bool {
	k := key
	for _, p := range []string{"/dev/disk/by-id/dm-name-", "/dev/disk/by-id/dm-uuid-mpath-", "/dev/disk/by-id/dm-uuid-", "/dev/mapper/", "/dev/"} {
		if s, ok := strings.CutPrefix(k, p); ok {
			k = s
			break
		}
	}
	return k != "" && (k == m.Name || k == m.Device || k == m.WWID || k == m.UUID)
}

// expectations verifies the scenario's expect blocks.
func (c *checker) expectations() {
	for _, key := range sortedKeys(c.exp) {
		e := c.exp[key]
		var m *collect.Map
		for i := range c.maps {
			if matchMap(key, c.maps[i]) {
				m = &c.maps[i]
				break
			}
		}
		if m == nil {
			var names []string
			for _, mm := range c.maps {
				names = append(names, mm.Name)
			}
			have := "there is no dm-multipath map on this host"
			if len(names) > 0 {
				have = "maps here: " + strings.Join(names, ", ")
			}
			c.add(Finding{Severity: Error, Check: "expect.target", Target: key, Where: "/sys/block/dm-*",
				Found: fmt.Sprintf("no dm-multipath map matches %q (%s)", key, have),
				Why:   "the scenario expects this target to be a multipath LUN, so none of its path expectations can hold",
				Fix:   "name the map (alias, /dev/mapper/NAME, dm-N or wwid) as multipath -ll shows it, or log in and run multipath -v2"})
			continue
		}
		var sess []*session
		seen := map[int]bool{}
		up := 0
		portals := map[string]bool{}
		for _, p := range m.Paths {
			s := c.sessByDev[p.Device]
			if running(p, s) {
				up++
			}
			if s != nil {
				portals[s.Conn.Portal()] = true
				if !seen[s.ID] {
					seen[s.ID] = true
					sess = append(sess, s)
				}
			}
		}
		where := "/sys/block/" + m.Device + "/slaves"
		if e.Paths > 0 && up < e.Paths {
			c.add(Finding{Severity: Error, Check: "expect.paths", Target: key, Where: where,
				Found: fmt.Sprintf("%s has %d running of %s; the scenario expects %d", m.Name, up, plural(len(m.Paths), "path"), e.Paths),
				Why:   "a drill that fails one path assumes the others carry the I/O; with fewer, it measures a different failure than planned",
				Fix:   "restore the missing paths (see the mp.path-state and iscsi findings) or lower expect.paths"})
		}
		if e.Portals > 0 && len(portals) < e.Portals {
			c.add(Finding{Severity: Error, Check: "expect.portals", Target: key, Where: where,
				Found: fmt.Sprintf("%s reaches %s (%s); the scenario expects %d", m.Name, plural(len(portals), "portal"), strings.Join(sortedKeys(portals), ", "), e.Portals),
				Why:   "portal drills (taking one portal down) need paths through each portal",
				Fix:   "log in through every portal the target offers (iscsiadm -m discovery, then --login per portal)"})
		}
		if (e.CHAP != nil || e.RecoveryTmoMax > 0 || e.Portals > 0) && len(sess) == 0 {
			c.add(Finding{Severity: Warn, Check: "expect.target", Target: key, Where: where,
				Found: fmt.Sprintf("%s has no path through an iSCSI session", m.Name),
				Why:   "the chap, portals and recovery_tmo expectations cannot be verified",
				Fix:   "check that the LUN is an iSCSI LUN of this host"})
		}
		if e.CHAP != nil {
			c.expectCHAP(key, *e.CHAP, sess)
		}
		if e.RecoveryTmoMax > 0 {
			lim := int(e.RecoveryTmoMax / time.Second)
			for _, s := range sess {
				if s.RecoveryTmo > lim || s.RecoveryTmo < 0 {
					c.add(Finding{Severity: Error, Check: "expect.recovery_tmo", Target: key, Where: s.Path + "/recovery_tmo",
						Found: fmt.Sprintf("recovery_tmo = %d s; the scenario allows at most %s", s.RecoveryTmo, e.RecoveryTmoMax),
						Why:   "I/O on a failed path waits this long before dm-multipath can move it, so stall criteria will fail",
						Fix:   fixReplacement})
				}
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
