package main

import (
	"strings"
	"testing"

	"lunbench/scenarios"
)

// TestCheckLocalShare: `check --scenario` of a scenario with hosts: checks
// this machine's targets only and says the other hosts are checked by
// their agents; a scenario without hosts: is checked whole.
func TestCheckLocalShare(t *testing.T) {
	for _, c := range []struct {
		name, src string
		targets   []string // checked here
		note      string
	}{
		// One target here, one on h1.
		{"mixed", "hosts: [{name: h1, ssh: a@b}]\ntargets: [{name: here, path: /x}, {name: there, path: /y, host: h1}]\n", []string{"here"}, "hosts h1 are checked"},
		// Nothing here: nothing to check on this machine.
		{"all remote", "hosts: [{name: h1, ssh: a@b}]\ntargets: [{name: there, path: /y, host: h1}]\n", nil, "hosts h1 are checked"},
		// No hosts: the scenario as it is, no note.
		{"local", "targets: [{name: here, path: /x}]\n", []string{"here"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := scenarios.Parse("c.yaml", []byte("name: c\n"+c.src+"phases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			local, note := localShare(sc)
			var got []string
			if local != nil {
				for _, tg := range local.Targets {
					got = append(got, tg.Name)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.targets, ",") || !strings.Contains(note, c.note) || (c.note == "") != (note == "") {
				t.Errorf("targets %v note %q; want %v and a note with %q", got, note, c.targets, c.note)
			}
		})
	}
}
