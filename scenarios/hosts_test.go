package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// twoHosts is a valid scenario on this machine and two hosts.
const twoHosts = `name: two
hosts:
  - name: h1
    ssh: root@198.18.0.1
  - name: h2
    ssh: "admin@[2001:db8::2]:2222"
on_host_loss: stop
targets:
  - {name: a, path: /tmp/a, size: 1M}
  - {name: b, path: /tmp/b, size: 1M, host: h1}
  - {name: c, path: /tmp/c, size: 1M, host: h2}
phases:
  - name: p
    rw: randread
    bs: 4k
    duration: 5s
    drills:
      - {name: pull, at: 1s, inject: "true", on: h2}
`

func TestHostsDecode(t *testing.T) {
	s, probs := load(t, twoHosts, nil)
	if probs != nil {
		t.Fatal(probs)
	}
	want := []Host{{Name: "h1", SSH: "root@198.18.0.1"}, {Name: "h2", SSH: "admin@[2001:db8::2]:2222"}}
	if got := stripPos(s).Hosts; !slices.Equal(got, want) {
		t.Errorf("hosts = %+v, want %+v", got, want)
	}
	if s.OnHostLoss != Stop {
		t.Errorf("on_host_loss = %q", s.OnHostLoss)
	}
	if got := []string{s.Targets[0].HostOf(), s.Targets[1].HostOf(), s.Targets[2].HostOf()}; !slices.Equal(got, []string{"local", "h1", "h2"}) {
		t.Errorf("target hosts = %v", got)
	}
	if s.Phases[0].Drills[0].On != "h2" {
		t.Errorf("drill on = %q", s.Phases[0].Drills[0].On)
	}
	if got := s.HostNames(); !slices.Equal(got, []string{"local", "h1", "h2"}) {
		t.Errorf("HostNames = %v", got)
	}
	roundTrip(t, s)
	// A scenario without hosts: keeps its old shape: no host loss policy.
	one, _ := load(t, "name: one\ntargets: [{name: a, path: /tmp/a, size: 1M}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n", nil)
	if one.MultiHost() || one.OnHostLoss != "" || one.Hosts != nil {
		t.Errorf("local scenario got hosts: %+v %q", one.Hosts, one.OnHostLoss)
	}
}

func TestHostsBad(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
	}{
		// Two hosts of one name: which would host: h1 mean?
		{"duplicate", "hosts: [{name: h1, ssh: a@b}, {name: h1, ssh: a@c}]\n", `s.yaml:1:38: duplicate host name "h1" (first at line 2)`},
		// local is the machine running lunbench.
		{"reserved", "hosts: [{name: local, ssh: a@b}]\n", `s.yaml:1:16: host name "local" is reserved`},
		// A target on a host nobody listed.
		{"unknown target host", "hosts: [{name: h1, ssh: a@b}]\n", `names unknown host "h9"; hosts: local, h1`},
		// A drill on a host nobody listed.
		{"unknown drill host", "hosts: [{name: h1, ssh: a@b}]\n", `on in drill "d" names unknown host "h8"`},
		// A port that is no port.
		{"bad port", "hosts: [{name: h1, ssh: a@b:99999}]\n", `port "99999" is not a number from 1 to 65535`},
		// ssh would read a leading dash as an option.
		{"option injection", "hosts: [{name: h1, ssh: -oProxyCommand=x}]\n", `is not a host name or address`},
		// A space in the user.
		{"bad user", "hosts: [{name: h1, ssh: \"a b@c\"}]\n", `user "a b" is not a login name`},
		// An unclosed IPv6 bracket.
		{"bad ipv6", "hosts: [{name: h1, ssh: \"a@[::1\"}]\n", `IPv6 address without its closing ]`},
		// The policy is continue or stop.
		{"bad policy", "on_host_loss: retry\n", `unknown on_host_loss "retry"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "name: x\n" + c.src + `targets: [{name: a, path: /tmp/a, size: 1M, host: ` + map[bool]string{true: "h9", false: "local"}[c.name == "unknown target host"] + `}]
phases: [{name: p, rw: read, bs: 4k, duration: 2s, drills: [{name: d, at: 1s, inject: "true", on: ` + map[bool]string{true: "h8", false: "local"}[c.name == "unknown drill host"] + `}]}]
`
			_, probs := load(t, src, nil)
			got := strings.Join(probs, "\n")
			// The test's src has "name: x\n" first: shift the wanted line.
			want := strings.Replace(c.want, "s.yaml:1:", "s.yaml:2:", 1)
			if !strings.Contains(got, want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, want)
			}
		})
	}
}
