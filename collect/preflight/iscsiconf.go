package preflight

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Redacted replaces the value of every password key when open-iscsi files
// are parsed, so that no secret can reach a finding, a report or run.json.
const Redacted = "********"

// Setting is one "key = value" line of an open-iscsi file.
type Setting struct {
	Key string `json:"key"`
	// Value is the value as lunbench reads it: surrounding double quotes
	// removed, "<empty>" read as "", passwords replaced by Redacted.
	Value string `json:"value"`
	// Quoted reports that the value was written in double quotes. iscsid
	// does not strip them: it uses the quotes as part of the value.
	Quoted bool `json:"quoted,omitempty"`
	Line   int  `json:"line"`
}

// Problem is a line a parser could not use, or a structural fault.
type Problem struct {
	Line int    `json:"line"`
	Msg  string `json:"msg"`
	// Severity is how much the problem matters to the daemon that reads
	// the file (an unclosed multipath.conf section is an error: multipathd
	// reads what follows as part of it).
	Severity Severity `json:"severity"`
}

// Conf is a parsed iscsid.conf, node record or iface record.
type Conf struct {
	// Name is the file the settings came from, as findings show it.
	Name string `json:"name"`
	// Version is the open-iscsi version from a "# BEGIN RECORD 2.0-872"
	// line; "" for iscsid.conf.
	Version  string    `json:"version,omitempty"`
	Settings []Setting `json:"settings"`
	Problems []Problem `json:"problems,omitempty"`
}

// Get returns the setting for key (compared without regard to case). When a
// key repeats, the last one wins, as it does in iscsid.
func (c Conf) Get(key string) (Setting, bool) {
	for i := len(c.Settings) - 1; i >= 0; i-- {
		if strings.EqualFold(c.Settings[i].Key, key) {
			return c.Settings[i], true
		}
	}
	return Setting{}, false
}

// Value returns the value of key, or "" when it is not set.
func (c Conf) Value(key string) string {
	s, _ := c.Get(key)
	return s.Value
}

// Where returns "name:line" for a setting of this file.
func (c Conf) Where(s Setting) string { return fmt.Sprintf("%s:%d", c.Name, s.Line) }

// ParseIscsidConf reads an open-iscsi file in iscsid's own format: one
// "key = value" per line, '#' comments, leading and trailing blanks ignored.
// The same format is used by /etc/iscsi/iscsid.conf, node records (between
// "# BEGIN RECORD" and "# END RECORD") and iface records. Lines iscsid would
// ignore are kept as Problems. It fails only when r does.
//
// The rules follow open-iscsi's idbm_recinfo_config: the key ends at the
// first blank or '='; an '=' must follow; the value is the rest of the line.
func ParseIscsidConf(name string, r io.Reader) (Conf, error) {
	c := Conf{Name: name}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line != "" {
			if n == 1 {
				line = strings.TrimPrefix(line, "\ufeff")
			}
			c.parseLine(n, line)
		}
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// cSpace is C's isspace, which is what iscsid splits on.
func cSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func (c *Conf) parseLine(n int, line string) {
	s := strings.TrimFunc(line, cSpace)
	if s == "" {
		return
	}
	if s[0] == '#' {
		if v, ok := strings.CutPrefix(strings.TrimLeft(s[1:], " \t"), "BEGIN RECORD"); ok {
			c.Version = strings.TrimFunc(v, cSpace)
		}
		return
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r == '=' || cSpace(r) })
	if i < 0 {
		c.problem(n, Info, "%q has no value; iscsid ignores the line", clip(s))
		return
	}
	key := s[:i]
	rest := strings.TrimLeftFunc(s[i:], cSpace)
	if rest == "" || rest[0] != '=' {
		c.problem(n, Warn, "no '=' after %q; iscsid ignores the line", clip(key))
		return
	}
	if key == "" {
		c.problem(n, Info, "a value without a key; iscsid ignores the line")
		return
	}
	raw := strings.TrimLeftFunc(rest[1:], cSpace)
	if raw == "" {
		// iscsid skips "key =" lines, so the key keeps its default.
		c.problem(n, Info, "%s has an empty value; iscsid keeps the default", clip(key))
		return
	}
	st := Setting{Key: key, Value: raw, Line: n}
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		st.Value, st.Quoted = raw[1:len(raw)-1], true
	}
	if st.Value == "<empty>" {
		st.Value = ""
	}
	if secretKey(key) && st.Value != "" {
		st.Value = Redacted
	}
	c.Settings = append(c.Settings, st)
}

func (c *Conf) problem(n int, sev Severity, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Line: n, Msg: fmt.Sprintf(format, args...), Severity: sev})
}

// secretKey reports whether a key holds a password (node.session.auth.password,
// password_in, discovery.sendtargets.auth.password, ...). The *_length keys
// iscsiadm writes beside them are not secret.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") && !strings.HasSuffix(k, "_length")
}

// clip shortens text quoted from garbage lines.
func clip(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// NodeRecord is one open-iscsi node record: the settings a login to one
// target portal through one iface uses. They are copied from iscsid.conf at
// discovery time and later edits of iscsid.conf do not reach them.
type NodeRecord struct {
	Target  string `json:"target"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	// TPGT is the portal group tag; -1 in the old flat layout.
	TPGT  int    `json:"tpgt"`
	Iface string `json:"iface"`
	// Layout is "tree" for <iqn>/<addr>,<port>,<tpgt>/<iface> and "flat"
	// for the pre-2.0-870 <iqn>/<addr>,<port> file.
	Layout string `json:"layout"`
	Conf   Conf   `json:"conf"`
}

// Portal returns "address:port" ("[v6]:port" for IPv6).
func (n NodeRecord) Portal() string { return portalString(n.Address, n.Port) }

func portalString(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// LoadNodeRecords reads the node records under dir (a path inside fsys such
// as "var/lib/iscsi/nodes" or "etc/iscsi/nodes"), in both layouts open-iscsi
// has used:
//
//	<iqn>/<address>,<port>,<tpgt>/<iface>   (2.0-870 and later)
//	<iqn>/<address>,<port>                  (older: one file, default iface)
//
// A missing dir gives no records and no error. Unreadable entries are
// skipped and reported in the error, which joins them.
func LoadNodeRecords(fsys fs.FS, dir string) ([]NodeRecord, error) {
	targets, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", show(dir), err)
	}
	var recs []NodeRecord
	var errs []error
	for _, t := range targets {
		tdir := path.Join(dir, t.Name())
		portals, err := fs.ReadDir(fsys, tdir)
		if err != nil {
			// A stray file directly under nodes/ is not a record.
			if !t.IsDir() {
				continue
			}
			errs = append(errs, fmt.Errorf("read %s: %w", show(tdir), err))
			continue
		}
		for _, p := range portals {
			addr, port, tpgt, ok := parsePortalName(p.Name())
			if !ok {
				continue
			}
			pdir := path.Join(tdir, p.Name())
			base := NodeRecord{Target: t.Name(), Address: addr, Port: port, TPGT: tpgt}
			ifaces, err := fs.ReadDir(fsys, pdir)
			if err != nil {
				// Not a directory: the flat layout, where the
				// portal entry is the record itself.
				rec, err := readRecord(fsys, pdir, base, "flat", "default")
				if err != nil {
					errs = append(errs, err)
					continue
				}
				recs = append(recs, rec)
				continue
			}
			for _, f := range ifaces {
				if f.IsDir() {
					continue
				}
				rec, err := readRecord(fsys, path.Join(pdir, f.Name()), base, "tree", f.Name())
				if err != nil {
					errs = append(errs, err)
					continue
				}
				recs = append(recs, rec)
			}
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Conf.Name < recs[j].Conf.Name })
	return recs, errors.Join(errs...)
}

func readRecord(fsys fs.FS, name string, base NodeRecord, layout, iface string) (NodeRecord, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return NodeRecord{}, fmt.Errorf("open %s: %w", show(name), err)
	}
	defer f.Close()
	c, err := ParseIscsidConf(show(name), f)
	if err != nil {
		return NodeRecord{}, err
	}
	rec := base
	rec.Layout, rec.Iface, rec.Conf = layout, iface, c
	// The record's own fields are authoritative; the path only names it.
	if v := c.Value("node.name"); v != "" {
		rec.Target = v
	}
	if v := c.Value("node.conn[0].address"); v != "" {
		rec.Address = v
	}
	if v, err := strconv.Atoi(c.Value("node.conn[0].port")); err == nil {
		rec.Port = v
	}
	if v, err := strconv.Atoi(c.Value("node.tpgt")); err == nil {
		rec.TPGT = v
	}
	if v := c.Value("iface.iscsi_ifacename"); v != "" {
		rec.Iface = v
	}
	return rec, nil
}

// parsePortalName splits "10.0.0.1,3260,1", "10.0.0.1,3260" or an IPv6
// "fe80::1,3260,1" the way open-iscsi does: at the first comma.
func parsePortalName(name string) (addr string, port, tpgt int, ok bool) {
	addr, rest, found := strings.Cut(name, ",")
	if !found || addr == "" {
		return "", 0, 0, false
	}
	ps, ts, hasTPGT := strings.Cut(rest, ",")
	port, err := strconv.Atoi(ps)
	if err != nil {
		return "", 0, 0, false
	}
	tpgt = -1
	if hasTPGT {
		if tpgt, err = strconv.Atoi(ts); err != nil {
			return "", 0, 0, false
		}
	}
	return strings.Trim(addr, "[]"), port, tpgt, true
}

// IfaceRecord is an open-iscsi iface: a named binding of iSCSI sessions to a
// network interface (iface.net_ifacename) or a hardware address.
type IfaceRecord struct {
	Name      string `json:"name"`
	NetIface  string `json:"net_iface,omitempty"`
	Transport string `json:"transport,omitempty"`
	HWAddress string `json:"hwaddress,omitempty"`
	IPAddress string `json:"ipaddress,omitempty"`
	Conf      Conf   `json:"conf"`
}

// LoadIfaceRecords reads the iface records in dir ("var/lib/iscsi/ifaces" or
// "etc/iscsi/ifaces"). A missing dir gives none and no error.
func LoadIfaceRecords(fsys fs.FS, dir string) ([]IfaceRecord, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", show(dir), err)
	}
	var out []IfaceRecord
	var errs []error
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := path.Join(dir, e.Name())
		f, err := fsys.Open(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s: %w", show(name), err))
			continue
		}
		c, err := ParseIscsidConf(show(name), f)
		f.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := IfaceRecord{
			Name:      e.Name(),
			NetIface:  c.Value("iface.net_ifacename"),
			Transport: c.Value("iface.transport_name"),
			HWAddress: c.Value("iface.hwaddress"),
			IPAddress: c.Value("iface.ipaddress"),
			Conf:      c,
		}
		if v := c.Value("iface.iscsi_ifacename"); v != "" {
			r.Name = v
		}
		if r.NetIface == "default" {
			r.NetIface = ""
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// show turns a path inside the checked root into the absolute path a user
// recognises ("etc/iscsi/iscsid.conf" -> "/etc/iscsi/iscsid.conf").
func show(name string) string { return "/" + strings.TrimPrefix(name, "/") }
