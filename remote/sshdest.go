package remote

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Dest is an SSH destination as a scenario writes it: user@host[:port].
// An empty User or a zero Port leaves the choice to ssh (~/.ssh/config, then
// ssh's defaults).
type Dest struct {
	User string
	Host string // a name, an IPv4 address or an IPv6 address (without brackets)
	Port int
}

// ParseDest parses user@host[:port]. An IPv6 address takes a port only in
// brackets ([2001:db8::1]:2222); without brackets the whole of it is the
// host, as ssh reads it. Host names are what ssh and ~/.ssh/config accept:
// letters, digits, '.', '-' and '_', not starting with '-'.
func ParseDest(s string) (Dest, error) {
	var d Dest
	if s == "" {
		return d, fmt.Errorf("empty ssh destination: expected user@host[:port]")
	}
	fail := func(format string, args ...any) (Dest, error) {
		return Dest{}, fmt.Errorf("ssh destination %q: "+format+"; expected user@host[:port]", append([]any{s}, args...)...)
	}
	rest := s
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		d.User, rest = rest[:i], rest[i+1:]
		if d.User == "" {
			return fail("empty user before '@'")
		}
		if j := strings.IndexFunc(d.User, badUserRune); j >= 0 {
			return fail("user %q has a character ssh cannot take (%q)", d.User, d.User[j])
		}
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return fail("%v", err)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 || port[0] == '0' {
			return fail("port %q is not a number from 1 to 65535", port)
		}
		d.Port = p
	}
	d.Host = host
	return d, nil
}

// splitHostPort splits host[:port], [v6]:port, [v6] and a bare IPv6 address.
func splitHostPort(s string) (host, port string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("no host")
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("'[' without ']'")
		}
		host, after := s[1:end], s[end+1:]
		if !isIPv6(host) {
			return "", "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
		switch {
		case after == "":
		case after[0] == ':' && len(after) > 1:
			port = after[1:]
		default:
			return "", "", fmt.Errorf("%q after ']': expected :port", after)
		}
		return host, port, nil
	}
	if strings.Count(s, ":") > 1 {
		// A bare IPv6 address: ssh takes it whole, and so do we.
		if !isIPv6(s) {
			return "", "", fmt.Errorf("%q is neither host:port nor an IPv6 address (write [addr]:port for a port)", s)
		}
		return s, "", nil
	}
	host, port, _ = strings.Cut(s, ":")
	if host == "" {
		return "", "", fmt.Errorf("no host before ':'")
	}
	if strings.Contains(s, ":") && port == "" {
		return "", "", fmt.Errorf("no port after ':'")
	}
	if host[0] == '-' {
		return "", "", fmt.Errorf("host %q starts with '-'", host)
	}
	if i := strings.IndexFunc(host, badHostRune); i >= 0 {
		return "", "", fmt.Errorf("host %q has a character a host name cannot have (%q)", host, host[i])
	}
	return host, port, nil
}

// isIPv6 tells whether s is an IPv6 address, with an optional %zone of
// host-name characters.
func isIPv6(s string) bool {
	addr, zone, hasZone := strings.Cut(s, "%")
	if hasZone && (zone == "" || strings.IndexFunc(zone, badHostRune) >= 0) {
		return false
	}
	return strings.Contains(addr, ":") && net.ParseIP(addr) != nil
}

func badHostRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
}

// badUserRune rejects what would change the meaning of ssh's command line
// or of the remote login: blanks, control characters, '@', ':' and '/'.
func badUserRune(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '@' || r == ':' || r == '/' || r == '\''
}

// String writes the destination back as user@host[:port], with brackets
// around an IPv6 address that has a port.
func (d Dest) String() string {
	var b strings.Builder
	if d.User != "" {
		b.WriteString(d.User + "@")
	}
	switch {
	case d.Port == 0:
		b.WriteString(d.Host)
	case strings.Contains(d.Host, ":"):
		b.WriteString("[" + d.Host + "]:" + strconv.Itoa(d.Port))
	default:
		b.WriteString(d.Host + ":" + strconv.Itoa(d.Port))
	}
	return b.String()
}
