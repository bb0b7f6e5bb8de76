package sshtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestLab: each host answers ssh on its own address with its own HOME and
// PATH, and only a known host key and the lab's user key get in.
func TestLab(t *testing.T) {
	l := New(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, h := range l.Hosts {
		out, err := l.Command(ctx, "ssh", "-F", l.Config, "-T", "-o", "BatchMode=yes", "-p", "2217",
			"root@"+h.Addr, `echo "$HOME|$XDG_CACHE_HOME|${PATH%%:*}"; ip -4 -o addr show dev eth0`).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: ssh: %v\n%s", h.Name, err, out)
		}
		lines := strings.Split(string(out), "\n")
		if want := h.Home + "|" + h.Home + "/.cache|" + h.Bin; lines[0] != want {
			t.Errorf("%s: environment %q, want %q", h.Name, lines[0], want)
		}
		if !strings.Contains(lines[1], h.Addr+"/24") {
			t.Errorf("%s: the session runs outside the host's namespace: %q", h.Name, lines[1])
		}
		// The server's side of a connection ends a moment after the client's.
		for end := time.Now().Add(5 * time.Second); len(h.Sessions()) != 0 && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		if len(h.Sessions()) != 0 {
			t.Errorf("%s: connection processes remain after ssh exited: %v", h.Name, h.Sessions())
		}
	}
	// A key no host accepts, and a known_hosts that knows no host.
	for name, conf := range map[string]string{
		"other key":        l.ClientConfig(l.NewKey("other"), l.Dir+"/known_hosts"),
		"unknown host key": l.ClientConfig(l.UserKey, "/dev/null"),
	} {
		out, err := l.Command(ctx, "ssh", "-F", conf, "-T", "-o", "BatchMode=yes", "-p", "2217", "root@"+l.Hosts[0].Addr, "true").CombinedOutput()
		if err == nil {
			t.Errorf("%s: ssh got in: %s", name, out)
		}
	}
}
