package preflight

import (
	"strings"
	"testing"
	"time"
)

func TestCauses(t *testing.T) {
	s := time.Second
	routedVIP := netFiles([]string{"0.0.0.0/0 dev eth0 via 10.0.0.1", "10.0.0.0/24 dev eth0"},
		map[string]string{"10.0.0.1": "00:16:3e:00:00:01 eth0"}, nil)
	tests := []struct {
		name    string
		fixture string
		edit    map[string]string
		path    string
		dev     string
		kinds   []string      // the causes, in order
		arp     time.Duration // the ARP cause's bound
		iscsi   time.Duration // the iSCSI cause's bound
		value   string        // a value that must be listed
	}{
		// Reference 001: four causes, the portal on-link through eth1
		// with the kernel's neighbour defaults: 45 + 5 + 3 x 1 s.
		{name: "ref001", fixture: "good", path: "/dev/mapper/hydra_db-a02", dev: "dm-4",
			kinds: []string{"arp", "tcp", "iscsi", "no_path_retry"}, arp: 53 * s, iscsi: 20 * s, value: "10.10.8.0/24 dev eth1"},
		// Reference 000: no map, so no no_path_retry; eth1 keeps entries
		// reachable for 60 s, so a stale MAC can last 90 + 5 + 3 s.
		{name: "ref000 vip", fixture: "vip", path: "/dev/sdb", dev: "sdb",
			kinds: []string{"arp", "tcp", "iscsi"}, arp: 98 * s, iscsi: 130 * s, value: "00:16:3e:5a:00:01 flags 0x2 on eth1"},
		// The VIP is reached through a router: this host's ARP cache
		// plays no part (bound 0), the gateway's entry is shown.
		{name: "routed vip", fixture: "vip", path: "/dev/sdb", dev: "sdb", edit: routedVIP,
			kinds: []string{"arp", "tcp", "iscsi"}, arp: 0, iscsi: 130 * s, value: "0.0.0.0/0 dev eth0 via 10.0.0.1"},
		// Not reached through an IP: no causes at all.
		{name: "loop", fixture: "vip", path: "/dev/loop0", dev: "loop0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := ReadFailover(fixtureHost(t, tt.fixture, tt.edit), "lun0", tt.path, tt.dev, "").Causes(60 * time.Second)
			var kinds []string
			var all []string
			for _, c := range cs {
				kinds = append(kinds, c.Cause)
				for _, v := range c.Values {
					all = append(all, v.Value)
					if v.Name == "" || v.Source == "" {
						t.Errorf("%s: value without a name or source: %+v", c.Cause, v)
					}
				}
				// A 60 s stall: only a cause bounded at 60 s or more accounts for it.
				if c.Accounts != (c.Bound >= 60*time.Second) {
					t.Errorf("%s: accounts %v with bound %v for a 60s stall", c.Cause, c.Accounts, c.Bound)
				}
				switch c.Cause {
				case "arp":
					if c.Bound != tt.arp {
						t.Errorf("arp bound %v, want %v", c.Bound, tt.arp)
					}
				case "iscsi":
					if c.Bound != tt.iscsi {
						t.Errorf("iscsi bound %v, want %v", c.Bound, tt.iscsi)
					}
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.kinds, ",") {
				t.Fatalf("causes %v, want %v", kinds, tt.kinds)
			}
			if tt.value != "" && !strings.Contains(strings.Join(all, "|"), tt.value) {
				t.Errorf("no value %q among %q", tt.value, all)
			}
		})
	}
}

// TestTCPCause checks the host's TCP limits are listed with the SYN
// schedule they give.
func TestTCPCause(t *testing.T) {
	f := ReadFailover(fixtureHost(t, "vip", nil), "lun0", "/dev/sdb", "sdb", "scsi")
	c := f.tcpCause()
	if len(c.Values) != 2 || c.Values[0].Value != "15" || c.Values[1].Value != "6" {
		t.Fatalf("values %+v", c.Values)
	}
	if !strings.Contains(c.Explain, "gives up after 127s") {
		t.Errorf("explain %q", c.Explain)
	}
}
