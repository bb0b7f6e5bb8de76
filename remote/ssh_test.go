package remote

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSSHArgv(t *testing.T) {
	defaults := []string{"-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"}
	tests := []struct {
		name string
		ssh  *SSH
		dest string
		want []string
	}{
		{
			// A bare host: user and port are left to ~/.ssh/config.
			name: "bare", dest: "db1",
			want: slices.Concat([]string{"ssh", "-T", "-o", "BatchMode=yes"}, defaults, []string{"--", "db1", "CMD"}),
		},
		{
			// User and port become -l and -p, IPv6 without brackets.
			name: "user port v6", dest: "admin@[2001:db8::7]:2222",
			want: slices.Concat([]string{"ssh", "-T", "-o", "BatchMode=yes"}, defaults, []string{"-l", "admin", "-p", "2222", "--", "2001:db8::7", "CMD"}),
		},
		{
			// A config file, the caller's options before the defaults (ssh
			// keeps the first value), and a wrapper around ssh.
			name: "config options wrapper", dest: "root@h:22",
			ssh: &SSH{Command: []string{"ip", "netns", "exec", "ns1", "ssh"}, ConfigFile: "/tmp/c", Options: []string{"ServerAliveInterval=1"}},
			want: slices.Concat([]string{"ip", "netns", "exec", "ns1", "ssh", "-T", "-o", "BatchMode=yes", "-F", "/tmp/c", "-o", "ServerAliveInterval=1"},
				defaults, []string{"-l", "root", "-p", "22", "--", "h", "CMD"}),
		},
		{
			// Durations round up to whole seconds, never 0 (ssh reads 0 as "off").
			name: "timeouts", dest: "h",
			ssh:  &SSH{ConnectTimeout: 1500 * time.Millisecond, AliveInterval: time.Millisecond, AliveCount: 2},
			want: []string{"ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "--", "h", "CMD"},
		},
	}
	for _, tt := range tests {
		d, err := ParseDest(tt.dest)
		if err != nil {
			t.Fatal(err)
		}
		if tt.ssh == nil {
			tt.ssh = &SSH{}
		}
		if got := tt.ssh.argv(d, "CMD"); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain-word_1.0", "plain-word_1.0"},           // nothing to quote
		{"", "''"},                                     // an empty argument stays an argument
		{"two words", "'two words'"},                   // a blank
		{"it's", `'it'\''s'`},                          // a single quote
		{"$HOME;rm -rf /", "'$HOME;rm -rf /'"},         // expansion and command separators
		{"lunbench 0.1.0 (x)", "'lunbench 0.1.0 (x)'"}, // a version line
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	// The lines are OpenSSH 9.2's, as ssh printed them here.
	tests := []struct {
		name  string
		lines []string
		kind  error
		quote string
	}{
		{"refused", []string{"ssh: connect to host 198.19.17.11 port 2217: Connection refused"}, ErrUnreachable, "Connection refused"},
		{"no route", []string{"ssh: connect to host 198.19.17.99 port 22: No route to host"}, ErrUnreachable, "No route"},
		{"timeout", []string{"ssh: connect to host 198.19.17.99 port 22: Connection timed out"}, ErrUnreachable, "timed out"},
		{"dns", []string{"ssh: Could not resolve hostname nosuch: Name or service not known"}, ErrUnreachable, "resolve"},
		{"auth", []string{"root@198.19.17.11: Permission denied (publickey)."}, ErrAuthRefused, "Permission denied (publickey)"},
		{"unknown key", []string{"No ED25519 host key is known for [198.19.17.11]:2217 and you have requested strict checking.", "Host key verification failed."}, ErrHostKey, "No ED25519 host key is known"},
		{"changed key", []string{"@@@@@@@@@@@@", "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @", "Host key verification failed."}, ErrHostKey, "REMOTE HOST IDENTIFICATION HAS CHANGED"},
		{"server died", []string{"Connection to 198.19.17.11 closed by remote host."}, ErrConnectionLost, "closed by remote host"},
		{"keepalive", []string{"Timeout, server 198.19.17.11 not responding."}, ErrConnectionLost, "not responding"},
		{"other", []string{"Warning: Permanently added '[h]:22' (ED25519) to the list of known hosts.", "Bad configuration option: foo"}, ErrSSH, "Bad configuration option"},
		{"silent", nil, ErrSSH, "said nothing"},
	}
	for _, tt := range tests {
		kind, line := classify(tt.lines)
		if kind != tt.kind || !strings.Contains(line, tt.quote) {
			t.Errorf("%s: %v %q; want %v quoting %q", tt.name, kind, line, tt.kind, tt.quote)
		}
		e := &SSHError{Host: Host{Name: "h2", SSH: "root@h2"}, Kind: kind, Line: line}
		if !errors.Is(e, tt.kind) || !strings.HasPrefix(e.Error(), "host h2 (root@h2): ") {
			t.Errorf("%s: error %q", tt.name, e)
		}
	}
}

func TestCanRun(t *testing.T) {
	tests := []struct {
		goos, goarch, os, m string
		ok                  bool
	}{
		{"linux", "amd64", "Linux", "x86_64", true},   // the usual initiator
		{"linux", "arm64", "Linux", "aarch64", true},  // an ARM server
		{"linux", "amd64", "Linux", "aarch64", false}, // the copy would not run
		{"linux", "arm", "Linux", "armv7l", true},     // a 32-bit ARM board
		{"linux", "amd64", "Darwin", "x86_64", false}, // another system
		{"illumos", "amd64", "SunOS", "x86_64", true}, // OmniOS
		{"linux", "amd64", "Linux", "sparc64", false}, // unknown to the table
	}
	for _, tt := range tests {
		if err := canRun(tt.goos, tt.goarch, tt.os, tt.m); (err == nil) != tt.ok {
			t.Errorf("canRun(%s/%s on %s %s) = %v", tt.goos, tt.goarch, tt.os, tt.m, err)
		}
	}
}

func TestCacheDirName(t *testing.T) {
	got := cacheDirName("0.1.0+dirty/x", "linux", "amd64", "ea8dc2298770aabbccdd")
	if got != "0.1.0_dirty_x-linux-amd64-ea8dc2298770" {
		t.Errorf("cacheDirName = %q", got)
	}
}
