package scenarios

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// sshUser and sshHost are what an ssh destination's parts may hold: no
// leading dash (ssh would read an option), no spaces or shell characters.
var (
	sshUser = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$`)
	sshHost = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$`)
)

// hosts decodes the hosts: list: unique names, none called "local", and
// ssh destinations ssh can take.
func (d *decoder) hosts(f *field) []Host {
	d.hostLines = map[string]int{}
	if f == nil || !f.ok {
		return nil
	}
	var out []Host
	for i, el := range f.val.Content {
		el = d.deref(el)
		ctx := d.label(el, "host", i)
		fs := d.object(el, objHost, ctx)
		if fs == nil {
			continue
		}
		h := Host{Pos: d.pos(el)}
		if nf, ok := fs.okf("name"); ok {
			h.Name = nf.s
			switch line, dup := d.hostLines[h.Name]; {
			case h.Name == LocalHost:
				d.errf(nf.val, "host name %q is reserved for this machine (targets without host: run here); name the host otherwise", LocalHost)
			case dup:
				d.errf(nf.val, "duplicate host name %q (first at line %d)", h.Name, line)
			default:
				d.hostLines[h.Name] = nf.val.Line
			}
		}
		if sf, ok := fs.okf("ssh"); ok {
			if err := CheckSSHDestination(sf.s); err != nil {
				d.errf(sf.val, "ssh in %s: %v", ctx, err)
			}
			h.SSH = sf.s
		}
		out = append(out, h)
	}
	return out
}

// CheckSSHDestination checks an ssh destination written [user@]host[:port]
// (an IPv6 address in brackets: user@[2001:db8::1]:22).
func CheckSSHDestination(dest string) error {
	const want = "want user@host or user@host:port"
	user, hostPort, hasUser := strings.Cut(dest, "@")
	if !hasUser {
		user, hostPort = "", dest
	}
	if hasUser && !sshUser.MatchString(user) {
		return fmt.Errorf("%q: user %q is not a login name (%s)", dest, user, want)
	}
	host, port := hostPort, ""
	if strings.HasPrefix(hostPort, "[") {
		end := strings.Index(hostPort, "]")
		if end < 0 {
			return fmt.Errorf("%q: IPv6 address without its closing ] (%s)", dest, want)
		}
		host, port = hostPort[1:end], strings.TrimPrefix(hostPort[end+1:], ":")
		if !strings.Contains(host, ":") || net.ParseIP(host) == nil {
			return fmt.Errorf("%q: %q in brackets is not an IPv6 address (%s)", dest, host, want)
		}
		if rest := hostPort[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("%q: %q after the address (%s)", dest, rest, want)
		}
	} else if strings.Count(hostPort, ":") > 1 {
		// A bare IPv6 address, as ssh reads it: all host, no port.
		host = hostPort
		if net.ParseIP(host) == nil {
			return fmt.Errorf("%q: %q is not an IPv6 address (%s)", dest, host, want)
		}
	} else {
		host, port, _ = strings.Cut(hostPort, ":")
		if !sshHost.MatchString(host) {
			return fmt.Errorf("%q: %q is not a host name or address (%s)", dest, host, want)
		}
	}
	if strings.Count(hostPort, ":") == 1 && !strings.HasPrefix(hostPort, "[") || port != "" {
		n, err := strconv.Atoi(port)
		// Digits only, no leading zero: "+22" and "022" read as other ports elsewhere.
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return fmt.Errorf("%q: port %q is not a number from 1 to 65535 (%s)", dest, port, want)
		}
	}
	return nil
}

// hostRef checks that f names a host of hosts: (or "local").
func (d *decoder) hostRef(f *field, ctx string) {
	if f.s == LocalHost {
		return
	}
	if _, ok := d.hostLines[f.s]; ok {
		return
	}
	known := []string{LocalHost}
	for n := range d.hostLines {
		known = append(known, n)
	}
	slices.Sort(known[1:])
	d.errf(f.val, "%s in %s names unknown host %q; hosts: %s (add it to the scenario's hosts: list)", f.def.name, ctx, f.s, strings.Join(known, ", "))
}

// HostNames lists the hosts the scenario's targets and drills run on, the
// local host first when anything runs here.
func (s *Scenario) HostNames() []string {
	used := map[string]bool{}
	for _, t := range s.Targets {
		used[t.HostOf()] = true
	}
	var out []string
	if used[LocalHost] {
		out = append(out, LocalHost)
	}
	for _, h := range s.Hosts {
		if used[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}

// MultiHost reports whether the scenario runs on other hosts than this one
// (a hosts: list), so a coordinator drives it.
func (s *Scenario) MultiHost() bool { return len(s.Hosts) > 0 }
