package remote

import (
	"testing"

	"lunbench/scenarios"
)

// TestDestinationsAgree: the scenario loader (scenarios.CheckSSHDestination)
// and the SSH transport (ParseDest) accept and refuse the same ssh:
// destinations, so a scenario that loads never fails at connect time for
// its spelling, and one refused is refused at load time with file:line.
func TestDestinationsAgree(t *testing.T) {
	for _, d := range []string{
		"root@198.18.0.1",         // the usual
		"admin@host.example:2222", // a port
		"db1",                     // user and port from ~/.ssh/config
		"a@[2001:db8::1]:22",      // IPv6 with a port
		"a@2001:db8::1",           // bare IPv6, as ssh reads it
		"a@[2001:db8::1]",         // IPv6 in brackets, no port
		"a@host:0",                // port 0
		"a@host:99999",            // port out of range
		"a@host:x",                // port not a number
		"-oProxyCommand=x",        // an option, not a host
		"a@-oProxyCommand=x",      // the same after a user
		"a b@host",                // a space in the user
		"a@ho st",                 // a space in the host
		"a@[::1",                  // an unclosed bracket
		"@host",                   // an empty user
		"a@",                      // no host
		"a@host;reboot",           // a shell character
	} {
		_, perr := ParseDest(d)
		cerr := scenarios.CheckSSHDestination(d)
		if (perr == nil) != (cerr == nil) {
			t.Errorf("%q: transport says %v, scenario loader says %v", d, perr, cerr)
		}
	}
}
