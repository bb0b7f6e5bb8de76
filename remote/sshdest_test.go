package remote

import (
	"strings"
	"testing"

	"lunbench/scenarios"
)

func TestParseDest(t *testing.T) {
	tests := []struct {
		in   string
		want Dest
		err  string // a part of the error; empty when it parses
	}{
		// A bare host leaves user and port to ssh and ~/.ssh/config.
		{in: "db1", want: Dest{Host: "db1"}},
		// The usual user@host.
		{in: "root@db1.example.com", want: Dest{User: "root", Host: "db1.example.com"}},
		// A port after the host.
		{in: "admin@198.18.0.10:2222", want: Dest{User: "admin", Host: "198.18.0.10", Port: 2222}},
		// An IPv6 address with a port goes in brackets.
		{in: "root@[2001:db8::1]:22", want: Dest{User: "root", Host: "2001:db8::1", Port: 22}},
		// Brackets without a port.
		{in: "[fe80::1%eth0]", want: Dest{Host: "fe80::1%eth0"}},
		// A bare IPv6 address is all host, as ssh reads it.
		{in: "root@2001:db8::1", want: Dest{User: "root", Host: "2001:db8::1"}},
		// The last '@' splits: ssh does the same.
		{in: "a@b@host", err: "character ssh cannot take"},
		// ssh config aliases may have underscores.
		{in: "lab_host-2", want: Dest{Host: "lab_host-2"}},
		// Nothing at all.
		{in: "", err: "empty ssh destination"},
		// An empty user.
		{in: "@host", err: "empty user"},
		// No host after the user.
		{in: "root@", err: "no host"},
		// A port that is not a number.
		{in: "host:ssh", err: `port "ssh" is not a number`},
		// Port 0 and ports over 65535.
		{in: "host:0", err: "from 1 to 65535"},
		{in: "host:65536", err: "from 1 to 65535"},
		// A leading zero would read as another port elsewhere.
		{in: "host:022", err: "from 1 to 65535"},
		// A colon with nothing after it.
		{in: "host:", err: "no port after ':'"},
		// A host that ssh would take for an option.
		{in: "-oProxyCommand=x", err: "starts with '-'"},
		// Blanks and shell characters have no place in a host name.
		{in: "root@host name", err: "a host name cannot have"},
		{in: "host;reboot", err: "a host name cannot have"},
		// An unclosed bracket.
		{in: "[2001:db8::1", err: "'[' without ']'"},
		// Brackets around something that is not IPv6.
		{in: "[db1]:22", err: "not an IPv6 address"},
		// Junk after the bracket.
		{in: "[::1]22", err: "expected :port"},
		// Many colons that are not an IPv6 address.
		{in: "a:b:c", err: "neither host:port nor an IPv6 address"},
		// A zone with a blank in it.
		{in: "[fe80::1%eth 0]:22", err: "not an IPv6 address"},
		// A user with a blank in it.
		{in: "ro ot@host", err: "character ssh cannot take"},
	}
	for _, tt := range tests {
		got, err := ParseDest(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDest(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDest(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseDest: whatever parses writes back to a string that parses to the
// same destination, and no host or user can smuggle an option or a blank
// onto ssh's command line.
func FuzzParseDest(f *testing.F) {
	for _, s := range []string{"root@db1:22", "[2001:db8::1]:2222", "fe80::1%eth0", "u@h", "h:", "[::1]", "a@b@c", "-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDest(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseDest(%q): empty error", s)
			}
			return
		}
		if d.Host == "" || strings.HasPrefix(d.Host, "-") || strings.ContainsAny(d.Host+d.User, " \t\n'") {
			t.Fatalf("ParseDest(%q) = %+v: unsafe for ssh's command line", s, d)
		}
		if d.Port < 0 || d.Port > 65535 {
			t.Fatalf("ParseDest(%q): port %d", s, d.Port)
		}
		again, err := ParseDest(d.String())
		if err != nil || again != d {
			t.Fatalf("ParseDest(%q) = %+v; its String %q parses to %+v, %v", s, d, d.String(), again, err)
		}
	})
}

// FuzzDestAgreesWithScenario: every destination the scenario loader
// accepts (scenarios.CheckSSHDestination, at load time, with file:line)
// parses here too, so no run fails at connect time on a destination the
// loader let through.
func FuzzDestAgreesWithScenario(f *testing.F) {
	for _, s := range []string{"root@db1:22", "[2001:db8::1]:2222", "db1", "u@h", "h:", "[::1]", "a.b-c_d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if scenarios.CheckSSHDestination(s) != nil {
			return
		}
		if _, err := ParseDest(s); err != nil {
			t.Fatalf("the scenario loader accepts %q, the transport does not: %v", s, err)
		}
	})
}
